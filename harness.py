"""The tutorial's test harness, shared by its stage scripts: load_dataset, prep_pixels,
evaluate_model (k-fold cross-validation), summarize_diagnostics, summarize_performance
and run_test_harness. Each stage script supplies define_model().

The tutorial: "How to Develop a CNN for MNIST Handwritten Digit Classification"
(Jason Brownlee, Machine Learning Mastery), ported to Keras 3.
https://machinelearningmastery.com/how-to-develop-a-convolutional-neural-network-from-scratch-for-mnist-handwritten-digit-classification/

`python harness.py` is the tutorial's first section: a look at the data. Its
last section runs an experiment (experiments.experiment describes one) as the
CV scripts, study.py and --resume all do: cv_main, experiment_folds, summarize.
What is not the tutorial lives in packages: experiments/ (the settings and
their flags, the Extensions --scaling and --augment, folds in parallel),
network/ (a saved model and what it answers), plumbing/ (errors, files,
progress, scores.json).

Keras (with TensorFlow) and scikit-learn are imported in the functions that
use them, the tutorial's names from the tutorial's modules: importing them
takes 6-9 s, and a script reads its flags first, so `--help` and a mistake
answer at once.
"""
import functools
import importlib
import os
import sys

import numpy as np

from experiments import experiment, extensions, workers
from plumbing import cli, files
from plumbing.cli import UserError
from plumbing.scores import ScoresFile

# Speed without changing what is learned (docs/speed.md): run this many
# training steps per call into the backend, so Python's per-step overhead is
# paid once per 100 batches of 32, not once per batch. (Keras's PyTorch
# backend runs one step at a time: compile_model gives it 1.)
STEPS_PER_EXECUTION = 100
# Scoring is inference only, so its batch size changes nothing but speed.
EVAL_BATCH_SIZE = 1000


# ---------------------------------------------------------------- load the dataset

def load_mnist(path=None, limit=None):
    """MNIST as loaded: ((trainX, trainY), (testX, testY)), uint8 images and digit labels.

    `path` (or the MNIST_PATH environment variable) names a local .npz in
    Keras's layout; with neither, Keras downloads and caches MNIST as usual.
    `limit` keeps the first N training images.
    """
    path = path or os.environ.get("MNIST_PATH")
    (trainX, trainY), (testX, testY) = files.read_mnist_npz(path) if path else files.download_mnist()
    if limit and limit > len(trainX):
        raise cli.SettingError(f"--limit {limit} is more than the data's {len(trainX):,} training images; "
                               f"use at most --limit {len(trainX)}, or leave it out for all")
    if limit:
        trainX, trainY = trainX[:limit], trainY[:limit]
    return (trainX, trainY), (testX, testY)


def load_dataset(path=None, limit=None):
    """Load train and test images, reshaped to one channel, labels one-hot."""
    import plumbing.quiet  # noqa: F401  (before Keras: TensorFlow starts without its C++ notes)
    from keras.utils import to_categorical

    (trainX, trainY), (testX, testY) = load_mnist(path, limit)
    # reshape dataset to have a single channel
    trainX = trainX.reshape((trainX.shape[0], 28, 28, 1))
    testX = testX.reshape((testX.shape[0], 28, 28, 1))
    # one hot encode target values
    trainY = to_categorical(trainY, 10)
    testY = to_categorical(testY, 10)
    return trainX, trainY, testX, testY


def scale_pixels(images):
    """Pixels from 0..255 integers to 0..1 floats."""
    return images.astype("float32") / 255.0


def prep_pixels(train, test):
    """Scale the train and test pixels to 0..1."""
    return scale_pixels(train), scale_pixels(test)


# ---------------------------------------------------------------- define the model (each stage script)

def compile_model(model, learning_rate=0.01):
    """The tutorial's training setup, the end of every define_model(): SGD with momentum 0.9,
    cross-entropy, accuracy."""
    import keras
    from keras.optimizers import SGD

    opt = SGD(learning_rate=learning_rate, momentum=0.9)
    model.compile(optimizer=opt, loss="categorical_crossentropy", metrics=["accuracy"],
                  steps_per_execution=1 if keras.backend.backend() == "torch" else STEPS_PER_EXECUTION)
    return model


