"""Stage 6: predict the digit in an image (or many) with the saved final model; a number is read whole.

    python predict_image.py                      # sample_image.png -> prints 7
    python predict_image.py my_number.jpg        # -> 2026 (lines read top to bottom: 45 78)
    python predict_image.py my_digit.jpg photos/ --top-k 3

Real photos and drawings do not look like MNIST digits (white ink on black,
fitted into 20x20 and centred by mass in 28x28), so each digit found in an
image is first made to look like one by the handwriting package, following
how MNIST itself was made; a digit the model is unsure of prints as ?, and an
image without one prints "no digit". --raw keeps the tutorial's plain
grayscale + resize of the whole image instead. docs/own_images.md has the details.
"""
import argparse
import json
import os
import sys

import numpy as np

from plumbing.cli import UserError
from plumbing import cli
from plumbing.files import save_figure
from network import saved_model

# handwriting (scikit-image, SciPy) and Keras are imported where they are used, after the flags are read:
# --help and a mistake answer at once, not after the 6-9 s of importing TensorFlow.

# the default image, beside this script (so it is found from any folder)
SAMPLE_IMAGE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sample_image.png")


def load_image(path, raw=False):
    """One image file -> a (28, 28, 1) float32 array in [0, 1], as the model expects.

    raw: the tutorial's load_image() (grayscale, resize to 28x28, scale to [0, 1]); otherwise the
    handwriting package makes it look like an MNIST digit first.
    """
    import handwriting

    if not raw:
        return handwriting.read_digit(path)
    return handwriting.plain_resize(handwriting.open_image(path)).reshape(28, 28, 1)


def shortened(name, width=18):
    """A file name that fits under a panel of the grid: cut in the middle, so its start and its end (the
    number in IMG_20261201_1234.jpg, the extension) both show."""
    if len(name) <= width:
        return name
    tail = (width - 1) // 2
    return name[:width - 1 - tail] + "\u2026" + name[-tail:]


def looks_dark_on_light(digit):
    """A plain-resized image that is mostly light: dark ink on light paper, where MNIST's digits are light
    ink on black (its mean is 0.13); over 0.5, the model reads its paper as the digit."""
    return float(np.mean(digit)) > 0.5


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
    """Image files (directories read for their images) -> (paths read, their images, error lines), each
    error reported on stderr as it comes: a bad file does not stop the others. The images are the
    28x28 digits with --raw, else grayscale arrays (handwriting.grayscale) to find digits in."""
    import handwriting

    files, errors = handwriting.expand_paths(paths)
    for message in errors:
        print(f"predict_image.py: error: {message}", file=sys.stderr)
    loaded, images = [], []
    for path in files:
        try:
            images.append(load_image(path, raw) if raw else handwriting.grayscale(handwriting.open_image(path)))
            loaded.append(path)
        except UserError as e:
            errors.append(str(e))
            print(f"predict_image.py: error: {e}", file=sys.stderr)
    return loaded, images, errors


def raw_answers(model, digits, top_k=None):
    """The tutorial's reading, one digit per image: {digit, probability (, top_k)} each."""
    probs, _ = saved_model.predict(model, np.stack(digits))
    results = []
    for p in probs:
        order = np.argsort(-p)[:top_k or 1]
        results.append({"digit": int(order[0]), "probability": round(float(p[order[0]]), 6)})
        if top_k:
            results[-1]["top_k"] = [{"digit": int(d), "probability": round(float(p[d]), 6)} for d in order]
    return results


def guesses(answer):
    """A digit's answer as text: "7 (p=0.998)", or its top_k, "7 (p=0.998), 1 (p=0.001)"."""
    return ", ".join(f"{t['digit']} (p={t['probability']:.3f})" for t in answer.get("top_k", [answer]))


