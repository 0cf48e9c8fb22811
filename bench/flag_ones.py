"""A 1 written with a flag (and a base) is read as 7: measure how often, for each model given.

    python -m bench.flag_ones --model final_model.h5 --model final_model_augment.h5 --model final_model_handwriting.h5

Each model on MNIST's test set, on 1s and 7s drawn in each style
(bench/sheet_digits.py's templates, dark on white, 200 of each) and on the 1s
and 7s of scikit-learn's load_digits at 112x112 bilinear (real handwriting,
many of its 1s have a flag and a base), all through the handwriting package's
preprocessing. (Training with flags on the 1s is train_final.py --flag-ones.)
"""
import argparse
import os

import numpy as np
from PIL import Image
from sklearn.datasets import load_digits

import harness
from plumbing import cli
import handwriting
from network import saved_model
from bench import sheet_digits


def drawn_set(digit, style, count, seed):
    """`count` digits drawn dark on white in one style, preprocessed as predict_image.py does."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        ink, _ = sheet_digits.draw_digit(digit, rng, style=style)
        paper = np.pad(1.0 - ink, 30, constant_values=1.0)
        out.append(handwriting.to_mnist(paper))
    return np.stack(out)[..., None]


def image_sets(count):
    """(name, images, labels) of every set measured: MNIST's test set, the drawn 1s and 7s, load_digits' 1s and 7s."""
    _, _, testX, testY = harness.load_dataset()
    testX = harness.scale_pixels(testX)
    digits = load_digits()
    renders = [np.asarray(Image.fromarray(np.uint8(255 - d * 255 / 16), "L").resize((112, 112), Image.BILINEAR),
                          np.float64) / 255 for d in digits.images]
    sets = [("MNIST test set", testX, testY.argmax(axis=1))]
    for digit, style in [(1, 0), (1, 1), (1, 2), (7, 0), (7, 1)]:
        name = f"drawn {digit}s, {sheet_digits.style_name(digit, style)} ({count})"
        sets.append((name, drawn_set(digit, style, count, seed=digit * 10 + style), np.full(count, digit)))
    for digit in (1, 7):
        chosen = np.flatnonzero(digits.target == digit)
        images = np.stack([handwriting.to_mnist(renders[i]) for i in chosen])[..., None]
        sets.append((f"load_digits {digit}s, 112x112 bilinear ({len(chosen)})", images, digits.target[chosen]))
    return sets


def score(model, images, labels, confusion=False):
    """A table cell: the share of `images` the model reads as their `labels`, and with `confusion` what the
    wrong ones were read as ("98.50% (3 as 7)")."""
    predicted = saved_model.predict(model, images)[0].argmax(axis=1)  # of the ten digits only
    right = predicted == labels
    wrong = np.bincount(predicted[~right], minlength=10) if confusion else np.zeros(10, int)
    read_as = ", ".join(f"{n} as {d}" for d, n in enumerate(wrong) if n)
    return f"{right.mean() * 100:.2f}%{f' ({read_as})' if read_as else ''}"


def measure(paths, count):
    models = [saved_model.load(p) for p in paths]
    print("| images |" + "".join(f" {os.path.basename(p)} |" for p in paths))
    print("| --- |" + " ---: |" * len(paths))
    for name, images, labels in image_sets(count):
        confusion = name.startswith(("drawn", "load_digits"))  # what the wrong ones were read as
        print(f"| {name} |" + "".join(f" {score(model, images, labels, confusion)} |" for model in models), flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.flag_ones", description=__doc__.splitlines()[0])
    cli.add_flag(parser, "model", action="append", required=True, default=None)
    parser.add_argument("--count", type=int, default=200, help="drawn digits of each style (default: 200)")
    args = parser.parse_args(argv)
    cli.run(lambda: measure(args.model, args.count), "python -m bench.flag_ones")


if __name__ == "__main__":
    main()
