"""--help and a usage error answer before the heavy imports: every top-level script, run as a user types it
(under `python -X importtime`, which lists each module the process imported), answers without importing
TensorFlow, Keras, scikit-learn, scikit-image, matplotlib or SciPy (6-9 s with TensorFlow; bench/startup.py
times it). Asserts on what was imported, not on a time."""
import os
import re
import subprocess
import sys

import pytest

from conftest import REPO, assert_one_line_error
from test_layout import SCRIPTS

HEAVY = {"tensorflow", "keras", "sklearn", "skimage", "matplotlib", "scipy",
         "plumbing.quiet"}  # (imports Keras with stderr silenced: the listing then lacks Keras, not it)
# A usage error of each script: a setting out of range where it has one, else argparse's own.
MISTAKES = {
    "baseline_cv.py": (["--epochs", "0"], "--epochs 0 must be at least 1"),
    "batchnorm_cv.py": (["--epochs", "0"], "--epochs 0 must be at least 1"),
    "deeper_cv.py": (["--learning-rate", "-1"], "--learning-rate"),
    "depth_cv.py": (["--variant", "wide"], "invalid choice"),
    "train_final.py": (["--epochs", "0"], "--epochs 0 must be at least 1"),
    "study.py": (["--folds", "1"], "--folds"),
    "harness.py": (["--limit", "0"], "--limit 0 must be at least 1"),
    "evaluate_final.py": (["--no-such-flag"], "unrecognized arguments"),
    "predict_image.py": (["--top-k", "0"], "--top-k"),
    "predict_web.py": (["--port", "70000"], "--port"),
    "visualize.py": (["--member", "x"], "--member"),
    "compare.py": ([], "RESULT"),
}


def imported(script, *args):
    """Run `python -X importtime script args` in the repository: (the result, the top-level names of every
    module it imported, and plumbing.quiet if it did)."""
    result = subprocess.run([sys.executable, "-X", "importtime", os.path.join(REPO, script), *args], cwd=REPO,
                            capture_output=True, text=True, timeout=120)
    modules = re.findall(r"^import time:\s+\d+ \|\s+\d+ \|\s*([\w.]+)\s*$", result.stderr, re.M)
    assert "numpy" in {m.split(".")[0] for m in modules}, result.stderr[-2000:]  # the listing is read
    result.stderr = "\n".join(line for line in result.stderr.splitlines() if not line.startswith("import time:"))
    return result, {m.split(".")[0] for m in modules} | ({"plumbing.quiet"} & set(modules))


def test_every_script_is_checked():
    assert set(MISTAKES) == SCRIPTS


@pytest.mark.parametrize("script", sorted(MISTAKES))
def test_help_answers_before_the_heavy_imports(script):
    result, modules = imported(script, "--help")
    assert result.returncode == 0 and result.stdout.startswith("usage: "), result.stdout + result.stderr
    assert not modules & HEAVY, sorted(modules & HEAVY)


@pytest.mark.parametrize("script", sorted(MISTAKES))
def test_a_usage_error_answers_before_the_heavy_imports(script):
    args, words = MISTAKES[script]
    result, modules = imported(script, *args)
    assert result.returncode == 2
    assert_one_line_error(result, words)
    assert not modules & HEAVY, sorted(modules & HEAVY)


def test_the_check_can_fail():
    """A script's work imports them, and the listing shows it: reading an image imports scikit-image (the
    README is no image: exit status 1), a model Keras (through plumbing.quiet)."""
    result, modules = imported("predict_image.py", "README.md")
    assert result.returncode == 1 and "skimage" in modules and "keras" not in modules
    result, modules = imported("predict_image.py", "--model", os.path.join(REPO, "README.md"))
    assert result.returncode == 1 and {"skimage", "plumbing.quiet"} <= modules
