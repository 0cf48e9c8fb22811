"""A 1 written with a flag (and a base) is read as 7: measure it, and train with flagged 1s to see if that helps.

    python bench/flag_ones.py measure --model final_model.h5 --model final_model_augment.h5
    python bench/flag_ones.py train --augment --epochs 15 --model flag_model.h5   # flags on half the training 1s
    python bench/flag_ones.py ensemble --model a.h5 --model b.h5 --out ensemble.h5  # their mean, as one model

measure: each model on MNIST's test set, on 1s and 7s drawn in each style
(bench/sheet_digits.py's templates, dark on white, 200 of each) and on the 1s
and 7s of scikit-learn's load_digits at 112x112 bilinear (real handwriting,
many of its 1s have a flag and a base), all through predict_image.py's
preprocessing.

train: train_final.py's model and training, with a flag drawn at the top of a
share of MNIST's training 1s (a stroke down to the left, a third of the
digit's height or so, as thick as the digit's own stroke) and a base under a
third of those; the test set is not touched.

ensemble: one model whose output is the mean of the given models' outputs,
saved as a Keras H5 file that predict_image.py, evaluate_final.py and
predict_web.py load like any other.
"""
import argparse
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

import harness  # noqa: E402
import keras  # noqa: E402
import experiment  # noqa: E402
import extensions  # noqa: E402
from plumbing import cli, files  # noqa: E402
from plumbing.progress import Progress, fit_verbosity  # noqa: E402
import handwriting  # noqa: E402
import sheet_digits  # noqa: E402

UPSCALE = 4  # flags are drawn at 4x and reduced, so they are anti-aliased like MNIST's strokes


def add_flag(digit, rng, base=False):
    """An MNIST 1 (28x28 uint8, white on black) with a flag at its top, and a base under it if `base`."""
    ink = digit > 128
    ys, xs = np.nonzero(ink)
    top, bottom = ys.min(), ys.max()
    height = bottom - top + 1
    width = handwriting.stroke_width(ink)
    x_top, x_bottom = xs[ys == top].mean(), xs[ys == bottom].mean()
    length, angle = height * rng.uniform(0.25, 0.45), np.radians(rng.uniform(20, 55))
    big = Image.new("L", (28 * UPSCALE, 28 * UPSCALE), 0)
    draw = ImageDraw.Draw(big)
    pen = max(1, round(width * UPSCALE))
    start = ((x_top + 0.5) * UPSCALE, (top + 0.5) * UPSCALE)
    end = (start[0] - length * np.cos(angle) * UPSCALE, start[1] + length * np.sin(angle) * UPSCALE)
    draw.line([start, end], fill=255, width=pen)
    if base:
        half = height * rng.uniform(0.2, 0.35) * UPSCALE
        y = (bottom + 0.5) * UPSCALE
        draw.line([((x_bottom + 0.5) * UPSCALE - half, y), ((x_bottom + 0.5) * UPSCALE + half, y)], fill=255, width=pen)
    strokes = np.asarray(big.resize((28, 28), Image.BOX))
    return np.maximum(digit, strokes)


def with_flags(images, labels, share, seed):
    """A copy of MNIST training images (N, 28, 28, 1 uint8) where `share` of the 1s have a flag."""
    rng = np.random.default_rng(seed)
    images = images.copy()
    ones = np.flatnonzero(labels.argmax(axis=1) == 1)
    chosen = ones[rng.random(len(ones)) < share]
    for i in chosen:
        images[i, :, :, 0] = add_flag(images[i, :, :, 0], rng, base=rng.random() < 1 / 3)
    return images, len(chosen)


def drawn_set(digit, style, count, seed):
    """`count` digits drawn dark on white in one style, preprocessed as predict_image.py does."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        ink, _ = sheet_digits.draw_digit(digit, rng, style=style)
        paper = np.pad(1.0 - ink, 30, constant_values=1.0)
        out.append(handwriting.to_mnist(paper))
    return np.stack(out)[..., None]


def measure(paths, count):
    models = [files.load_model(p) for p in paths]
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
    print("| images |" + "".join(f" {os.path.basename(p)} |" for p in paths))
    print("| --- |" + " ---: |" * len(paths))
    for name, images, labels in sets:
        cells = ""
        for model in models:
            predicted = model.predict(images, batch_size=harness.EVAL_BATCH_SIZE, verbose=0).argmax(axis=1)
            right = predicted == labels
            confusion = ""
            if name.startswith(("drawn", "load_digits")):  # what the wrong ones were read as
                wrong = np.bincount(predicted[~right], minlength=10)
                confusion = ", ".join(f"{n} as {d}" for d, n in enumerate(wrong) if n)
            cells += f" {right.mean() * 100:.2f}%{f' ({confusion})' if confusion else ''} |"
        print(f"| {name} |{cells}", flush=True)


def train(args):
    from deeper_cv import define_model
    trainX, trainY, _, _ = harness.load_dataset(args.data, args.limit)
    trainX, flagged = with_flags(trainX, trainY, args.flag_share, args.seed)
    print(f"flags drawn on {flagged} of {int((trainY.argmax(axis=1) == 1).sum())} training 1s")
    trainX = harness.scale_pixels(trainX)
    keras.utils.set_random_seed(args.seed)
    model = extensions.with_extensions(define_model(args.learning_rate), args.scaling, args.augment, trainX)
    model.fit(trainX, trainY, epochs=args.epochs, batch_size=args.batch_size,
              verbose=fit_verbosity(), callbacks=[Progress(args.epochs)])
    files.save_model(model, args.model)
    print(f"saved {args.model}")


def ensemble(paths, out):
    members = [files.load_model(p) for p in paths]
    for i, member in enumerate(members):
        member.name = f"member_{i}"
    inputs = keras.Input((28, 28, 1))
    outputs = keras.layers.Average()([member(inputs) for member in members])
    files.save_model(keras.Model(inputs, outputs), out)
    print(f"saved {out}: the mean of {', '.join(paths)}")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="bench/flag_ones.py", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    m = commands.add_parser("measure", help="each model on MNIST's test set and on flagged 1s and 7s")
    m.add_argument("--model", action="append", required=True, metavar="PATH", help="repeat for several")
    m.add_argument("--count", type=int, default=200, help="drawn digits of each style (default: 200)")
    t = commands.add_parser("train", help="train_final.py's training with flags on a share of the training 1s")
    experiment.add_flags(t, experiment.TRAINING)
    t.add_argument("--flag-share", type=float, default=0.5, help="share of training 1s given a flag (default: 0.5)")
    t.add_argument("--model", required=True, metavar="PATH")
    e = commands.add_parser("ensemble", help="save the mean of several models as one model")
    e.add_argument("--model", action="append", required=True, metavar="PATH", help="repeat for several")
    e.add_argument("--out", required=True, metavar="PATH")
    args = parser.parse_args(argv)
    commands = {"measure": lambda: measure(args.model, args.count), "train": lambda: train(args),
                "ensemble": lambda: ensemble(args.model, args.out)}
    cli.run(commands[args.command], "bench/flag_ones.py")


if __name__ == "__main__":
    main()
