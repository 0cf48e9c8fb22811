"""Stage 5: score the saved final model on the 10,000 MNIST test images.

    python evaluate_final.py         # prints "> 99.0..." (test accuracy, percent)

Also writes, into --out: confusion_matrix.png, metrics.json (the confusion
counts and per-class accuracy) and misclassified.png (the test digits it got
wrong, with true and predicted labels).
"""
import os

import numpy as np
from sklearn.metrics import ConfusionMatrixDisplay, confusion_matrix

import harness
from plumbing import cli, files

GALLERY_SIZE = 100  # misclassified digits shown at most


def save_gallery(images, true, predicted, path):
    import matplotlib.pyplot as plt
    cols = 10
    rows = max(1, -(-len(images) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.1, rows * 1.3), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, image, t, p in zip(axes.flat, images, true, predicted):
        ax.imshow(image[:, :, 0], cmap="gray")
        ax.set_title(f"true {t}, got {p}", fontsize=7, color="red")
    fig.suptitle(f"Misclassified test digits (first {len(images)})" if len(images) else "No misclassified digits")
    files.save_figure(fig, path)


def main(argv=None):
    parser = cli.parser_for("evaluate_final.py", __doc__.splitlines()[0])
    parser.add_argument("--model", default="final_model.h5", metavar="PATH",
                        help="the model to evaluate (default: final_model.h5)")
    cli.add_data_args(parser, limit=False)
    parser.add_argument("--out", default=os.path.join("results", "evaluate_final"), metavar="DIR",
                        help="where the confusion matrix, metrics and gallery go (default: results/evaluate_final)")
    args = parser.parse_args(argv)
    cli.headless()

    def evaluate():
        model = files.load_model(args.model)
        # load dataset and prepare pixel data
        _, _, testX, testY = harness.load_dataset(args.data)
        testX = harness.scale_pixels(testX)
        # One pass over the test set gives the accuracy (what the tutorial's
        # model.evaluate reports) and the predictions for the reports below.
        predicted = model.predict(testX, batch_size=harness.EVAL_BATCH_SIZE, verbose=0).argmax(axis=1)
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
    main()
