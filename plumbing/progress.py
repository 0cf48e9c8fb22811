"""What a run tells the user on stderr while it trains: the device it trains on, and one line per epoch."""
import os
import platform
import sys
import time

import plumbing.quiet  # noqa: F401  (before Keras: TensorFlow starts without its C++ notes)

import keras


class Progress(keras.callbacks.Callback):
    """One line per epoch on stderr with the time left for the whole run (Keras's bar only knows the epoch).

    In a notebook each line replaces the one before (a carriage return), and only each training's last
    epoch (every `epochs_per_training`, default all of them) ends its line: the saved outputs keep one
    progress line per training, not one per epoch.
    """

    def __init__(self, total_epochs, label="", epochs_per_training=None):
        super().__init__()
        self.total_epochs, self.label, self.done = total_epochs, label, 0
        self.epochs_per_training = epochs_per_training or total_epochs
        self.in_place = in_notebook()
        self.start = time.monotonic()

    def on_epoch_end(self, epoch, logs=None):
        self.done += 1
        elapsed = time.monotonic() - self.start
        eta = elapsed / self.done * (self.total_epochs - self.done)
        metrics = " ".join(f"{k}={v:.4f}" for k, v in (logs or {}).items() if "accuracy" in k)
        line = (f"{self.label}epoch {epoch + 1}: {metrics} | {self.done}/{self.total_epochs} epochs, "
                f"elapsed {format_seconds(elapsed)}, ETA {format_seconds(eta)}")
        if not self.in_place:
            print(line, file=sys.stderr, flush=True)
        else:
            last = (epoch + 1) % self.epochs_per_training == 0
            print("\r" + line, end="\n" if last else "", file=sys.stderr, flush=True)


def in_notebook():
    """Running in a Jupyter kernel, its stderr shown in the notebook (not a terminal)."""
    return "ipykernel" in sys.modules and not sys.stderr.isatty()


def format_seconds(s):
    m, s = divmod(int(round(s)), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def fit_verbosity():
    """Keras's live progress bar on a terminal; in a log file our one line per epoch is enough."""
    return 1 if sys.stdout.isatty() else 0


def cpu_name():
    """The processor's model name, as the OS reports it (platform.processor() is often empty on Linux)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    if sys.platform == "darwin":
        import subprocess

        try:
            return subprocess.run(["sysctl", "-n", "machdep.cpu.brand_string"], capture_output=True, text=True,
                                  timeout=5).stdout.strip() or platform.machine()
        except OSError:
            pass
    return platform.processor() or platform.machine() or "unknown CPU"


def gpu_names():
    """The names of the GPUs the Keras backend will use (none: it trains on the CPU)."""
    backend = keras.backend.backend()
    try:
        if backend == "tensorflow":
            import tensorflow as tf

            return [tf.config.experimental.get_device_details(gpu).get("device_name", gpu.name)
                    for gpu in tf.config.list_physical_devices("GPU")]
        if backend == "jax":
            import jax

            return [d.device_kind for d in jax.devices() if d.platform == "gpu"]
        if backend == "torch":
            import torch

            return [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    except Exception:  # a broken driver: then the backend trains on the CPU too
        return []
    return []


def describe_device():
    """One line naming what training runs on: the GPU(s), or the CPU's model and core count, and the backend."""
    gpus = gpu_names()
    if gpus:
        where = "GPU " + ", ".join(gpus)
    else:
        where = f"CPU {cpu_name()} ({os.cpu_count()} cores, no GPU found)"
    return f"training on {where}, Keras backend {keras.backend.backend()}"
