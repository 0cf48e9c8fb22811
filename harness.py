"""What the tutorial's stages share: load_dataset, prep_pixels, evaluate_model
(k-fold cross-validation), summarize_diagnostics, summarize_performance, and
the command-line plumbing of the stage scripts.

The tutorial: "How to Develop a CNN for MNIST Handwritten Digit Classification"
(Jason Brownlee), ported to Keras 3. Each stage script supplies define_model().
`python harness.py` is the tutorial's first section: a look at the data.
The folds can run in parallel: evaluate_model takes an executor from workers.py.
"""
import argparse
import contextlib
import functools
import hashlib
import json
import logging
import os
import platform
import sys
import tempfile
import time

# TensorFlow prints a screenful of C++ start-up notes; keep errors only.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@contextlib.contextmanager
def stderr_silenced():
    """Silence file descriptor 2: TensorFlow's C++ start-up notes go there
    directly, before TF_CPP_MIN_LOG_LEVEL is read."""
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


import numpy as np  # noqa: E402
with stderr_silenced():
    import keras  # noqa: E402
    if keras.backend.backend() == "tensorflow":
        # Looking for GPUs now, in the quiet, spares a CPU-only machine the
        # "failed call to cuInit" line that would otherwise come with the first result.
        import tensorflow as tf
        tf.config.list_physical_devices()
from sklearn.model_selection import KFold  # noqa: E402

# Keras 3 calls H5 "legacy" (the tutorial's final_model.h5 is H5 on purpose) and
# notes that a loaded model has no metrics until used: neither helps the user.
logging.getLogger("absl").setLevel(logging.ERROR)
# Each fold builds a fresh model, and TensorFlow warns that it traces a fresh graph: that is the point.
logging.getLogger("tensorflow").setLevel(logging.ERROR)

# Speed without changing what is learned (measured in bench/, see README):
# run this many training steps per call into the backend, so Python's per-step
# overhead is paid once per 100 batches of 32, not once per batch. (Keras's
# PyTorch backend runs one step at a time: it refuses any other value.)
STEPS_PER_EXECUTION = 1 if keras.backend.backend() == "torch" else 100
# Scoring is inference only, so its batch size changes nothing but speed.
EVAL_BATCH_SIZE = 1000

MNIST_KEYS = {"x_train": 3, "y_train": 1, "x_test": 3, "y_test": 1}


class UserError(Exception):
    """A problem the user can fix (a path, a file, the network): one line, no traceback."""


# ---------------------------------------------------------------- data

def read_mnist_npz(path):
    """Read and check a local .npz in Keras's MNIST layout."""
    if not os.path.isfile(path):
        raise UserError(f"{path}: data file not found")
    try:
        with np.load(path, allow_pickle=False) as data:
            missing = [k for k in MNIST_KEYS if k not in data.files]
            if missing:
                raise UserError(f"{path}: not MNIST in Keras's layout, missing key(s) {', '.join(missing)}")
            arrays = {k: data[k] for k in MNIST_KEYS}
    except UserError:
        raise
    except Exception as e:  # zipfile, pickle and OS errors all mean the same to the user
        raise UserError(f"{path}: not a readable .npz file ({e.__class__.__name__}: {e})".replace("\n", " "))
    for key, ndim in MNIST_KEYS.items():
        a = arrays[key]
        if a.dtype != np.uint8 or a.ndim != ndim or (ndim == 3 and a.shape[1:] != (28, 28)):
            want = "(N, 28, 28)" if ndim == 3 else "(N,)"
            raise UserError(f"{path}: {key} should be uint8 {want}, got {a.dtype} {a.shape}")
    for x, y in (("x_train", "y_train"), ("x_test", "y_test")):
        if len(arrays[x]) != len(arrays[y]):
            raise UserError(f"{path}: {x} has {len(arrays[x])} images but {y} has {len(arrays[y])} labels")
        if len(arrays[y]) and arrays[y].max() > 9:
            raise UserError(f"{path}: {y} holds labels outside 0..9")
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def download_mnist():
    """keras.datasets.mnist.load_data(), with a one-line message when it cannot download."""
    cache = os.path.join(os.environ.get("KERAS_HOME", os.path.expanduser("~/.keras")), "datasets", "mnist.npz")
    try:
        return keras.datasets.mnist.load_data()
    except Exception as e:
        reason = str(e).replace("\n", " ")
        raise UserError(f"{cache}: could not download MNIST ({reason}); "
                        "without a network, name a local copy with --data PATH or MNIST_PATH")


