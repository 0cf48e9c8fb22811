"""Stage 4: fit the deeper model on all 60,000 training images and save it as final_model.h5.

    python train_final.py
    python train_final.py --augment --epochs N --model final_model_augment.h5   # reads real handwriting better
"""
import argparse

import harness
from deeper_cv import define_model


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    harness.add_training_args(parser)
    parser.add_argument("--model", default="final_model.h5", metavar="PATH",
                        help="where to save the model, Keras H5 format (default: final_model.h5)")
    args = parser.parse_args()
    harness.positive(parser, args, "epochs", "batch-size", "limit")

    def train():
        # load dataset and prepare pixel data
        trainX, trainY, testX, _ = harness.load_dataset(args.data, args.limit)
        trainX, _ = harness.prep_pixels(trainX, testX[:0])
        harness.keras.utils.set_random_seed(args.seed)
        model = harness.with_scaling(define_model(args.learning_rate), args.scaling, trainX)
        if args.augment:
            model = harness.with_augmentation(model)
        model.fit(trainX, trainY, epochs=args.epochs, batch_size=args.batch_size,
                  verbose=harness.fit_verbosity(), callbacks=[harness.Progress(args.epochs)])
        # written to a temp file and renamed: an interrupted run keeps the old model
        harness.save_model(model, args.model)
        print(f"saved {args.model}")

    harness.run(train)


if __name__ == "__main__":
    main()
