"""Stage 5: score the saved final model on the 10,000 MNIST test images.

    python evaluate_final.py         # prints "> 99.0..." (test accuracy, percent)
"""
import argparse

import harness


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="final_model.h5", metavar="PATH",
                        help="the model to evaluate (default: final_model.h5)")
    harness.add_data_args(parser, limit=False)
    args = parser.parse_args()

    def evaluate():
        model = harness.load_model(args.model)
        # load dataset and prepare pixel data
        _, _, testX, testY = harness.load_dataset(args.data)
        _, testX = harness.prep_pixels(testX[:0], testX)
        _, acc = model.evaluate(testX, testY, batch_size=harness.EVAL_BATCH_SIZE, verbose=0)
        print("> %.3f" % (acc * 100.0))

    harness.run(evaluate)


if __name__ == "__main__":
    main()