def load_dataset(path=None, limit=None):
    """Load train and test images, reshaped to one channel, labels one-hot.

    `path` (or the MNIST_PATH environment variable) names a local .npz in
    Keras's layout; with neither, Keras downloads and caches MNIST as usual.
    `limit` keeps the first N training images.
    """
    path = path or os.environ.get("MNIST_PATH")
    (trainX, trainY), (testX, testY) = read_mnist_npz(path) if path else download_mnist()
    if limit:
        trainX, trainY = trainX[:limit], trainY[:limit]
    # reshape dataset to have a single channel
    trainX = trainX.reshape((trainX.shape[0], 28, 28, 1))
    testX = testX.reshape((testX.shape[0], 28, 28, 1))
    # one hot encode target values
    trainY = keras.utils.to_categorical(trainY, 10)
    testY = keras.utils.to_categorical(testY, 10)
    return trainX, trainY, testX, testY


def prep_pixels(train, test):
    """Scale pixels from 0..255 integers to 0..1 floats."""
    train_norm = train.astype("float32") / 255.0
    test_norm = test.astype("float32") / 255.0
    return train_norm, test_norm


# ---------------------------------------------------------------- model

def compile_model(model, learning_rate=0.01):
    """The tutorial's training setup: SGD with momentum 0.9, cross-entropy, accuracy."""
    opt = keras.optimizers.SGD(learning_rate=learning_rate, momentum=0.9)
    model.compile(optimizer=opt, loss="categorical_crossentropy", metrics=["accuracy"],
                  steps_per_execution=STEPS_PER_EXECUTION)
    return model


SCALINGS = ("normalize", "center", "standardize")


def with_scaling(model, scaling, train_images):
    """The tutorial's "tune pixel scaling" extension, built into the model.

    Pixels are already in [0, 1] ("normalize", the tutorial's way, returns the
    model as it is). "center" subtracts the training images' mean pixel,
    "standardize" also divides by their standard deviation. The statistics
    come from `train_images` only, and live in a Rescaling layer saved with
    the model, so evaluation and prediction scale new images the same way.
    """
    if scaling == "normalize":
        return model
    mean = float(train_images.mean())
    std = float(train_images.std()) if scaling == "standardize" else 1.0
    scaled = keras.Sequential([keras.Input((28, 28, 1)),
                               keras.layers.Rescaling(1.0 / std, offset=-mean / std, name=f"{scaling}_pixels"),
                               *model.layers])
    scaled.compile(optimizer=model.optimizer, loss=model.loss, metrics=["accuracy"],
                   steps_per_execution=STEPS_PER_EXECUTION)
    return scaled


# --augment: random rotation (fraction of a full turn), translation (fraction
# of the 28-pixel side) and zoom (fraction of the size, in or out) of each
# training image. Chosen by measurement (bench/augment_ranges.py, README's
# "Augmentation"): the deeper model trained 5 epochs on 50,000 images with each
# of 9 candidates, scored on the other 10,000, ../shared/real_digits and
# scikit-learn's load_digits. Larger rotations cost accuracy on both MNIST and
# load_digits; these read the most real digits of the two sets at 99.0% on MNIST.
AUGMENT_ROTATION = 0.03    # up to 10.8 degrees either way
AUGMENT_TRANSLATION = 0.08  # up to 2.2 pixels
AUGMENT_ZOOM = 0.1