# ---------------------------------------------------------------- evaluate a model

def kfold_splits(n_samples, n_folds=5, seed=1):
    """The tutorial's KFold(n_folds, shuffle=True, random_state=1), as a list of (train_ix, test_ix)."""
    from sklearn.model_selection import KFold

    kfold = KFold(n_folds, shuffle=True, random_state=seed)
    return list(kfold.split(np.zeros(n_samples)))


def fold_seed(seed, fold):
    """Each fold seeds itself, so a resumed (or parallel) run trains fold k exactly as a run in turn."""
    return seed * 1000 + fold


def fold_tasks(define_model, dataX, dataY, folds, todo, seed=1, **training):
    """(fold, evaluate_fold's arguments) for each fold in `todo`: the folds are independent tasks."""
    return [(fold, dict(define_model=define_model, dataX=dataX, dataY=dataY, train_ix=folds[fold][0],
                        test_ix=folds[fold][1], seed=fold_seed(seed, fold), **training))
            for fold in todo]


def train(model, trainX, trainY, testX, testY, epochs=10, batch_size=32, callbacks=(), verbose=None):
    """The tutorial's model.fit(..., validation_data=(testX, testY)), scoring the test split at a larger batch."""
    from plumbing.progress import fit_verbosity

    return model.fit(trainX, trainY, epochs=epochs, batch_size=batch_size,
                     validation_data=(testX, testY), validation_batch_size=EVAL_BATCH_SIZE,
                     verbose=fit_verbosity() if verbose is None else verbose, callbacks=list(callbacks))


def evaluate_fold(define_model, dataX, dataY, train_ix, test_ix, seed, epochs=10, batch_size=32,
                  scaling="normalize", augment=False, callbacks=(), verbose=None, model=None):
    """One fold: train a fresh model from define_model() on the train rows, score it on the test rows.

    Returns (accuracy, history, model). `model`, if given, is trained on
    instead of a fresh one (the original tutorial's way, --reuse-model).
    """
    import keras

    if model is None:
        keras.backend.clear_session()  # a fresh graph per fold: memory stays flat fold after fold
    keras.utils.set_random_seed(seed)
    # select rows for train and test
    trainX, trainY, testX, testY = dataX[train_ix], dataY[train_ix], dataX[test_ix], dataY[test_ix]
    if model is None:
        model = extensions.with_extensions(define_model(), scaling, augment, trainX)
    history = train(model, trainX, trainY, testX, testY, epochs, batch_size, callbacks, verbose)
    # The last epoch's validation pass has just scored this fold's test
    # split with the final weights: that is the tutorial's model.evaluate.
    accuracy = history.history["val_accuracy"][-1]
    return accuracy, {k: [float(v) for v in vs] for k, vs in history.history.items()}, model


def in_turn(fold_function, tasks, on_epoch, reuse_model=False):
    """Run the fold tasks one after another here; yields (fold, accuracy, history).

    experiments.workers.run_folds(executor, ...) does the same on worker processes or a cluster.
    """
    import keras

    model = None
    for fold, task in tasks:
        report = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs, f=fold: on_epoch(f, epoch, logs))
        accuracy, history, model = fold_function(**task, callbacks=[report], model=model if reuse_model else None)
        yield fold, accuracy, history


