"""The user's mistakes as one line and an exit status, never a traceback; flags every script shares."""
import argparse
import os
import sys


class UserError(Exception):
    """A problem the user can fix (a path, a file, the network): one line, no traceback, exit status 1."""
    status = 1
    http_status = 400  # what predict_web.py answers for it: Bad Request


class TooLarge(UserError):
    """An input over a size limit (an image past Pillow's, a possible decompression bomb)."""
    http_status = 413  # Content Too Large


class SettingError(UserError):
    """A setting out of range that only the data shows (--limit over its size): exit status 2, as argparse's."""
    status = 2


def run(main, prog=None):
    """Call main(); a UserError becomes one line on stderr and exit status 1 (a SettingError 2), Ctrl-C 130."""
    prog = prog or os.path.basename(sys.argv[0])
    try:
        return main()
    except UserError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        sys.exit(e.status)
    except KeyboardInterrupt:
        print(f"\n{prog}: interrupted", file=sys.stderr)
        sys.exit(130)


def run_then_exit(main):
    """Run a script's main(), then exit at once with its status (0, or sys.exit's: a UserError's 1,
    argparse's 2), skipping Python's teardown: with TensorFlow loaded that takes 1-2 s (measured on a
    2-core AMD EPYC), a tenth of a short script's run. Only for a script that has nothing left to clean
    up when main() returns: its files written and closed, no worker processes; its output is flushed here."""
    try:
        main()
        status = 0
    except SystemExit as e:
        if isinstance(e.code, str):
            print(e.code, file=sys.stderr)
        status = e.code if isinstance(e.code, int) else 0 if e.code is None else 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


MODEL = "final_model.h5"  # the tutorial's final model, what every script reads by default

# The flags several scripts take, defined once: the same name, help and options everywhere. A script
# may give its own default (the help then names it) and options such as action="append".
FLAGS = {
    "model": ("the model, a Keras H5 file", dict(metavar="PATH", default=MODEL)),
    "data": ("local MNIST .npz in Keras's layout (default: $MNIST_PATH, else download via Keras)",
             dict(metavar="PATH")),
    "out": ("where this run's results are written", dict(metavar="DIR")),
    "seed": ("random seed: the initial weights, the shuffling (and a CV script's fold split, a benchmark's "
             "drawn images); same seed, same result", dict(type=int, metavar="S")),
    "limit": ("use only the first N training images", dict(type=int, metavar="N")),
    "epochs": ("training epochs", dict(type=int, metavar="N")),
}


def add_flag(parser, name, default_text=None, **options):
    """Add the shared flag --`name` (a key of FLAGS), with this script's argparse `options` (default=...,
    action="append", ...) over the shared ones. `default_text` says the default when it is not one value."""
    text, shared = FLAGS[name]
    options = {**shared, **options}
    default = default_text or options.get("default")
    if options.get("action") == "append":
        text += f" (repeat for several{f'; default: {default}' if default else ''})"
    elif default is not None:
        text += f" (default: {default})"
    parser.add_argument("--" + name.replace("_", "-"), help=text, **options)


def add_data_args(parser, limit=True):
    """--data, and --limit unless `limit` is False."""
    add_flag(parser, "data")
    if limit:
        add_flag(parser, "limit")


def add_parallel_args(parser, default_jobs):
    parser.add_argument("--jobs", type=int, metavar="N",
                        help="folds run at once, each in its own worker process with a share of the cores "
                             f"(default: the fastest on this machine for this model, here {default_jobs}; "
                             "1 runs them in turn in this process)")
    parser.add_argument("--cluster", metavar="ADDRESS",
                        help="run the folds on a Dask cluster: a scheduler address (tcp://host:8786), a scheduler "
                             "file, or 'local' for a LocalCluster of --jobs workers here "
                             "(pip install -r requirements-cluster.txt)")


def positive(parser, args, *names):
    for name in names:
        value = getattr(args, name.replace("-", "_"), None)
        if value is not None and value < 1:
            parser.error(f"--{name} {value} must be at least 1")


def parser_for(prog, description, **kwargs):
    """An ArgumentParser named after the script, whatever sys.argv[0] is (a notebook kernel's, say)."""
    return argparse.ArgumentParser(prog=prog, description=description, **kwargs)


def headless(show=False):
    """Plots go to files and never block, unless --show asks for windows. (A notebook's kernel keeps
    its own backend: figures are closed once saved, so nothing extra appears there.)"""
    if not show and "ipykernel" not in sys.modules:
        import matplotlib

        matplotlib.use("Agg")
