"""How well predict_image.py reads digits that are not MNIST's, with and without its preprocessing.

    python -m bench.digits_accuracy --model final_model.h5 --model final_model_augment.h5 \
        [--real-digits ../shared/real_digits] [--set DIR ...] [--sheets 500]

Three kinds of set:
  * folders of labelled real-world images (labels.csv: file,label), such as
    the 33 photos and drawings in ../shared/real_digits, and any given with --set;
  * synthetic photos of a digit on a sheet of paper lying on a desk
    (bench/sheet_digits.py, seed 0), written to a temporary folder;
  * scikit-learn's load_digits: 1,797 real handwritten digits, 8x8 pixels,
    rendered as larger dark-on-white images (several sizes and resamplings),
    the way a user's scan or drawing arrives.
For each set and each model, the share predicted right with predict_image's
MNIST-style preprocessing, and with the tutorial's plain resize (--raw).
"""
import argparse
import os
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

import numpy as np
from PIL import Image
from sklearn.datasets import load_digits

from plumbing.cli import UserError
from plumbing import cli
import handwriting
from network import saved_model
from handwriting.labels import read_labels_csv
from bench import sheet_digits

REAL_DIGITS = os.path.normpath(os.path.join(ROOT, "..", "shared", "real_digits"))
# (size, resampling) of each rendering of load_digits; 112x112 bilinear is the one the targets name.
RENDERINGS = [(28, Image.NEAREST), (64, Image.NEAREST), (64, Image.BILINEAR), (112, Image.BILINEAR),
              (128, Image.BICUBIC)]
RESAMPLING_NAMES = {Image.NEAREST: "nearest", Image.BILINEAR: "bilinear", Image.BICUBIC: "bicubic"}


def real_digits_set(folder, name=None):
    """(name, preprocessed images, --raw images, labels, found) for a folder with labels.csv, or None.

    `found` says which images the preprocessing found a digit in; the others
    are black images in `preprocessed`, and count as wrong.
    """
    labels_csv = os.path.join(folder, "labels.csv")
    if not os.path.isfile(labels_csv):
        return None
    labelled = read_labels_csv(labels_csv)
    paths, labels = zip(*labelled)
    ours = [load_or_none(p) for p in paths]
    found = np.asarray([image is not None for image in ours])
    ours = np.stack([image if image is not None else np.zeros((28, 28, 1), np.float32) for image in ours])
    return (f"{name or folder} ({len(labels)} images)", ours,
            np.stack([handwriting.plain_resize(handwriting.open_image(p)) for p in paths])[..., None],
            np.asarray(labels, int), found)


def load_or_none(path):
    try:
        return handwriting.read_digit(path)
    except UserError:  # no digit found
        return None


def sheets_set(count, folder):
    """The synthetic sheet-on-a-desk photos, written to `folder` and read like any labelled folder."""
    sheet_digits.write_set(folder, count, seed=0)
    return real_digits_set(folder, "synthetic: a digit on a sheet of paper on a desk, bench/sheet_digits.py")


def load_digits_set(size, resample):
    """scikit-learn's 8x8 digits drawn dark on white at size x size: (name, preprocessed, --raw, labels, found)."""
    digits = load_digits()
    imgs = [Image.fromarray(np.uint8(255 - d * 255 / 16), "L").resize((size, size), resample)
            for d in digits.images]
    ours = np.stack([handwriting.to_mnist(np.asarray(i, np.float64) / 255) for i in imgs])[..., None]
    plain = np.stack([handwriting.plain_resize(i) for i in imgs])[..., None]
    name = f"sklearn load_digits, {size}x{size} {RESAMPLING_NAMES[resample]} ({len(imgs)} images)"
    return name, ours, plain, digits.target, np.ones(len(imgs), bool)


def accuracy(model, images, labels):
    probs, _ = saved_model.predict(model, images)
    return float(np.mean(probs.argmax(axis=1) == np.asarray(labels)))


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.digits_accuracy", description=__doc__.splitlines()[0])
    cli.add_flag(parser, "model", action="append", default=None, default_text=cli.MODEL)
    parser.add_argument("--real-digits", default=REAL_DIGITS, metavar="DIR")
    parser.add_argument("--set", action="append", default=[], metavar="DIR",
                        help="another folder of images with labels.csv (file,label); repeat for several")
    parser.add_argument("--sheets", type=int, default=500, metavar="N",
                        help="synthetic sheet-on-a-desk photos to generate and measure (default: 500; 0: none)")
    args = parser.parse_args(argv)
    paths = args.model or [cli.MODEL]

    def measure():
        models = [saved_model.load(p) for p in paths]
        sets = [s for s in [real_digits_set(folder) for folder in [args.real_digits, *args.set]] if s]
        if args.sheets:
            with tempfile.TemporaryDirectory() as folder:
                sets.append(sheets_set(args.sheets, folder))
        sets += [load_digits_set(size, resample) for size, resample in RENDERINGS]
        header = "".join(f" {p} | {p} --raw |" for p in paths)
        print(f"| images |{header}\n| --- |" + " ---: | ---: |" * len(paths))
        for name, ours, plain, labels, found in sets:
            cells = ""
            for model in models:
                for images, truth in ((ours, np.where(found, labels, -1)), (plain, labels)):
                    acc = accuracy(model, images, truth)
                    cells += f" {acc * 100:.1f}% ({round(acc * len(labels))}) |"
            print(f"| {name} |{cells}", flush=True)

    cli.run(measure, "python -m bench.digits_accuracy")


if __name__ == "__main__":
    main()