def answer_text(answer, single, top_k=None):
    """One image's answer as printed: the number ("2026", "20?6", "no digit"); one digit as before numbers
    were read (alone for a single image, else or with --top-k its guesses); several with --top-k, each
    digit's guesses."""
    if "number" in answer and not answer["number"]:
        return "no digit"
    if "digits" not in answer or len(answer["digits"]) == 1:
        if top_k or not single:
            if answer["digit"] is None:  # unsure: "?", and what it might be
                return "? " + (guesses(answer) if top_k else f"(p={answer['probability']:.3f})")
            return guesses(answer)
        return str(answer.get("number", answer["digit"]))
    if not top_k:
        return answer["number"]
    # a number with --top-k: the number, then one line per digit with its guesses
    return "\n".join([answer["number"], *(f"  digit {i}: " + ("? " if d["digit"] is None else "") + guesses(d)
                                          for i, d in enumerate(answer["digits"], 1))])


def report(paths, answers, single, top_k=None, as_json=False):
    """Print each answer: alone for a single image (the tutorial's output), else path: answer; or as JSON."""
    if as_json:
        print(json.dumps([{"path": path, **answer} for path, answer in zip(paths, answers)], indent=1))
        return
    for path, answer in zip(paths, answers):
        text = answer_text(answer, single, top_k)
        print(text if single else f"{path}: {text}")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="predict_image.py", description=__doc__.splitlines()[0])
    parser.add_argument("images", nargs="*", default=[SAMPLE_IMAGE], metavar="IMAGE",
                        help="image files or directories of images (default: the sample_image.png beside this script)")
    cli.add_flag(parser, "model")
    parser.add_argument("--raw", action="store_true",
                        help="the tutorial's preprocessing only: grayscale and resize to 28x28")
    parser.add_argument("--top-k", type=int, metavar="K", help="show the K most likely digits with probabilities")
    parser.add_argument("--json", action="store_true",
                        help="print a JSON list of {path, number, digits (each: digit, probability, box, ...)}, "
                             "and for one digit also its digit and probability")
    parser.add_argument("--show-preprocessed", metavar="FILE.png",
                        help="save the 28x28 images the model sees as a PNG image (a grid for several images)")
    args = parser.parse_args(argv)
    if args.top_k is not None and not 1 <= args.top_k <= 10:
        parser.error("--top-k must be between 1 and 10")

    def predict():
        import handwriting

        if args.show_preprocessed and not args.show_preprocessed.lower().endswith(".png"):
            raise UserError(f"{args.show_preprocessed}: --show-preprocessed saves a PNG image: name it .png")
        loaded, images, errors = read_images(args.images, args.raw)
        if loaded:
            model = saved_model.load(args.model)
            # predict the class: with --raw one digit per image, else every digit found, all in one batch
            if args.raw:
                answers, digits = raw_answers(model, images, args.top_k), [[image] for image in images]
            else:
                candidates = [handwriting.find_digits(gray) for gray in images]
                answers = handwriting.read_numbers(model, images, args.top_k, candidates)
                digits = [[c.image.reshape(28, 28, 1) for c in found] for found in candidates]
            single = len(args.images) == 1 and os.path.isfile(args.images[0])
            report(loaded, answers, single, args.top_k, args.json)
            dark_on_light = [path for path, image in zip(loaded, images) if args.raw and looks_dark_on_light(image)]
            if dark_on_light:
                which = f"{dark_on_light[0]} is" if single else f"{len(dark_on_light)} of {len(loaded)} images are"
                print(f"predict_image.py: hint: {which} dark ink on light paper; --raw skips making digits look "
                      "like MNIST's (light ink on black), so the answer is likely wrong: leave out --raw",
                      file=sys.stderr)
            if args.show_preprocessed:
                shown = [(digit, f"{shortened(os.path.basename(path))}: "
                                 f"{'?' if entry['digit'] is None else entry['digit']}")
                         for path, found, answer in zip(loaded, digits, answers)
                         for digit, entry in zip(found, answer.get("digits", [answer]))]
                if shown:
                    save_preprocessed(*zip(*shown), args.show_preprocessed)
                    print(f"what the model sees: {args.show_preprocessed}", file=sys.stderr)
        if errors:
            sys.exit(1)

    cli.run(predict, "predict_image.py")


if __name__ == "__main__":
    cli.run_then_exit(main)
