"""Cross-validation folds in parallel: worker processes on this machine (--jobs N) or a Dask cluster (--cluster).

Each fold trains a fresh, separately seeded model, so the folds are
independent tasks that any concurrent.futures executor can run. This module
makes one and runs folds on it, with whatever fold function it is given
(harness.evaluate_fold): it knows nothing of the tutorial.

  * make_executor(jobs, cluster): a process pool on this machine, started
    with spawn (TensorFlow is not fork-safe), each worker given its share of
    the cores; or Dask's client.get_executor() on a cluster (an address, a
    scheduler file, or "local" for a LocalCluster here);
  * run_folds(executor, fold_function, tasks, on_epoch): runs
    fold_function(**task) for each fold on the workers, relays every worker's epochs to the caller's
    progress line (one line, one ETA), and yields the folds as they finish.

A worker that dies mid-fold breaks a local pool (concurrent.futures.process.
BrokenProcessPool: the caller keeps the finished folds and says how to
resume); on a Dask cluster the scheduler runs that fold again on another
worker, and the run ends with the same scores.
"""
import concurrent.futures
import contextlib
import glob
import logging
import multiprocessing
import os
import queue
import random
import shutil
import signal
import tempfile
import threading
from concurrent.futures.process import BrokenProcessPool  # noqa: F401 (callers catch it)

import numpy as np

from plumbing.cli import UserError

CLUSTER_REQUIREMENTS = "requirements-cluster.txt"
# The project's packages a fold may import (the CV scripts' models, harness.evaluate_fold and what it uses)
PACKAGES = ("experiments", "handwriting", "network", "plumbing")


