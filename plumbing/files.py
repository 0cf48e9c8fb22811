"""Files a run reads and writes: written atomically (temp file, then rename); read with one-line errors."""
import contextlib
import json
import os
import tempfile

import numpy as np

from plumbing.cli import MODEL, UserError

MNIST_KEYS = {"x_train": 3, "y_train": 1, "x_test": 3, "y_test": 1}


def run_folder(name, suffix="", model=None):
    """Where a run writes its outputs: results/<name><suffix>, plus -<the model file's stem> for a `model`
    other than final_model.h5. The suffixes name what the run was given off its defaults (settings, model),
    so a quick try never replaces a finished run's outputs, and the same command again replaces its own."""
    name = os.path.basename(name).removesuffix(".py") + suffix
    stem = os.path.splitext(os.path.basename(model))[0] if model else None
    if stem and stem != os.path.splitext(MODEL)[0]:
        name += "-" + stem
    return os.path.join("results", name)


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
        # mkstemp makes the file owner-only; the file in place gets the mode any new file gets here
        os.chmod(tmp, 0o666 & ~current_umask())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def current_umask():
    """The process's umask (reading it means setting it: it is put straight back)."""
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


def write_json(obj, path):
    with atomic_path(path) as tmp:
        with open(tmp, "w") as f:
            json.dump(obj, f, indent=1)
            f.write("\n")


def save_figure(fig, path, show=False, tight=True):
    """Save as PNG. `tight` crops the margins, for which matplotlib draws the figure twice: a figure that
    sets its own margins can do without."""
    import matplotlib.pyplot as plt

    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100, bbox_inches="tight" if tight else None)
    if show:
        plt.show()
    plt.close(fig)


def read_mnist_npz(path):
    """Read and check a local .npz in Keras's MNIST layout: ((x_train, y_train), (x_test, y_test))."""
    if not os.path.isfile(path):
        raise UserError(f"{path}: data file not found")
    not_mnist = f"{path}: not an .npz file with MNIST's arrays {', '.join(MNIST_KEYS)}"
    try:
        with np.load(path, allow_pickle=False) as data:
            missing = [k for k in MNIST_KEYS if k not in data.files]
            if missing:
                raise UserError(f"{not_mnist} (it has no {', '.join(missing)})")
            arrays = {k: data[k] for k in MNIST_KEYS}
    except UserError:
        raise
    except Exception:  # not a zip, a pickle, a .npy, a text file: all the same to the user
        raise UserError(not_mnist) from None
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
    import keras

    cache = os.path.join(os.environ.get("KERAS_HOME", os.path.expanduser("~/.keras")), "datasets", "mnist.npz")
    try:
        return keras.datasets.mnist.load_data()
    except Exception as e:
        reason = str(e).replace("\n", " ")
        raise UserError(f"{cache}: could not download MNIST ({reason}); "
                        "without a network, name a local copy with --data PATH or MNIST_PATH")
