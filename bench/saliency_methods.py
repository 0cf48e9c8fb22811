"""Which saliency map is clearer on MNIST digits: SmoothGrad, plain gradients or Grad-CAM (network_view.py).

    python -m bench.saliency_methods --model final_model.h5 [--count 200]

On the first --count digits of MNIST's test set, for each method:
  * on ink: the share of the map's mass on the digit's ink (pixels above 0) dilated by one pixel;
    a map a learner can read points at the strokes, not at the black around them;
  * deleted: the model's probability for its answer after the 20 pixels the map ranks highest are
    set to 0 (background), mean over the digits; the lower, the more the map found pixels that
    matter. "random 20" deletes 20 random ink pixels, for scale;
  * seconds per digit, on this machine.
"""
import argparse
import time

import plumbing.quiet  # noqa: F401  (before Keras)

import numpy as np
from scipy import ndimage

import harness
import network_view
from plumbing import cli, files
from plumbing.progress import describe_device

DELETED = 20
CANDIDATES = [("gradient", {"method": "gradient"}), ("gradcam", {"method": "gradcam"})] + [
    (f"smoothgrad noise {noise}", {"method": "smoothgrad", "noise": noise}) for noise in (0.05, 0.1, 0.15, 0.2, 0.3)]


def on_ink(saliency, image):
    ink = ndimage.binary_dilation(image > 0)
    return float(saliency[ink].sum() / saliency.sum()) if saliency.sum() > 0 else 0.0


def after_deleting(model, image, digit, order):
    out = image.copy().reshape(-1)
    out[order[:DELETED]] = 0
    return float(model.predict(out.reshape(1, 28, 28, 1), verbose=0)[0, digit])


def measure(path, count):
    model = files.load_model(path)
    _, (testX, _) = harness.load_mnist()
    images = harness.scale_pixels(testX[:count])
    answers = model.predict(images[..., None], batch_size=harness.EVAL_BATCH_SIZE, verbose=0).argmax(axis=1)
    rng = np.random.default_rng(0)
    print(f"{path}, first {count} MNIST test digits; {describe_device()}")
    print(f"| method | on ink (mean, min) | p(answer) after deleting its top {DELETED} | s per digit |")
    print("|---|---:|---:|---:|")
    shuffled = [rng.permutation(np.flatnonzero(image.reshape(-1) > 0)) for image in images]
    deleted = np.mean([after_deleting(model, im, d, o) for im, d, o in zip(images, answers, shuffled)])
    print(f"| random {DELETED} ink pixels | | {deleted:.3f} | |")
    for name, kwargs in CANDIDATES:
        start = time.perf_counter()
        maps = [network_view.saliency(model, image, digit=int(d), **kwargs) for image, d in zip(images, answers)]
        seconds = (time.perf_counter() - start) / count
        ink = [on_ink(s, image) for s, image in zip(maps, images)]
        deleted = np.mean([after_deleting(model, image, d, np.argsort(-s.reshape(-1), kind="stable"))
                           for image, d, s in zip(images, answers, maps)])
        print(f"| {name} | {np.mean(ink):.3f}, {np.min(ink):.3f} | {deleted:.3f} | {seconds:.3f} |", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="bench/saliency_methods.py", description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", required=True, metavar="PATH", help="repeat for several")
    parser.add_argument("--count", type=int, default=200, help="MNIST test digits (default: 200)")
    args = parser.parse_args(argv)
    cli.run(lambda: [measure(path, args.count) for path in args.model], "bench/saliency_methods.py")


if __name__ == "__main__":
    main()