def default_jobs(n_tasks, threads_per_task=1):
    """As many workers as the cores allow when each task gets `threads_per_task` (measured per model: docs/speed.md)."""
    return max(1, min(n_tasks, (os.cpu_count() or 1) // threads_per_task))


def threads_per_worker(jobs):
    """Each of `jobs` workers gets an equal share of the cores, so together they do not oversubscribe them."""
    return max(1, (os.cpu_count() or 1) // jobs)


# ---------------------------------------------------------------- in a worker process

epochs_queue = None  # where this worker reports its epochs (set by start_worker)


def start_worker(threads, queue_for_epochs):
    """Runs once in every local worker process, before any fold."""
    global epochs_queue
    epochs_queue = queue_for_epochs
    limit_threads(threads)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's: it stops the workers itself


def limit_threads(threads):
    """Size this process's thread pools to its share of the cores (TensorFlow otherwise takes every core)."""
    import plumbing.quiet  # noqa: F401  (before Keras: a worker starts without TensorFlow's C++ notes)

    import keras

    for name in ("OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS"):
        os.environ[name] = str(threads)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)


EPOCH_TOPIC = "mnist-cv-epochs"  # the Dask event topic that carries the workers' epochs


class DaskEvents:
    """put() on a Dask worker: an event sent with the worker's own connection to the scheduler, which
    the parent subscribed to. (A dask.distributed.Queue would start a client inside the worker while the
    fold runs, whose retries draw from Python's global `random`, from which Keras draws weight seeds.)"""

    def put(self, item):
        from dask.distributed import get_worker
        get_worker().log_event(EPOCH_TOPIC, item)


def run_fold(fold_function, key, kwargs, destination=None):
    """One fold in a worker: fold_function(**kwargs) with a fresh model; returns (accuracy, history)."""
    import plumbing.quiet  # noqa: F401  (before Keras: a Dask worker is not started by start_worker)

    import keras

    destination = destination or epochs_queue
    # after every epoch, (key, epoch, logs) for the parent's progress line
    report = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: destination.put(
        (key, epoch, {k: float(v) for k, v in (logs or {}).items()})))
    with own_python_random(kwargs["seed"]):
        accuracy, history, _ = fold_function(**kwargs, callbacks=[report], verbose=0)
    return accuracy, history


@contextlib.contextmanager
def own_python_random(seed):
    """Keras draws each layer's default weight seed from Python's global `random`, which a Dask
    worker's own threads also draw from: the weights would then depend on timing. Give Keras a
    generator of its own for the fold, seeded as keras.utils.set_random_seed(seed) seeds the global one.
    (Keras has no public way to give it one: keras.src.random.seed_generator is where it keeps its
    reference to `random`, so this reaches in there.)"""
    from keras.src.random import seed_generator
    shared = seed_generator.python_random
    seed_generator.python_random = random.Random(seed)
    try:
        yield
    finally:
        seed_generator.python_random = shared


# ---------------------------------------------------------------- in the parent

def is_dask(executor):
    return type(executor).__module__.startswith("distributed")


def describe_executor(executor):
    """How the folds run, for the line that says what a run trains on."""
    if executor is None:
        return "in turn, in this process"
    if is_dask(executor):
        from dask.distributed import get_client
        client = get_client()
        return f"on the Dask cluster at {client.scheduler.address} ({len(client.scheduler_info()['workers'])} workers)"
    return f"in {executor.jobs} worker processes"


@contextlib.contextmanager
def make_executor(jobs, cluster=None):
    """A concurrent.futures executor for the folds: `jobs` local worker processes, or a Dask cluster.

    `cluster`: None (local processes), "local" (a Dask LocalCluster of `jobs`
    single-threaded worker processes here), a scheduler address
    ("tcp://host:8786") or a scheduler file (JSON, as `dask scheduler
    --scheduler-file` writes). None, for one job and no cluster: the folds then
    run in turn in the calling process.
    """
    if jobs == 1 and not cluster:
        yield None
        return
    if cluster:
        with dask_executor(jobs, cluster) as executor:
            yield executor
        return
    threads = threads_per_worker(jobs)
    context = multiprocessing.get_context("spawn")  # never fork once TensorFlow is loaded
    epochs = context.Queue()
    pool = concurrent.futures.ProcessPoolExecutor(jobs, mp_context=context, initializer=start_worker,
                                                  initargs=(threads, epochs))
    pool.epochs = epochs  # where the workers report their epochs (run_folds reads it)
    pool.jobs = jobs  # how many (describe_executor says it; the pool keeps it only in a private attribute)
    try:
        yield pool
    finally:
        stop_workers(pool)


def stop_workers(pool):
    """Cancel what has not started and end the worker processes now: a running fold cannot be
    interrupted from outside, and waiting for it would keep Ctrl-C waiting for minutes.
    (concurrent.futures gets a public call for this, terminate_workers(), only in Python 3.14: until then
    the pool's processes are its private _processes.)"""
    processes = list((pool._processes or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(5)


@contextlib.contextmanager
def dask_executor(jobs, cluster):
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise UserError(f"--cluster {cluster}: Dask is not installed "
                                f"(pip install -r {CLUSTER_REQUIREMENTS})")
    local = None
    try:
        if cluster == "local":
            # One fold at a time per worker process, and each its share of the cores, as the local pool does.
            threads = str(threads_per_worker(jobs))
            env = {name: threads for name in ("OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")}
            local = LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True, dashboard_address=None,
                                 silence_logs=logging.ERROR, env=env)
            client = Client(local)
        else:
            if cluster.endswith(".json") or os.path.isfile(cluster):
                client = Client(scheduler_file=cluster, timeout="10s")
            else:
                client = Client(cluster, timeout="10s")
            # The scheduler and the workers (also those that join later) get this code from here, so
            # they need only the requirements installed, and run the same version as this process.
            for path in code_files():
                client.upload_file(path, load=path.endswith(".zip"))  # a .zip joins sys.path only when loaded
    except (OSError, TimeoutError, ValueError) as e:
        if local:
            local.close()
        raise UserError(f"--cluster {cluster}: cannot connect to a Dask scheduler ({e})".replace("\n", " "))
    executor = client.get_executor()
    executor.epochs = queue.Queue()  # the workers' epochs arrive here (run_folds reads it)
    client.subscribe_topic(EPOCH_TOPIC, lambda event: executor.epochs.put(event[1]))
    try:
        yield executor
    finally:
        executor.shutdown(wait=False)  # cancels the folds not finished
        client.close()
        if local:
            local.close()


def code_files():
    """The project's code a fold task refers to: its top-level modules, and each package as a zip
    (Dask's upload_file puts a .zip on the workers' sys.path)."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    folder = tempfile.mkdtemp()
    packages = [shutil.make_archive(os.path.join(folder, name), "zip", here, name) for name in PACKAGES]
    return sorted(glob.glob(os.path.join(here, "*.py"))) + packages


def share_arrays(executor, tasks):
    """On Dask, send each large array to every worker once (scattered), not inside every task."""
    if not is_dask(executor):
        return tasks
    from dask.distributed import get_client
    client, scattered = get_client(), {}
    for _, kwargs in tasks:
        for value in kwargs.values():
            if isinstance(value, np.ndarray) and value.nbytes > 1_000_000 and id(value) not in scattered:
                scattered[id(value)] = client.scatter(value, broadcast=True, hash=False)
    return [(key, {k: scattered.get(id(v), v) for k, v in kwargs.items()}) for key, kwargs in tasks]


def run_folds(executor, fold_function, tasks, on_epoch):
    """Run fold_function(**kwargs) for each (key, kwargs) in `tasks` on the executor's workers.

    fold_function returns (accuracy, history, model), as harness.evaluate_fold
    does, and must be importable by name in the workers. Tasks start in the
    order given. Yields (key, accuracy, history) as each fold finishes, in any
    order. Every worker's epochs reach on_epoch(key, epoch, logs), so one
    progress line can cover the whole run.
    """
    destination = DaskEvents() if is_dask(executor) else None  # local workers got their queue at start
    done = threading.Event()
    relay = threading.Thread(target=relay_epochs, args=(executor.epochs, on_epoch, done), daemon=True)
    relay.start()
    futures = {executor.submit(run_fold, fold_function, key, kwargs, destination): key
               for key, kwargs in share_arrays(executor, tasks)}
    try:
        for future in concurrent.futures.as_completed(futures):
            try:
                accuracy, history = future.result()
            except Exception as e:
                if not is_dask(executor):
                    raise
                # A remote traceback tells the user little: one line, with what usually causes it.
                reason = f"{type(e).__name__}: {e}".strip().splitlines()[0]
                raise UserError(f"--cluster: a fold failed on the cluster ({reason}); the workers need "
                                        "requirements.txt installed, as here")
            yield futures[future], accuracy, history
    finally:
        for future in futures:
            future.cancel()
        done.set()
        relay.join(2)


def relay_epochs(source, on_epoch, done):
    while not done.is_set():
        try:
            key, epoch, logs = source.get(timeout=0.5)
        except (queue.Empty, TimeoutError, OSError, EOFError):
            continue
        on_epoch(key, epoch, logs)