def evaluate_model(dataX, dataY, define_model, n_folds=5, epochs=10, batch_size=32, seed=1,
                   reuse_model=False, scaling="normalize", augment=False, record=None, run_folds=in_turn):
    """k-fold cross-validation; returns (scores, histories), one per fold, in fold order.

    A fresh model from define_model() is trained in every fold. With
    reuse_model=True one model keeps training across folds, as the original
    tutorial did, so folds 2..k score images it has already trained on.
    `scaling` and `augment`: the Extensions (experiments/extensions.py).
    `record` (plumbing.scores.ScoresFile) keeps each finished fold and gives
    back those an earlier run finished (--resume). `run_folds` runs the fold
    tasks: in turn here, or experiments.workers.run_folds on worker processes or a cluster.
    """
    from plumbing.progress import Progress

    folds = kfold_splits(len(dataX), n_folds, seed)
    finished = record.start(folds) if record else {}
    todo = [fold for fold in range(n_folds) if fold not in finished]
    tasks = fold_tasks(define_model, dataX, dataY, folds, todo, seed, epochs=epochs, batch_size=batch_size,
                       scaling=scaling, augment=augment)
    progress = Progress(epochs * len(todo), epochs_per_training=epochs)

    def on_epoch(fold, epoch, logs):
        progress.label = f"fold {fold + 1}/{n_folds} "
        progress.on_epoch_end(epoch, logs)

    if reuse_model:
        results = in_turn(evaluate_fold, tasks, on_epoch, reuse_model=True)
    else:
        results = run_folds(evaluate_fold, tasks, on_epoch)
    unreported = list(todo)
    for fold, accuracy, history in results:
        finished[fold] = (accuracy, history)
        if record:
            record.save(finished)  # saved before it is reported: a fold shown is a fold kept
        while unreported and unreported[0] in finished:  # the tutorial's lines, in fold order
            print("> %.3f" % (finished[unreported.pop(0)][0] * 100.0), flush=True)
    return [finished[f][0] for f in range(n_folds)], [finished[f][1] for f in range(n_folds)]


# ---------------------------------------------------------------- present the results

