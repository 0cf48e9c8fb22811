"""Stage 5: score the saved final model on the 10,000 MNIST test images.

    python evaluate_final.py         # prints "> 99.0..." (test accuracy, percent)
    python evaluate_final.py --images my_digits/ --model final_model_handwriting.h5   # your own labelled images

Also writes, into --out: confusion_matrix.png, metrics.json (the confusion
counts and per-class accuracy) and misclassified.png (the test digits it got
wrong, with true and predicted labels).

--images DIR scores the model on your own images instead, read exactly as
predict_image.py reads them (a number, "?" for an unsure digit, "no digit"):
labelled by a labels.csv in DIR (columns file,label; the label is the digits
as a person reads them, lines joined by one space, empty for an image with
no digit) or else by their names, <label>_anything.png (none_anything.png:
no digit). It prints the images read right, the numbers read exactly, the
digits read right, the images with no digit answered "no digit", and each
image read wrong with what it was read as.
"""
import os
import sys

import numpy as np

import harness
from plumbing import cli, files
from plumbing.cli import UserError
from network import saved_model

GALLERY_SIZE = 100  # misclassified digits shown at most


def save_gallery(images, true, predicted, path):
    import matplotlib.pyplot as plt
    cols = 10
    rows = max(1, -(-len(images) // cols))
    # the rows' height and the title's band in inches, so the title sits right above the first row
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.2, rows * 1.45 + 0.5), squeeze=False,
                             gridspec_kw=dict(left=0.01, right=0.99, bottom=0.01, top=1 - 0.55 / (rows * 1.45 + 0.5),
                                              hspace=0.35, wspace=0.1))
    for ax in axes.flat:
        ax.axis("off")
    for ax, image, t, p in zip(axes.flat, images, true, predicted):
        ax.imshow(image[:, :, 0], cmap="gray")
        ax.set_title(f"a {t}, read {p}", fontsize=10, color="#b00020")
    fig.suptitle(f"Misclassified test digits (the first {len(images)}): the true digit, then what the model read"
                 if len(images) else "No misclassified digits", y=1 - 0.12 / (rows * 1.45 + 0.5), va="top")
    files.save_figure(fig, path, tight=False)


def evaluate_images(model, labelled):
    """Read each of `labelled` [(path, label)] as predict_image.py does (a number, "?" for an unsure digit, ""
    for no digit) and print how many were read right, what kind of right, and each one read wrong."""
    import handwriting
    from handwriting.labels import score

    read, wrong = [], []
    for path, label in labelled:
        try:
            read.append((path, label, handwriting.grayscale(handwriting.open_image(path))))
        except UserError as e:  # a broken image is read wrong, and says why
            wrong.append(f"{path}: {label or 'no digit'}, read as nothing ({e})")
    answers = handwriting.read_numbers(model, [gray for _, _, gray in read])
    numbers = [(label, answer["number"]) for (_, label, _), answer in zip(read, answers)]
    wrong += [f"{path}: {label or 'no digit'}, read as {answer['number'] or 'no digit'}"
              for (path, label, _), answer in zip(read, answers) if answer["number"] != label]
    right = len(labelled) - len(wrong)
    print("> %.3f (%d of %d images read right)" % (right / len(labelled) * 100, right, len(labelled)))
    with_digits = [label for _, label in labelled if label]
    digits = sum(len(label.replace(" ", "")) for label in with_digits)
    digits_right = sum(score(label, number)[0] for label, number in numbers if label)
    exact = sum(label == number for label, number in numbers if label)
    no_digit = sum(number == "" for label, number in numbers if not label)
    print(f"numbers read exactly: {exact} of {len(with_digits)}; digits read right: {digits_right} of {digits}; "
          f"images with no digit answered no digit: {no_digit} of {len(labelled) - len(with_digits)}")
    for line in sorted(wrong):
        print(line)
    return right / len(labelled)


def main(argv=None):
    parser = cli.parser_for("evaluate_final.py", __doc__.splitlines()[0])
    cli.add_flag(parser, "model")
    parser.add_argument("--images", metavar="DIR",
                        help="score on your own labelled images in DIR instead, read as predict_image.py reads them "
                             "(labels.csv with columns file,label, or file names <label>_anything.png)")
    cli.add_data_args(parser, limit=False)
    cli.add_flag(parser, "out", default_text="results/evaluate_final, or results/evaluate_final-<the model file's "
                                             "stem> for another model")
    args = parser.parse_args(argv)
    args.out = args.out or files.run_folder("evaluate_final.py", model=args.model)
    cli.headless()

    def evaluate():
        # after the flags are read: --help and a mistake answer without these imports' seconds
        from sklearn.metrics import ConfusionMatrixDisplay, confusion_matrix

        from handwriting.labels import labelled_images

        if args.images:
            labelled, unlabelled = labelled_images(args.images)
            if unlabelled:
                print(f"evaluate_final.py: {args.images}: {len(unlabelled)} of {len(labelled) + len(unlabelled)} "
                      "images have no label in their name (<label>_anything.png), skipped", file=sys.stderr)
            return evaluate_images(saved_model.load(args.model), labelled)
        model = saved_model.load(args.model)
        # load dataset and prepare pixel data
        _, _, testX, testY = harness.load_dataset(args.data)
        testX = harness.scale_pixels(testX)
        # One pass over the test set gives the accuracy (what the tutorial's
        # model.evaluate reports) and the predictions for the reports below.
        predicted = saved_model.predict(model, testX)[0].argmax(axis=1)
        true = testY.argmax(axis=1)
        acc = np.mean(predicted == true)
        print("> %.3f" % (acc * 100.0))

        counts = confusion_matrix(true, predicted, labels=range(10))
        per_class = counts.diagonal() / np.maximum(counts.sum(axis=1), 1)
        files.write_json({"model": args.model, "accuracy": float(acc), "n": int(len(true)),
                            "per_class_accuracy": {str(d): float(a) for d, a in enumerate(per_class)},
                            "confusion_matrix": counts.tolist(),
                            "confusion_matrix_rows": "true digit", "confusion_matrix_columns": "predicted digit"},
                           os.path.join(args.out, "metrics.json"))
        display = ConfusionMatrixDisplay(counts, display_labels=range(10))
        display.plot(cmap="Blues", colorbar=False)
        display.ax_.set_title(f"{os.path.basename(args.model)} on {len(true)} test images: {acc * 100:.2f}%")
        files.save_figure(display.figure_, os.path.join(args.out, "confusion_matrix.png"))
        wrong = np.flatnonzero(predicted != true)[:GALLERY_SIZE]
        save_gallery(testX[wrong], true[wrong], predicted[wrong], os.path.join(args.out, "misclassified.png"))
        print("per-class accuracy: " + " ".join(f"{d}={a * 100:.1f}" for d, a in enumerate(per_class)))
        print(f"wrote {args.out}/: confusion_matrix.png, metrics.json, misclassified.png")

    cli.run(evaluate, "evaluate_final.py")


if __name__ == "__main__":
    cli.run_then_exit(main)
