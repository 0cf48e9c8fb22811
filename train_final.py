"""Stage 4: fit the deeper model on the training images (all 60,000, or --limit N) and save it as final_model.h5.

    python train_final.py
    python train_final.py --augment --epochs N --model final_model_augment.h5   # reads real handwriting better
"""
import sys

import experiment
import harness
import keras
from deeper_cv import define_model
from extensions import with_extensions
from plumbing import cli, files
from plumbing.progress import Progress, describe_device, fit_verbosity


def main(argv=None):
    parser = cli.parser_for("train_final.py", __doc__.splitlines()[0])
    experiment.add_flags(parser, experiment.TRAINING)
    parser.add_argument("--model", metavar="PATH",
                        help="where to save the model, Keras H5 format (default: final_model.h5; with other "
                             "settings a name that says them, e.g. final_model-epochs1-limit6000.h5)")
    args = parser.parse_args(argv)
    experiment.check_args(parser, args)

    def train():
        path, settings = experiment.final_model_file(args)  # never replaces a model trained with other settings
        # load dataset and prepare pixel data
        trainX, trainY, _, _ = harness.load_dataset(args.data, args.limit)
        trainX = harness.scale_pixels(trainX)
        keras.utils.set_random_seed(args.seed)
        model = with_extensions(define_model(args.learning_rate), args.scaling, args.augment, trainX)
        print(describe_device(), file=sys.stderr, flush=True)
        model.fit(trainX, trainY, epochs=args.epochs, batch_size=args.batch_size,
                  verbose=fit_verbosity(), callbacks=[Progress(args.epochs)])
        # written to a temp file and renamed: an interrupted run keeps the old model
        files.save_model(model, path, settings)
        print(f"saved {path}")

    cli.run(train, "train_final.py")


if __name__ == "__main__":
    main()