def summarize_diagnostics(histories, path, show=False, title=None):
    """Learning curves: loss and accuracy (%) per epoch, train blue, validation orange, every fold."""
    import matplotlib.pyplot as plt

    n_epochs = max(len(h["loss"]) for h in histories)
    line = dict(marker="o", markersize=4) if n_epochs <= 10 else {}  # a point per epoch while they can be told apart
    fig, (ax_loss, ax_acc) = plt.subplots(2, 1, figsize=(7, 7), sharex=True)
    for h in histories:
        epochs = range(1, len(h["loss"]) + 1)
        ax_loss.plot(epochs, h["loss"], color="blue", label="train", **line)
        ax_loss.plot(epochs, h["val_loss"], color="orange", label="test", **line)
        ax_acc.plot(epochs, np.multiply(h["accuracy"], 100), color="blue", label="train", **line)
        ax_acc.plot(epochs, np.multiply(h["val_accuracy"], 100), color="orange", label="test", **line)
    ax_loss.set_title("Cross Entropy Loss")
    ax_loss.set_ylabel("loss")
    ax_acc.set_title("Classification Accuracy")
    ax_acc.set_ylabel("accuracy (%)")
    ax_acc.set_xlabel("epoch")
    ax_acc.set_xticks(range(1, n_epochs + 1, -(-n_epochs // 10)))  # whole epochs, ten ticks at most
    ax_acc.set_xlim(0.5, n_epochs + 0.5)
    ax_loss.legend(*[x[:2] for x in ax_loss.get_legend_handles_labels()],
                   title=f"{len(histories)} fold{'s' if len(histories) > 1 else ''}")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    files.save_figure(fig, path, show)


def summarize_performance(scores, path, show=False, title=None):
    """Print mean and std of the fold accuracies and save their box plot.
    std is the population standard deviation (NumPy's default, as the tutorial's np.std)."""
    import matplotlib.pyplot as plt

    scores = np.asarray(scores) * 100
    print("Accuracy: mean=%.3f std=%.3f, n=%d" % (np.mean(scores), np.std(scores), len(scores)), flush=True)
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.boxplot(scores, tick_labels=[f"{len(scores)} folds"])
    ax.plot(np.ones(len(scores)), scores, "o", color="black", alpha=0.6, label="one fold")
    ax.set_ylabel("fold accuracy (%)")
    ax.set_title(f"Fold accuracies: mean {np.mean(scores):.3f}%, population std {np.std(scores):.3f}", fontsize=10)
    if title:
        fig.suptitle(title, fontsize=9)
    ax.legend(loc="lower right")
    fig.tight_layout()
    files.save_figure(fig, path, show)


# ---------------------------------------------------------------- run the test harness

def run_test_harness(define_model, out, data=None, limit=None, n_folds=5, show=False,
                     folds_run="in turn, in this process", title=None, **evaluate_args):
    """The tutorial's run_test_harness: load and prepare the data, evaluate the model by k-fold
    cross-validation, then plot the learning curves and summarize the scores into `out`.
    `folds_run` says how evaluate_args["run_folds"] runs them; `title` heads the plots.
    Returns (scores, histories)."""
    from plumbing.progress import describe_device

    # load dataset
    trainX, trainY, _, _ = load_dataset(data, limit)
    check_folds(trainY.argmax(axis=1), n_folds, evaluate_args.get("seed", 1), data, limit)
    # what it trains on, before the first epoch: a user who expected a GPU finds out now
    print(f"{describe_device()}; folds {folds_run}", file=sys.stderr, flush=True)
    # prepare pixel data
    trainX = scale_pixels(trainX)
    # evaluate model
    scores, histories = evaluate_model(trainX, trainY, define_model, n_folds, **evaluate_args)
    # learning curves and estimated performance
    summarize(scores, histories, out, show, f"{title}, {len(trainX):,} images" if title else None)
    return scores, histories


def summarize(scores, histories, out, show=False, title=None):
    """A finished cross-validation's learning curves and box plot in `out`, and its Accuracy line."""
    summarize_diagnostics(histories, os.path.join(out, "learning_curves.png"), show, title)
    summarize_performance(scores, os.path.join(out, "boxplot.png"), show, title)


def folds_lacking_a_digit(labels, n_folds, seed):
    """The folds whose training or test images miss one of the ten digits (a score on them means little)."""
    return [fold for fold, (train_ix, test_ix) in enumerate(kfold_splits(len(labels), n_folds, seed), 1)
            if len(np.unique(labels[train_ix])) < 10 or len(np.unique(labels[test_ix])) < 10]


def check_folds(labels, n_folds, seed, data=None, limit=None):
    """Refuse, before training, folds that cannot hold every digit in training and test; with --limit,
    name the least limit that works for these folds and this seed."""
    if len(labels) >= 10 * n_folds and not folds_lacking_a_digit(labels, n_folds, seed):
        return
    problem = f"for --folds {n_folds} to hold each digit in every fold's training and test images"
    if limit is None:
        raise UserError(f"the data's {len(labels)} training images are too few {problem}")
    (_, all_labels), _ = load_mnist(data)
    least = next((n for n in range(10 * n_folds, len(all_labels) + 1)
                  if not folds_lacking_a_digit(all_labels[:n], n_folds, seed)), None)
    raise UserError(f"--limit {limit} is too few images {problem}; "
                    + (f"the least that works here is --limit {least}" if least else "the data has too few"))


# ---------------------------------------------------------------- run an experiment (CV scripts, study.py)

def experiment_model(e):
    """The define_model of an experiment's script (or of its --variant) with its learning rate: picklable,
    for workers. The script is imported by name: the experiment names it, and packages never import scripts."""
    module = importlib.import_module(e.script[:-3])
    define_model = module.VARIANTS[e.variant] if e.variant else module.define_model
    return functools.partial(define_model, e.learning_rate)


def experiment_folds(e, dataX, dataY, folds, todo):
    """(fold, evaluate_fold's arguments) for each fold in `todo` of the experiment `e`."""
    return fold_tasks(experiment_model(e), dataX, dataY, folds, todo, e.seed, epochs=e.epochs,
                      batch_size=e.batch_size, scaling=e.scaling, augment=e.augment)


def fold_runner(executor):
    """How the fold tasks run: in turn here, or on the executor's workers."""
    return in_turn if executor is None else functools.partial(workers.run_folds, executor)


def cv_main(script, description, variants=None, threads_per_fold=1, argv=None):
    """Everything a CV stage script does: parse its flags (experiments.experiment.cv_parser), then
    run_test_harness on the script's define_model (or its --variant's), writing scores.json after every
    fold and the plots at the end."""
    parser = experiment.cv_parser(script, description, variants, threads_per_fold)
    argv = sys.argv[1:] if argv is None else [str(a) for a in argv]
    args = parser.parse_args(argv)
    experiment.check_args(parser, args)
    cli.headless(args.show)
    e = experiment.from_args(args, script)
    jobs = args.jobs or workers.default_jobs(args.folds, threads_per_fold)
    if args.reuse_model and (jobs > 1 or args.cluster):
        if args.jobs or args.cluster:
            print(f"{script}: --reuse-model trains one model across the folds, so they run one after another "
                  "in this process", file=sys.stderr)
        jobs, args.cluster = 1, None
    out = args.out or files.run_folder(e.name)
    record = ScoresFile(os.path.join(out, "scores.json"), e.config(), args.data, resume=args.resume)
    remaining = args.folds - (record.folds_kept() if args.resume else 0)
    again = " ".join([os.path.basename(sys.executable), script] + [a for a in argv if a != "--resume"])

    def cross_validate():
        try:
            # no more workers than folds to run (each then gets a bigger share of the cores)
            with workers.make_executor(max(1, min(jobs, remaining)), args.cluster) as executor:
                run_test_harness(experiment_model(e), out, args.data, args.limit, args.folds, args.show,
                                 folds_run=workers.describe_executor(executor), title=e.title(),
                                 epochs=e.epochs, batch_size=e.batch_size, seed=e.seed, reuse_model=e.reuse_model,
                                 scaling=e.scaling, augment=e.augment, record=record,
                                 run_folds=fold_runner(executor))
            print(f"wrote {out}/: scores.json, learning_curves.png, boxplot.png")
        except (KeyboardInterrupt, workers.BrokenProcessPool) as stop:
            experiment.stopped(script, stop, f"{record.folds_kept()} of {args.folds} folds kept in {record.path}",
                               f"continue with: {again} --resume")

    cli.run(cross_validate, script)


# ---------------------------------------------------------------- Section 1: look at the data

def main(argv=None):
    """`python harness.py`: the tutorial's first listing. Load MNIST, print the
    shapes of its arrays as loaded, and plot the first nine training images."""
    parser = cli.parser_for("harness.py", "Section 1 of the tutorial: load MNIST, print its shapes and save "
                            "the first nine training images as a 3x3 grid")
    cli.add_data_args(parser)
    cli.add_flag(parser, "out", default=os.path.join("results", "dataset"))
    parser.add_argument("--show", action="store_true", help="also open the plot in a window")
    args = parser.parse_args(argv)
    cli.positive(parser, args, "limit")
    cli.headless(args.show)

    def look():
        import matplotlib.pyplot as plt

        (trainX, trainY), (testX, testY) = load_mnist(args.data, args.limit)
        # summarize loaded dataset
        print("Train: X=%s, y=%s" % (trainX.shape, trainY.shape))
        print("Test: X=%s, y=%s" % (testX.shape, testY.shape), flush=True)
        # plot the first few images, each titled with its label
        fig = plt.figure(figsize=(6, 6.4))
        for i in range(min(9, len(trainX))):
            ax = fig.add_subplot(3, 3, i + 1)
            ax.imshow(trainX[i], cmap=plt.get_cmap("gray"))
            ax.set_title(f"training image {i}: a {trainY[i]}", fontsize=10)
            ax.set_xticks([0, 27])
            ax.set_yticks([0, 27])
        fig.suptitle("The first nine MNIST training images (28x28 pixels)")
        fig.tight_layout()
        grid = os.path.join(args.out, "first_nine.png")
        files.save_figure(fig, grid, args.show)
        print(f"first nine training images: {grid}", file=sys.stderr)

    cli.run(look, "harness.py")


if __name__ == "__main__":
    main()
