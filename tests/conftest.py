"""Shared test helpers: where the repo and MNIST are, and how to run a script as a user would."""
import csv
import io
import json
import os
import struct
import subprocess
import sys
import zlib

import numpy as np
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)


def mnist_path():
    """The local MNIST named by MNIST_PATH; tests that need it skip without it, unless REQUIRE_MNIST=1 (CI)."""
    path = os.environ.get("MNIST_PATH")
    if path and os.path.isfile(path):
        return path
    if os.environ.get("REQUIRE_MNIST") == "1":
        pytest.fail(f"REQUIRE_MNIST=1 but MNIST_PATH ({path!r}) is not a file")
    pytest.skip("set MNIST_PATH to a local mnist.npz to run the tests on real MNIST")


@pytest.fixture
def mnist():
    return mnist_path()


def run_script(script, *args, env=None, timeout=600, cwd=REPO):
    """Run one of the project's scripts in a subprocess, as a user would from the shell."""
    full_env = dict(os.environ, PYTHONUNBUFFERED="1", **(env or {}))
    return subprocess.run([sys.executable, os.path.join(REPO, script), *map(str, args)],
                          capture_output=True, text=True, env=full_env, timeout=timeout, cwd=cwd)


def assert_one_line_error(result, *words):
    """A user's mistake: non-zero exit, no traceback, and an error line on stderr naming the problem."""
    assert result.returncode != 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if ": error: " in line]
    assert errors, result.stderr
    for word in words:
        assert any(word in line for line in errors), (word, errors)


@pytest.fixture(scope="session")
def small_model(tmp_path_factory):
    """A deeper model trained by train_final.py on 20,000 MNIST images for one epoch (~20 s)."""
    path = tmp_path_factory.mktemp("model") / "final_model.h5"
    result = run_script("train_final.py", "--data", mnist_path(), "--limit", 20000, "--epochs", 1, "--model", path)
    assert result.returncode == 0, result.stderr
    return path


def tiny_data(n=40):
    """Random images and one-hot labels: enough to train a step and compare runs."""
    rng = np.random.default_rng(0)
    x = rng.random((n, 28, 28, 1), dtype=np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, n)]  # one-hot, as keras.utils.to_categorical
    return x, y


AUGMENTATION_LAYERS = ["RandomRotation", "RandomTranslation", "RandomZoom"]


# A small CV run for the tests of --jobs, --cluster and study.py.
FOLDS = 3
ARGS = ["--limit", 3000, "--epochs", 2, "--folds", FOLDS]


def cv_args(out, *extra):
    return ["--data", mnist_path(), *ARGS, "--out", out, *extra]


def read_scores(out):
    return json.loads((out / "scores.json").read_text())


@pytest.fixture(scope="session")
def in_turn(tmp_path_factory):
    """The reference: baseline_cv.py with --jobs 1, the folds one after another in one process,
    with as many threads as each of 2 workers gets (thread counts change float rounding: docs/parallel.md)."""
    from experiments import workers
    out = tmp_path_factory.mktemp("in_turn")
    threads = str(workers.threads_per_worker(2))
    result = run_script("baseline_cv.py", *cv_args(out, "--jobs", 1),
                        env={"TF_NUM_INTRAOP_THREADS": threads, "TF_NUM_INTEROP_THREADS": threads})
    assert result.returncode == 0, result.stderr
    return result, read_scores(out)

# ---------------------------------------------------------------- images for predict_image.py and predict_web.py

REAL_DIGITS = os.path.join(REPO, "..", "shared", "real_digits")



def real_digit_files():
    if not os.path.isdir(REAL_DIGITS):
        pytest.skip("../shared/real_digits is not beside the repo")
    with open(os.path.join(REAL_DIGITS, "labels.csv")) as f:
        return {os.path.join(REAL_DIGITS, row["file"]): int(row["label"]) for row in csv.DictReader(f)}



def png_bytes(img, **kw):
    buf = io.BytesIO()
    img.save(buf, format=kw.pop("format", "PNG"), **kw)
    return buf.getvalue()



def bomb_png(width, height):
    """A valid PNG header claiming a huge image: Pillow must refuse it before decoding."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0")) + chunk(b"IEND", b"")



def pytest_collection_modifyitems(items):
    """Markers by what a test needs: real MNIST and training (slow), or a browser."""
    for item in items:
        if item.module.__name__ == "test_web":
            item.add_marker(pytest.mark.browser)
        if {"mnist", "small_model", "in_turn"} & set(item.fixturenames) or item.module.__name__ in (
                "test_workers", "test_study", "test_notebook"):
            item.add_marker(pytest.mark.slow)
