"""Execute tutorial.ipynb top to bottom at its defaults in a fresh kernel and write its outputs into it.

    MNIST_PATH=path/to/mnist.npz python tools/run_notebook.py     # about 2 hours on a 2-core CPU

The committed run took 2 h 0 min (2-core AMD EPYC shared with other jobs, 2026-12-01): the tutorial's stages
and the extensions the notebook runs after them (baseline_cv.py --learning-rate 0.001, depth_cv.py --variant dense).

The committed notebook's outputs are such a run. It runs on a copy of the
last commit (git archive HEAD), so editing the working tree meanwhile changes
nothing of what runs; only tutorial.ipynb is written back. Executed as
tests/test_notebook.py executes it (nbclient, coalesce_streams=True: a cell's
stdout in one output, its stderr in another, each progress line at its last
state).
"""
import os
import subprocess
import sys
import tempfile
import time

import nbformat
from nbclient import NotebookClient

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

import plumbing.quiet  # noqa: E402, F401  (before Keras, which plumbing.progress imports: no start-up notes)
from plumbing import files  # noqa: E402
from plumbing.progress import format_seconds  # noqa: E402


def main():
    with tempfile.TemporaryDirectory(prefix="tutorial-run-") as copy:
        archive = subprocess.run(["git", "-C", REPO, "archive", "HEAD"], check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", copy], input=archive, check=True)
        nb = nbformat.read(os.path.join(copy, "tutorial.ipynb"), as_version=4)
        start = time.monotonic()
        client = NotebookClient(nb, kernel_name="python3", timeout=None, record_timing=False, coalesce_streams=True,
                                resources={"metadata": {"path": copy}})
        client.execute()
    with files.atomic_path(os.path.join(REPO, "tutorial.ipynb")) as tmp:
        nbformat.write(nb, tmp)
    print(f"tutorial.ipynb: executed in {format_seconds(time.monotonic() - start)}")


if __name__ == "__main__":
    main()
