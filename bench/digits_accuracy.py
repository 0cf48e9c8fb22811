"""How well predict_image.py reads digits that are not MNIST's, with and without its preprocessing.

    python bench/digits_accuracy.py --model final_model.h5 [--real-digits ../shared/real_digits]

Two sets:
  * a folder of labelled real-world images (labels.csv: file,label), such as
    the 33 photos and drawings in ../shared/real_digits;
  * scikit-learn's load_digits: 1,797 real handwritten digits, 8x8 pixels,
    rendered as larger dark-on-white images (several sizes and resamplings),
    the way a user's scan or drawing arrives.
For each, the share predicted right with predict_image's MNIST-style
preprocessing, and with the tutorial's plain resize (--raw).
"""
import argparse
import csv
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

import harness  # noqa: E402
import predict_image  # noqa: E402

RENDERINGS = [(28, Image.NEAREST), (64, Image.NEAREST), (64, Image.BILINEAR), (128, Image.BICUBIC)]


def accuracy(model, images, labels):
    probs = model.predict(np.stack(images), batch_size=harness.EVAL_BATCH_SIZE, verbose=0)
    return float(np.mean(probs.argmax(axis=1) == np.asarray(labels)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="final_model.h5", metavar="PATH")
    parser.add_argument("--real-digits", default=os.path.join(ROOT, "..", "shared", "real_digits"), metavar="DIR")
    args = parser.parse_args()

    def measure():
        model = harness.load_model(args.model)
        rows = []
        labels_csv = os.path.join(args.real_digits, "labels.csv")
        if os.path.isfile(labels_csv):
            with open(labels_csv) as f:
                labelled = [(os.path.join(args.real_digits, r["file"]), int(r["label"])) for r in csv.DictReader(f)]
            paths, labels = zip(*labelled)
            ours = accuracy(model, [predict_image.load_image(p) for p in paths], labels)
            plain = accuracy(model, [predict_image.load_image(p, raw=True) for p in paths], labels)
            rows.append((f"{args.real_digits} ({len(labels)} images)", ours, plain, len(labels)))
        digits = load_digits()
        for size, resample in RENDERINGS:
            imgs = [Image.fromarray(np.uint8(255 - d * 255 / 16), "L").resize((size, size), resample)
                    for d in digits.images]
            ours = accuracy(model, [predict_image.to_mnist(np.asarray(i, np.float64) / 255)[:, :, None]
                                    for i in imgs], digits.target)
            plain = accuracy(model, [predict_image.plain_resize(i)[:, :, None] for i in imgs], digits.target)
            name = {Image.NEAREST: "nearest", Image.BILINEAR: "bilinear", Image.BICUBIC: "bicubic"}[resample]
            rows.append((f"sklearn load_digits, {size}x{size} {name} ({len(imgs)} images)", ours, plain, len(imgs)))
        print(f"model: {args.model}\n")
        print("| images | preprocessed | --raw (tutorial) |\n| --- | ---: | ---: |")
        for name, ours, plain, n in rows:
            print(f"| {name} | {ours * 100:.1f}% ({round(ours * n)}) | {plain * 100:.1f}% ({round(plain * n)}) |")

    harness.run(measure)


if __name__ == "__main__":
    main()
