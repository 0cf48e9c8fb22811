"""Choose --augment's ranges by measurement: train the deeper model with each candidate and score it.

    python -m bench.augment_ranges --data ../shared/data/mnist.npz --epochs 3

Each candidate (rotation in turns, translation and zoom as fractions of the
side) trains the tutorial's deeper model on the first 50,000 training images
(seed 1) and is scored on three sets it never saw: the last 10,000 training
images (MNIST validation; the test set stays untouched for the final models),
the labelled photos and drawings in ../shared/real_digits, and scikit-learn's
load_digits drawn 112x112 (bilinear) dark on white, both through
predict_image's preprocessing. Prints a Markdown table, one row per candidate
as it finishes.
"""
import argparse
import os
import time

from PIL import Image

from bench import digits_accuracy
import harness
from plumbing import cli
from plumbing.progress import Progress, format_seconds  # (imports Keras quietly)
from keras.utils import set_random_seed
from experiments import extensions
from deeper_cv import define_model

# (rotation, translation, zoom); (0, 0, 0) is the tutorial's training, without augmentation.
CANDIDATES = [(0, 0, 0), (0.03, 0.08, 0.1), (0.05, 0.1, 0.1), (0.05, 0.1, 0.2), (0.08, 0.1, 0.1),
              (0.08, 0.12, 0.2)]
VALIDATION = 10000


def candidate(text):
    try:
        rotation, translation, zoom = (float(x) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected ROTATION,TRANSLATION,ZOOM, got {text!r}")
    return rotation, translation, zoom


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.augment_ranges", description=__doc__.splitlines()[0])
    cli.add_data_args(parser, limit=False)
    cli.add_flag(parser, "epochs", default=3)
    parser.add_argument("--candidate", type=candidate, action="append", metavar="R,T,Z",
                        help="a candidate to measure; repeat for several (default: a built-in grid)")
    parser.add_argument("--real-digits", default=digits_accuracy.REAL_DIGITS, metavar="DIR")
    args = parser.parse_args(argv)

    def measure():
        trainX, trainY, _, _ = harness.load_dataset(args.data)
        trainX = harness.scale_pixels(trainX)
        # the last 10,000 training images for validation; the test set stays untouched
        valX, valY = trainX[-VALIDATION:], trainY[-VALIDATION:]
        trainX, trainY = trainX[:-VALIDATION], trainY[:-VALIDATION]
        real = digits_accuracy.real_digits_set(args.real_digits)
        digits = digits_accuracy.load_digits_set(112, Image.BILINEAR)
        print(f"| rotation (turns) | translation | zoom | MNIST validation | {os.path.basename(real[0])} "
              "| load_digits 112x112 bilinear | train time |\n|---:|---:|---:|---:|---:|---:|---:|", flush=True)
        for rotation, translation, zoom in args.candidate or CANDIDATES:
            set_random_seed(1)
            model = define_model()
            if rotation or translation or zoom:
                model = extensions.with_augmentation(model, rotation, translation, zoom)
            start = time.monotonic()
            model.fit(trainX, trainY, epochs=args.epochs, batch_size=32, verbose=0,
                      callbacks=[Progress(args.epochs, f"{rotation},{translation},{zoom} ")])
            seconds = time.monotonic() - start
            scores = [digits_accuracy.accuracy(model, x, y) for x, y in
                      ((valX, valY.argmax(axis=1)), (real[1], real[3]), (digits[1], digits[3]))]
            print(f"| {rotation:g} | {translation:g} | {zoom:g} | {scores[0]:.2%} | {scores[1]:.1%} "
                  f"({round(scores[1] * len(real[3]))}) | {scores[2]:.1%} | {format_seconds(seconds)} |",
                  flush=True)

    cli.run(measure, "python -m bench.augment_ranges")


if __name__ == "__main__":
    main()
