"""Stage 6: predict the digit in an image (or many) with the saved final model.

    python predict_image.py                      # sample_image.png -> prints 7
    python predict_image.py my_digit.jpg photos/ --top-k 3

Real photos and drawings do not look like MNIST digits (white ink on black,
fitted into 20x20 and centred by mass in 28x28), so each image is first made
to look like one by the handwriting package, following how MNIST itself was
made; --raw keeps the tutorial's plain grayscale + resize instead.
docs/own_images.md has the details.
"""
import argparse
import json
import os
import sys

import numpy as np

import handwriting
import harness
from plumbing.cli import UserError
from plumbing import cli
from plumbing.files import load_model, save_figure

# the default image, beside this script (so it is found from any folder)
SAMPLE_IMAGE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sample_image.png")


def load_image(path, raw=False):
    """One image file -> a (28, 28, 1) float32 array in [0, 1], as the model expects.

    raw: the tutorial's load_image() (grayscale, resize to 28x28, scale to [0, 1]); otherwise the
    handwriting package makes it look like an MNIST digit first.
    """
    if not raw:
        return handwriting.read_digit(path)
    return handwriting.plain_resize(handwriting.open_image(path)).reshape(28, 28, 1)


def save_preprocessed(digits, titles, path):
    """A grid of what the model sees, one panel per image, titled with the prediction."""
    cli.headless()  # to a file, never a window (a notebook kernel keeps its own backend)
    import matplotlib.pyplot as plt
    cols = min(len(digits), 8)
    rows = -(-len(digits) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(1.6 * cols, 1.8 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, digit, title in zip(axes.flat, digits, titles):
        ax.imshow(digit[:, :, 0], cmap="gray", vmin=0, vmax=1)
        ax.set_title(title, fontsize=7)
    save_figure(fig, path)


def read_images(paths, raw):
    """Image files (directories read for their images) -> (paths read, their digits, error lines), each
    error reported on stderr as it comes: a bad file does not stop the others."""
    files, errors = handwriting.expand_paths(paths)
    for message in errors:
        print(f"predict_image.py: error: {message}", file=sys.stderr)
    loaded, digits = [], []
    for path in files:
        try:
            digits.append(load_image(path, raw))
            loaded.append(path)
        except UserError as e:
            errors.append(str(e))
            print(f"predict_image.py: error: {e}", file=sys.stderr)
    return loaded, digits, errors


def report(paths, probs, single, top_k=None, as_json=False):
    """Print each prediction: the digit alone for a single image (the tutorial's output), else path: guesses."""
    results = []
    for path, p in zip(paths, probs):
        order = np.argsort(-p)[:top_k or 1]
        results.append({"path": path, "digit": int(order[0]), "probability": round(float(p[order[0]]), 6)})
        if top_k:
            results[-1]["top_k"] = [{"digit": int(d), "probability": round(float(p[d]), 6)} for d in order]
    if as_json:
        print(json.dumps(results, indent=1))
        return
    for r in results:
        if single and not top_k:
            print(r["digit"])  # the tutorial's output: the digit alone
            continue
        guesses = ", ".join(f"{t['digit']} (p={t['probability']:.3f})" for t in r.get("top_k", [r]))
        print(guesses if single else f"{r['path']}: {guesses}")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="predict_image.py", description=__doc__.splitlines()[0])
    parser.add_argument("images", nargs="*", default=[SAMPLE_IMAGE], metavar="IMAGE",
                        help="image files or directories of images (default: the sample_image.png beside this script)")
    parser.add_argument("--model", default="final_model.h5", metavar="PATH",
                        help="the model to use (default: final_model.h5)")
    parser.add_argument("--raw", action="store_true",
                        help="the tutorial's preprocessing only: grayscale and resize to 28x28")
    parser.add_argument("--top-k", type=int, metavar="K", help="show the K most likely digits with probabilities")
    parser.add_argument("--json", action="store_true", help="print a JSON list of {path, digit, probability}")
    parser.add_argument("--show-preprocessed", metavar="FILE.png",
                        help="save the 28x28 images the model sees as a PNG image (a grid for several images)")
    args = parser.parse_args(argv)
    if args.top_k is not None and not 1 <= args.top_k <= 10:
        parser.error("--top-k must be between 1 and 10")

    def predict():
        if args.show_preprocessed and not args.show_preprocessed.lower().endswith(".png"):
            raise UserError(f"{args.show_preprocessed}: --show-preprocessed saves a PNG image: name it .png")
        loaded, digits, errors = read_images(args.images, args.raw)
        if loaded:
            model = load_model(args.model)
            # predict the class
            probs = model.predict(np.stack(digits), batch_size=harness.EVAL_BATCH_SIZE, verbose=0)
            single = len(args.images) == 1 and os.path.isfile(args.images[0])
            report(loaded, probs, single, args.top_k, args.json)
            if args.show_preprocessed:
                titles = [f"{os.path.basename(p)[:14]}: {int(np.argmax(q))}" for p, q in zip(loaded, probs)]
                save_preprocessed(digits, titles, args.show_preprocessed)
        if errors:
            sys.exit(1)

    cli.run(predict, "predict_image.py")


if __name__ == "__main__":
    main()
