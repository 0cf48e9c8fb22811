"""Import this before Keras: TensorFlow then starts without its screenful of C++ notes and Python warnings."""
import contextlib
import gc
import logging
import os

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


# TensorFlow's import makes about 700,000 Python objects (gc.get_freeze_count() after it) that live as long
# as the process: the garbage collector's passes over them during the import find nothing to free. Without
# them, and with those objects frozen out of later passes, a start took 8.4 -> 7.6 s (medians of five, 2-core
# AMD EPYC).
gc.disable()
with stderr_silenced():
    import keras

    if keras.backend.backend() == "tensorflow":
        # Looking for GPUs now, in the quiet, spares a CPU-only machine the
        # "failed call to cuInit" line that would otherwise come with the first result.
        import tensorflow as tf

        tf.config.list_physical_devices()
gc.freeze()
gc.enable()

# Keras 3 calls H5 "legacy" (the tutorial's final_model.h5 is H5 on purpose) and
# notes that a loaded model has no metrics until used: neither helps the user.
logging.getLogger("absl").setLevel(logging.ERROR)
# Each fold builds a fresh model, and TensorFlow warns that it traces a fresh graph: that is the point.
logging.getLogger("tensorflow").setLevel(logging.ERROR)