def with_augmentation(model, rotation=AUGMENT_ROTATION, translation=AUGMENT_TRANSLATION, zoom=AUGMENT_ZOOM):
    """Random rotation, shift and zoom of the training images, built into the model.

    Keras's preprocessing layers act only in training (fit); at inference
    (evaluate, predict) they pass images through unchanged, so the saved model
    needs nothing else. They go first, on the [0, 1] pixels, and fill what
    they uncover with 0, MNIST's black background. Their random draws come
    from Keras's seed (keras.utils.set_random_seed), so a run repeats.
    """
    fill = {"fill_mode": "constant", "fill_value": 0.0}
    augmented = keras.Sequential([keras.Input((28, 28, 1)),
                                  keras.layers.RandomRotation(rotation, **fill, name="random_rotation"),
                                  keras.layers.RandomTranslation(translation, translation, **fill,
                                                                 name="random_translation"),
                                  keras.layers.RandomZoom(zoom, **fill, name="random_zoom"),
                                  *model.layers])
    augmented.compile(optimizer=model.optimizer, loss=model.loss, metrics=["accuracy"],
                      steps_per_execution=STEPS_PER_EXECUTION)
    return augmented


@keras.saving.register_keras_serializable(package="harness")
class FusedBatchNormalization(keras.layers.BatchNormalization):
    """keras.layers.BatchNormalization, trained with TensorFlow's fused kernel (one op instead of
    Keras 3's several; batchnorm_cv.py's epochs 1.1x faster with 2 threads, 1.2x with 1: README, Speed).

    Same layer, same learning: it normalizes with the batch's mean and biased
    variance and updates the moving statistics exactly as Keras does. (The
    fused kernel returns the variance with Bessel's correction, n/(n-1), which
    is undone here.) Inference, other backends and other layouts use Keras's own ops.
    """

    def call(self, inputs, training=None, mask=None):
        rank = len(inputs.shape)
        if (not (training and self.trainable) or keras.backend.backend() != "tensorflow" or mask is not None
                or rank not in (2, 4) or self.axis not in (-1, rank - 1) or self.renorm):
            return super().call(inputs, training=training, mask=mask)
        import tensorflow as tf
        x = inputs if rank == 4 else tf.reshape(inputs, [-1, 1, 1, inputs.shape[-1]])  # NHWC, as the kernel wants
        y, mean, variance = tf.compat.v1.nn.fused_batch_norm(x, self.gamma, self.beta, epsilon=self.epsilon,
                                                             is_training=True)
        n = tf.cast(tf.size(x) // x.shape[-1], variance.dtype)
        variance = variance * (n - 1) / n
        self.moving_mean.assign(self.moving_mean * self.momentum + mean * (1.0 - self.momentum))
        self.moving_variance.assign(self.moving_variance * self.momentum + variance * (1.0 - self.momentum))
        return tf.reshape(y, tf.shape(inputs))


class Progress(keras.callbacks.Callback):
    """One line per epoch on stderr with the time left for the whole run (Keras's bar only knows the epoch)."""

    def __init__(self, total_epochs, label=""):
        super().__init__()
        self.total_epochs, self.label, self.done = total_epochs, label, 0
        self.start = time.monotonic()

    def on_epoch_end(self, epoch, logs=None):
        self.done += 1
        elapsed = time.monotonic() - self.start
        eta = elapsed / self.done * (self.total_epochs - self.done)
        metrics = " ".join(f"{k}={v:.4f}" for k, v in (logs or {}).items() if "accuracy" in k)
        print(f"{self.label}epoch {epoch + 1}: {metrics} | {self.done}/{self.total_epochs} epochs, "
              f"elapsed {format_seconds(elapsed)}, ETA {format_seconds(eta)}", file=sys.stderr, flush=True)


def format_seconds(s):
    m, s = divmod(int(round(s)), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def fit_verbosity():
    """Keras's live progress bar on a terminal; in a log file our one line per epoch is enough."""
    return 1 if sys.stdout.isatty() else 0


# ---------------------------------------------------------------- cross-validation

def fold_seed(seed, fold):
    """Each fold seeds itself, so a resumed run trains fold k exactly as an uninterrupted one."""
    return seed * 1000 + fold


def split_fingerprint(folds):
    """A short hash of the folds' test indices: two runs pair fold by fold only if these match."""
    h = hashlib.sha256()
    for _, test_ix in folds:
        h.update(np.asarray(test_ix, dtype=np.int64).tobytes())
    return h.hexdigest()[:16]


def kfold_splits(n_samples, n_folds=5, seed=1):
    """The tutorial's KFold(n_folds, shuffle=True, random_state=1), as a list of (train_ix, test_ix)."""
    kfold = KFold(n_folds, shuffle=True, random_state=seed)
    return list(kfold.split(np.zeros(n_samples)))


def train(model, trainX, trainY, testX, testY, epochs=10, batch_size=32, callbacks=(), verbose=None):
    """The tutorial's model.fit(..., validation_data=(testX, testY)), scoring the test split at a larger batch."""
    return model.fit(trainX, trainY, epochs=epochs, batch_size=batch_size,
                     validation_data=(testX, testY), validation_batch_size=EVAL_BATCH_SIZE,
                     verbose=fit_verbosity() if verbose is None else verbose, callbacks=list(callbacks))


def evaluate_fold(define_model, dataX, dataY, train_ix, test_ix, seed, epochs=10, batch_size=32,
                  scaling="normalize", augment=False, callbacks=(), verbose=None, model=None):
    """One fold: train a fresh model from define_model() on the train rows, score it on the test rows.

    Returns (accuracy, history, model). `model`, if given, is trained on
    instead of a fresh one (the tutorial's --reuse-model way).
    """
    if model is None:
        keras.backend.clear_session()  # a fresh graph per fold: memory stays flat fold after fold
    keras.utils.set_random_seed(seed)
    # select rows for train and test
    trainX, trainY, testX, testY = dataX[train_ix], dataY[train_ix], dataX[test_ix], dataY[test_ix]
    if model is None:
        model = with_scaling(define_model(), scaling, trainX)
        if augment:
            model = with_augmentation(model)
    history = train(model, trainX, trainY, testX, testY, epochs, batch_size, callbacks, verbose)
    # The last epoch's validation pass has just scored this fold's test
    # split with the final weights: that is the tutorial's model.evaluate.
    accuracy = history.history["val_accuracy"][-1]
    return accuracy, {k: [float(v) for v in vs] for k, vs in history.history.items()}, model


def evaluate_model(dataX, dataY, define_model, n_folds=5, epochs=10, batch_size=32, seed=1,
                   reuse_model=False, scaling="normalize", augment=False, done=None, on_fold_end=None,
                   executor=None):
    """k-fold cross-validation; returns (scores, histories), one per fold, in fold order.

    A fresh model from define_model() is trained in every fold. With
    reuse_model=True one model keeps training across folds, as the original
    tutorial did, so folds 2..k score images it has already trained on.
    `scaling` other than "normalize" adds a pixel-scaling layer whose
    statistics come from the fold's training split only; `augment` adds
    random rotation, shift and zoom of the training images.
    `done` maps fold -> (score, history) for folds finished earlier (--resume).
    `executor` (see workers.py) runs the folds in parallel, in worker
    processes or on a cluster; without one they run here, one after another.
    on_fold_end(finished) gets every finished fold after each one ends.
    """
    finished = dict(done or {})
    folds = kfold_splits(len(dataX), n_folds, seed)
    todo = [fold for fold in range(n_folds) if fold not in finished]
    progress = Progress(epochs * len(todo))

    def fold_task(fold):
        train_ix, test_ix = folds[fold]
        return dict(define_model=define_model, dataX=dataX, dataY=dataY, train_ix=train_ix, test_ix=test_ix,
                    seed=fold_seed(seed, fold), epochs=epochs, batch_size=batch_size, scaling=scaling,
                    augment=augment)

    def in_turn():
        model = None
        for fold in todo:
            progress.label = f"fold {fold + 1}/{n_folds} "
            acc, history, model = evaluate_fold(**fold_task(fold), callbacks=[progress],
                                                model=model if reuse_model else None)
            yield fold, acc, history

    def report_epoch(fold, epoch, logs):
        progress.label = f"fold {fold + 1}/{n_folds} "
        progress.on_epoch_end(epoch, logs)

    if executor is None or reuse_model:
        results = in_turn()
    else:
        import workers  # the process pool and cluster machinery
        results = workers.run_folds(executor, [(fold, fold_task(fold)) for fold in todo], report_epoch)
    unreported = list(todo)
    for fold, acc, history in results:
        finished[fold] = (acc, history)
        if on_fold_end:
            on_fold_end(finished)  # saved before it is reported: a fold shown is a fold kept
        while unreported and unreported[0] in finished:  # the tutorial's lines, in fold order
            print("> %.3f" % (finished[unreported.pop(0)][0] * 100.0), flush=True)
    return [finished[f][0] for f in range(n_folds)], [finished[f][1] for f in range(n_folds)]


# ---------------------------------------------------------------- plots

def save_figure(fig, path, show=False):
    import matplotlib.pyplot as plt
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100, bbox_inches="tight")
    if show:
        plt.show()
    plt.close(fig)


def summarize_diagnostics(histories, path, show=False):
    """Learning curves: loss and accuracy per epoch, train blue, validation orange, every fold."""
    import matplotlib.pyplot as plt
    fig, (ax_loss, ax_acc) = plt.subplots(2, 1, figsize=(7, 7), sharex=True)
    for h in histories:
        epochs = range(1, len(h["loss"]) + 1)
        ax_loss.plot(epochs, h["loss"], color="blue", label="train")
        ax_loss.plot(epochs, h["val_loss"], color="orange", label="test")
        ax_acc.plot(epochs, h["accuracy"], color="blue", label="train")
        ax_acc.plot(epochs, h["val_accuracy"], color="orange", label="test")
    ax_loss.set_title("Cross Entropy Loss")
    ax_acc.set_title("Classification Accuracy")
    ax_acc.set_xlabel("epoch")
    ax_loss.legend(*[x[:2] for x in ax_loss.get_legend_handles_labels()])
    fig.tight_layout()
    save_figure(fig, path, show)


def summarize_performance(scores, path, show=False):
    """Print mean and std of the fold accuracies and save their box plot."""
    import matplotlib.pyplot as plt
    print("Accuracy: mean=%.3f std=%.3f, n=%d" % (np.mean(scores) * 100, np.std(scores) * 100, len(scores)),
          flush=True)
    fig, ax = plt.subplots(figsize=(4, 5))
    ax.boxplot(np.asarray(scores) * 100)
    ax.set_ylabel("fold accuracy (%)")
    fig.tight_layout()
    save_figure(fig, path, show)


# ---------------------------------------------------------------- files

@contextlib.contextmanager
def atomic_path(path):
    """Yield a temp path beside `path` with the same extension; rename it into
    place only if the block finishes, so an interrupted write never replaces a
    good file with a broken one."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    stem, ext = os.path.splitext(os.path.basename(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{stem}.", suffix=ext, dir=folder)
    os.close(fd)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_json(obj, path):
    with atomic_path(path) as tmp:
        with open(tmp, "w") as f:
            json.dump(obj, f, indent=1)
            f.write("\n")


def versions():
    import sklearn
    v = {"python": platform.python_version(), "keras": keras.__version__, "backend": keras.backend.backend(),
         "numpy": np.__version__, "scikit-learn": sklearn.__version__}
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf
        v["tensorflow"] = tf.__version__
    return v


def save_model(model, path):
    """model.save() through a temp file, so killing the run never leaves a broken model at `path`."""
    with atomic_path(path) as tmp:
        model.save(tmp)


def load_model(path):
    """keras.models.load_model (safe_mode stays on), with one-line errors for the user's file."""
    if not os.path.isfile(path):
        raise UserError(f"{path}: model file not found (train one with: python train_final.py)")
    try:
        model = keras.models.load_model(path)
    except Exception as e:
        reason = str(e).strip().splitlines()[0] if str(e).strip() else e.__class__.__name__
        raise UserError(f"{path}: not a loadable Keras model ({reason})")
    if tuple(model.input_shape[1:]) != (28, 28, 1) or tuple(model.output_shape[1:]) != (10,):
        raise UserError(f"{path}: model takes {model.input_shape} and gives {model.output_shape}; "
                        "expected (None, 28, 28, 1) -> (None, 10)")
    return model


# ---------------------------------------------------------------- command line

def add_data_args(parser, limit=True):
    parser.add_argument("--data", metavar="PATH",
                        help="local MNIST .npz in Keras's layout (default: $MNIST_PATH, else download via Keras)")
    if limit:
        parser.add_argument("--limit", type=int, metavar="N", help="use only the first N training images")


def add_training_args(parser):
    parser.add_argument("--epochs", type=int, default=10, metavar="N", help="training epochs (default: 10)")
    parser.add_argument("--batch-size", type=int, default=32, metavar="N", help="batch size (default: 32)")
    parser.add_argument("--learning-rate", type=float, default=0.01, metavar="LR",
                        help="SGD learning rate (default: 0.01; extension: try 0.001, 0.0001)")
    parser.add_argument("--scaling", choices=SCALINGS, default="normalize",
                        help="pixel scaling (default: normalize to [0, 1]; extension: center, standardize)")
    parser.add_argument("--augment", action="store_true",
                        help=f"randomly rotate (up to {AUGMENT_ROTATION * 360:g} degrees), shift (up to "
                             f"{AUGMENT_TRANSLATION * 100:g}%% of the side) and zoom (up to {AUGMENT_ZOOM * 100:g}%%) "
                             "the training images; inference unchanged (default: off, the tutorial's way)")
    parser.add_argument("--seed", type=int, default=1, metavar="S",
                        help="seed for the fold split, weights and shuffling; same seed, same scores (default: 1)")
    add_data_args(parser)


def positive(parser, args, *names):
    for name in names:
        value = getattr(args, name.replace("-", "_"))
        if value is not None and value < 1:
            parser.error(f"--{name} must be at least 1")


def run(main):
    """Call main(); a UserError becomes one line on stderr and exit status 1, Ctrl-C exit status 130."""
    try:
        main()
    except UserError as e:
        print(f"{os.path.basename(sys.argv[0])}: error: {e}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print(f"\n{os.path.basename(sys.argv[0])}: interrupted", file=sys.stderr)
        sys.exit(130)


def cv_config(args, script):
    return {"script": script, "epochs": args.epochs, "batch_size": args.batch_size, "folds": args.folds,
            "seed": args.seed, "limit": args.limit, "reuse_model": args.reuse_model, "scaling": args.scaling,
            "learning_rate": args.learning_rate, "variant": getattr(args, "variant", None),
            "augment": args.augment}


def default_out(args, script):
    """results/<script>, plus a suffix for each setting off the tutorial's, so experiments never overwrite."""
    name = script[:-3]
    if getattr(args, "variant", None):
        name += f"-{args.variant}"
    if args.scaling != "normalize":
        name += f"-{args.scaling}"
    if args.learning_rate != 0.01:
        name += f"-lr{args.learning_rate:g}"
    if args.reuse_model:
        name += "-reuse"
    if getattr(args, "augment", False):
        name += "-augment"
    return os.path.join("results", name)


def cv_main(define_model, script, description, variants=None, threads_per_fold=1):
    """Everything a CV stage script does: parse flags, run evaluate_model, write scores and plots.

    `variants` (name -> define_model) adds a --variant flag choosing among them.
    `threads_per_fold`: how many cores one fold of this model uses well; the
    default --jobs is the number of cores over that (at most the folds).
    """
    import workers  # the process pool and the cluster: their own module
    parser = argparse.ArgumentParser(prog=script, description=description)
    add_training_args(parser)
    if variants:
        parser.add_argument("--variant", choices=list(variants), default=next(iter(variants)),
                            help=f"which model (default: {next(iter(variants))})")
    parser.add_argument("--folds", type=int, default=5, metavar="K", help="cross-validation folds (default: 5)")
    parser.add_argument("--out", metavar="DIR",
                        help=f"where scores.json and the plots go (default: results/{script[:-3]}, "
                             "with a suffix per setting changed, e.g. -center, -lr0.001, -reuse)")
    parser.add_argument("--show", action="store_true", help="also open the plots in windows")
    parser.add_argument("--reuse-model", action="store_true",
                        help="the original tutorial's way: ONE model trained on across all folds, "
                             "so folds 2..k are scored on images it has trained on (for comparison only)")
    parser.add_argument("--resume", action="store_true",
                        help="continue an interrupted run from its scores.json (same configuration only)")
    add_parallel_args(parser, default_jobs=workers.default_jobs(5, threads_per_fold))
    args = parser.parse_args()
    positive(parser, args, "epochs", "batch-size", "limit", "jobs")
    if args.folds < 2:
        parser.error("--folds must be at least 2")
    if not args.show:
        import matplotlib
        matplotlib.use("Agg")  # headless: plots go to files and never block
    if variants:
        define_model = variants[args.variant]
    jobs = args.jobs or workers.default_jobs(args.folds, threads_per_fold)
    if args.reuse_model and (jobs > 1 or args.cluster):
        if args.jobs or args.cluster:
            print(f"{script}: --reuse-model trains one model across the folds, so they run one after another "
                  "in this process", file=sys.stderr)
        jobs, args.cluster = 1, None
    out = args.out or default_out(args, script)
    scores_path = os.path.join(out, "scores.json")
    config = cv_config(args, script)

    def main():
        done, done_split = resume_folds(scores_path, config) if args.resume else ({}, None)
        trainX, trainY, _, _ = load_dataset(args.data, args.limit)
        if len(trainX) < args.folds:
            raise UserError(f"--limit {args.limit} leaves fewer images than --folds {args.folds}")
        trainX, _ = prep_pixels(trainX, trainX[:0])
        split = split_fingerprint(kfold_splits(len(trainX), args.folds, args.seed))
        if done and split != done_split:
            raise UserError(f"{scores_path}: cannot resume, the earlier run split other data into folds")
        start = time.monotonic() - (done_seconds(scores_path) if done else 0.0)

        def save_scores(finished):
            write_scores(scores_path, finished, config, len(trainX), split, args.data,
                         time.monotonic() - start)

        build_model = functools.partial(define_model, args.learning_rate)  # picklable, for worker processes
        again = " ".join([os.path.basename(sys.executable), script] + [a for a in sys.argv[1:] if a != "--resume"])
        try:
            # no more workers than folds to run (each then gets a bigger share of the cores)
            with workers.make_executor(max(1, min(jobs, args.folds - len(done))), args.cluster) as executor:
                scores, histories = evaluate_model(trainX, trainY, build_model, args.folds, args.epochs,
                                                   args.batch_size, args.seed, args.reuse_model, args.scaling,
                                                   args.augment, done, save_scores, executor)
        except KeyboardInterrupt:
            print(f"\ninterrupted: {folds_kept(scores_path)} of {args.folds} folds kept in {scores_path}; "
                  f"continue with: {again} --resume", file=sys.stderr)
            sys.exit(130)
        except workers.BrokenProcessPool:
            raise UserError(f"a worker process died mid-fold; {folds_kept(scores_path)} of {args.folds} folds "
                            f"kept in {scores_path}; continue with: {again} --resume")
        summarize_diagnostics(histories, os.path.join(out, "learning_curves.png"), args.show)
        summarize_performance(scores, os.path.join(out, "boxplot.png"), args.show)

    run(main)


def add_parallel_args(parser, default_jobs):
    parser.add_argument("--jobs", type=int, metavar="N",
                        help="folds run at once, each in its own worker process with a share of the cores "
                             f"(default: the fastest on this machine for this model, here {default_jobs}; "
                             "1 runs them in turn in this process)")
    parser.add_argument("--cluster", metavar="ADDRESS",
                        help="run the folds on a Dask cluster: a scheduler address (tcp://host:8786), a scheduler "
                             "file, or 'local' for a LocalCluster of --jobs workers here "
                             "(pip install -r requirements-cluster.txt)")


def write_scores(path, finished, config, n_samples, split, data, wall_seconds):
    """scores.json: the finished folds' scores and histories in fold order, and how they were made."""
    folds = sorted(finished)
    scores = [float(finished[f][0]) for f in folds]
    write_json({"scores": scores, "folds": folds, "mean": float(np.mean(scores)), "std": float(np.std(scores)),
                "n": len(scores), "complete": len(scores) == config["folds"],
                "histories": [finished[f][1] for f in folds], "config": config, "n_samples": n_samples,
                "split": split, "data": data or os.environ.get("MNIST_PATH") or "keras.datasets.mnist",
                "wall_seconds": round(wall_seconds, 1), "versions": versions()},
               path)


def folds_kept(scores_path):
    try:
        with open(scores_path) as f:
            return len(json.load(f)["scores"])
    except (OSError, ValueError, KeyError):
        return 0


def done_seconds(scores_path):
    with open(scores_path) as f:
        return json.load(f).get("wall_seconds", 0.0)


def resume_folds(scores_path, config):
    """fold -> (score, history) for each fold an earlier run with the same configuration finished, and its split."""
    if config["reuse_model"]:
        raise UserError(f"{scores_path}: --resume does not work with --reuse-model (the shared model is not saved)")
    try:
        with open(scores_path) as f:
            saved = json.load(f)
    except FileNotFoundError:
        raise UserError(f"{scores_path}: nothing to resume (no earlier run there)")
    except (OSError, ValueError) as e:
        raise UserError(f"{scores_path}: cannot resume from it ({e})")
    earlier = {"augment": False, **saved.get("config", {})}  # runs from before --augment existed
    if earlier != config:
        diff = sorted(k for k in set(config) | set(earlier) if config.get(k) != earlier.get(k))
        raise UserError(f"{scores_path}: cannot resume, the earlier run used other settings ({', '.join(diff)})")
    folds = saved.get("folds", range(len(saved["scores"])))  # files from before --jobs: a prefix of the folds
    return dict(zip(folds, zip(saved["scores"], saved["histories"]))), saved.get("split")


# ---------------------------------------------------------------- Section 1: look at the data

def main():
    """`python harness.py`: the tutorial's first listing. Load MNIST, print the
    shapes of its arrays as loaded, and plot the first nine training images."""
    parser = argparse.ArgumentParser(prog="harness.py", description="Section 1 of the tutorial: load MNIST, "
                                     "print its shapes and save the first nine training images as a 3x3 grid")
    add_data_args(parser)
    parser.add_argument("--out", default=os.path.join("results", "dataset"), metavar="DIR",
                        help="where first_nine.png goes (default: results/dataset)")
    parser.add_argument("--show", action="store_true", help="also open the plot in a window")
    args = parser.parse_args()
    positive(parser, args, "limit")
    if not args.show:
        import matplotlib
        matplotlib.use("Agg")  # headless: the plot goes to a file and never blocks

    def look():
        import matplotlib.pyplot as plt
        # load_dataset's loading, before its reshape and one-hot encoding
        path = args.data or os.environ.get("MNIST_PATH")
        (trainX, trainY), (testX, testY) = read_mnist_npz(path) if path else download_mnist()
        if args.limit:
            trainX, trainY = trainX[:args.limit], trainY[:args.limit]
        # summarize loaded dataset
        print("Train: X=%s, y=%s" % (trainX.shape, trainY.shape))
        print("Test: X=%s, y=%s" % (testX.shape, testY.shape), flush=True)
        # plot the first few images
        fig = plt.figure(figsize=(6, 6))
        for i in range(min(9, len(trainX))):
            fig.add_subplot(3, 3, i + 1).imshow(trainX[i], cmap=plt.get_cmap("gray"))
        grid = os.path.join(args.out, "first_nine.png")
        save_figure(fig, grid, args.show)
        print(f"first nine training images: {grid}", file=sys.stderr)

    run(look)


if __name__ == "__main__":
    main()
