"""The user's mistakes as one line and an exit status, never a traceback; flags every script shares."""
import argparse
import os
import sys


class UserError(Exception):
    """A problem the user can fix (a path, a file, the network): one line, no traceback."""


def run(main, prog=None):
    """Call main(); a UserError becomes one line on stderr and exit status 1, Ctrl-C exit status 130."""
    prog = prog or os.path.basename(sys.argv[0])
    try:
        return main()
    except UserError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print(f"\n{prog}: interrupted", file=sys.stderr)
        sys.exit(130)


def add_data_args(parser, limit=True):
    parser.add_argument("--data", metavar="PATH",
                        help="local MNIST .npz in Keras's layout (default: $MNIST_PATH, else download via Keras)")
    if limit:
        parser.add_argument("--limit", type=int, metavar="N", help="use only the first N training images")


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
            parser.error(f"--{name} must be at least 1")


def parser_for(prog, description, **kwargs):
    """An ArgumentParser named after the script, whatever sys.argv[0] is (a notebook kernel's, say)."""
    return argparse.ArgumentParser(prog=prog, description=description, **kwargs)


def headless(show=False):
    """Plots go to files and never block, unless --show asks for windows. (A notebook's kernel keeps
    its own backend: figures are closed once saved, so nothing extra appears there.)"""
    if not show and "ipykernel" not in sys.modules:
        import matplotlib

        matplotlib.use("Agg")
