"""Which saliency map is clearer on MNIST digits: SmoothGrad, plain gradients or Grad-CAM (network/view.py).

    python -m bench.saliency_methods --model final_model.h5 [--count 200] [--picture docs/visualize/methods.png]

On the first --count digits of MNIST's test set, for each method:
  * on ink: the share of the map's mass on the digit's ink (pixels above 0) dilated by one pixel;
    a map a learner can read points at the strokes, not at the black around them;
  * deleted: the model's probability for its answer after the 20 pixels the map ranks highest are
    set to 0 (background), mean over the digits; the lower, the more the map found pixels that
    matter. "random 20" deletes 20 random ink pixels, for scale;
  * seconds per digit, on this machine.
--picture draws the three maps side by side for the first four test digits (with the first --model).
"""
import argparse
import os
import time

import plumbing.quiet  # noqa: F401  (before Keras)

import numpy as np
from scipy import ndimage

import harness
from network import saved_model, view
from plumbing import cli, files
from plumbing.progress import describe_device

DELETED = 20
CANDIDATES = [("gradient", {"method": "gradient"}), ("gradcam", {"method": "gradcam"})] + [
    (f"smoothgrad noise {noise}", {"method": "smoothgrad", "noise": noise}) for noise in (0.05, 0.1, 0.15, 0.2, 0.3)]


def on_ink(saliency, image):
    ink = ndimage.binary_dilation(image > 0)
    return float(saliency[ink].sum() / saliency.sum()) if saliency.sum() > 0 else 0.0


def after_deleting(model, images, answers, orders):
    """The mean probability of each image's answer once its first DELETED pixels in `orders` are set to 0."""
    out = images.reshape(len(images), -1).copy()
    for pixels, order in zip(out, orders):
        pixels[order[:DELETED]] = 0
    probabilities, _ = saved_model.predict(model, out.reshape(-1, 28, 28, 1))
    return float(probabilities[np.arange(len(images)), answers].mean())


def measure(path, count):
    model = saved_model.load(path)
    _, (testX, _) = harness.load_mnist()
    images = harness.scale_pixels(testX[:count])
    answers = saved_model.predict(model, images[..., None])[0].argmax(axis=1)
    rng = np.random.default_rng(0)
    print(f"{path}, the first {count} MNIST test digits; {describe_device().replace('training on ', '')}")
    print(f"| method | on ink (mean, min) | p(answer) after deleting its top {DELETED} | s per digit |")
    print("|---|---:|---:|---:|")
    shuffled = [rng.permutation(np.flatnonzero(image.reshape(-1) > 0)) for image in images]
    deleted = after_deleting(model, images, answers, shuffled)
    print(f"| random {DELETED} ink pixels | | {deleted:.3f} | |")
    for name, kwargs in CANDIDATES:
        start = time.perf_counter()
        maps = [view.saliency(model, image, digit=int(d), **kwargs) for image, d in zip(images, answers)]
        seconds = (time.perf_counter() - start) / count
        ink = [on_ink(s, image) for s, image in zip(maps, images)]
        deleted = after_deleting(model, images, answers, [np.argsort(-s.reshape(-1), kind="stable") for s in maps])
        print(f"| {name} | {np.mean(ink):.3f}, {np.min(ink):.3f} | {deleted:.3f} | {seconds:.3f} |", flush=True)


def draw_methods(path, out, rows=4):
    """The first `rows` test digits, and each method's map of them."""
    from plumbing.cli import headless
    headless()
    import matplotlib.pyplot as plt

    model = saved_model.load(path)
    _, (testX, _) = harness.load_mnist()
    images = harness.scale_pixels(testX[:rows])
    methods = [("plain gradient", "gradient"), ("SmoothGrad", "smoothgrad"),
               ("Grad-CAM, last conv layer", "gradcam")]
    fig, axes = plt.subplots(rows, 4, figsize=(6.4, 1.7 * rows), layout="constrained")
    for row, image in zip(axes, images):
        answer = int(saved_model.predict(model, image[None, ..., None])[0].argmax())
        row[0].imshow(image, cmap="gray", vmin=0, vmax=1)
        row[0].set_ylabel(f"read as {answer}", fontsize=8)
        for ax, (_, method) in zip(row[1:], methods):
            heat = ax.imshow(view.saliency(model, image, digit=answer, method=method), cmap="inferno",
                             vmin=0, vmax=1)
            ax.contour(image, levels=[0.3], colors="cyan", linewidths=0.6)
        for ax in row:
            ax.set_xticks([])
            ax.set_yticks([])
    for ax, title in zip(axes[0], ["MNIST test digit", *(name for name, _ in methods)]):
        ax.set_title(title, fontsize=8)
    bar = fig.colorbar(heat, ax=axes[:, -1].tolist(), fraction=0.08)
    bar.set_label("how much the pixel counts (1: the most); cyan: the ink's outline", fontsize=7)
    bar.ax.tick_params(labelsize=7)
    fig.suptitle(f"Saliency of {os.path.basename(path)}'s answers, three ways", fontsize=9)
    files.save_figure(fig, out)
    print(f"saved {out}")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.saliency_methods", description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", required=True, metavar="PATH", help="repeat for several")
    parser.add_argument("--count", type=int, default=200, help="MNIST test digits (default: 200)")
    parser.add_argument("--picture", metavar="FILE.png", help="also draw the maps of four digits, side by side")
    args = parser.parse_args(argv)

    def run():
        if args.picture:
            draw_methods(args.model[0], args.picture)
        for path in args.model:
            measure(path, args.count)

    cli.run(run, "python -m bench.saliency_methods")


if __name__ == "__main__":
    main()
