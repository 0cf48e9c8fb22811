"""The README's quick start, run as written in a fresh shell (only python3 on the PATH), on small settings."""
import os
import re
import subprocess
import sys

from conftest import REPO, mnist_path


def quick_start():
    """The lines of the README's first sh block."""
    with open(os.path.join(REPO, "README.md")) as f:
        block = re.search(r"^```sh\n(.*?)^```", f.read(), re.S | re.M).group(1)
    return [line for line in block.splitlines() if line.strip()]


def test_the_quick_start_runs_as_written(tmp_path):
    mnist = mnist_path()
    lines = quick_start()
    assert lines[0] == "python3 -m venv .venv && . .venv/bin/activate && pip install -r requirements.txt"
    assert lines[1].startswith("python baseline_cv.py ")
    # What the test changes, and only that: the environment is this one (a link to it, not a new venv and a
    # download); pip checks requirements.txt against it without installing (--dry-run --no-index); the
    # training is small. The rest (activating, `python`, `pip`, the paths) runs as the README says.
    setup = lines[0].replace("python3 -m venv .venv", f"ln -s {sys.prefix} .venv")
    setup = setup.replace("pip install -r", "pip install --dry-run --no-index -q -r")
    command, _, comment = lines[1].partition("#")
    script = "\n".join(["set -e", setup, command.strip() + " --limit 300 --epochs 1 --folds 2"])
    for entry in os.listdir(REPO):  # a clone's files, in a folder of its own (its results/ lands here)
        if entry not in (".venv", "results", ".git"):
            os.symlink(os.path.join(REPO, entry), tmp_path / entry)
    env = {"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", str(tmp_path)), "MNIST_PATH": mnist}
    result = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    folds = re.findall(r"^> \d+\.\d{3}$", result.stdout, re.M)
    assert len(folds) == 2 and re.search(r"^Accuracy: mean=\d+\.\d{3} std=\d+\.\d{3}, n=2$", result.stdout, re.M)
    assert "per fold" in comment and (tmp_path / "results" / "baseline_cv-epochs1-folds2-limit300").is_dir()


def test_without_activating_python_is_not_the_environment(tmp_path):
    """The check above can fail: `python` in a fresh shell is not the environment's until it is activated."""
    result = subprocess.run(["bash", "-c", "python -c 'import keras'"], cwd=tmp_path, env={"PATH": "/usr/bin:/bin"},
                            capture_output=True, text=True)
    assert result.returncode != 0


def test_the_quick_settings_are_those_measured_to_keep_the_tutorials_ranking():
    """The README's quick try is the one its measurements show keeping baseline < batch normalization < deeper
    (a quicker one reverses it); the notebook suggests the same."""
    with open(os.path.join(REPO, "README.md")) as f:
        text = " ".join(f.read().split())
    quick = re.search(r"each takes `--help`; `(--limit \d+ --epochs \d+)` for a quick try", text).group(1)
    ranking = re.search(rf"at `{quick}` the ranking is the tutorial's: baseline (\d+\.\d+) < batch normalization "
                        r"(\d+\.\d+) \(p = [\d.]+\) < deeper (\d+\.\d+)", text)
    assert ranking, quick
    baseline, batchnorm, deeper = map(float, ranking.groups())
    assert baseline < batchnorm < deeper
    limit, epochs = re.findall(r"\d+", quick)
    import nbformat
    notebook = nbformat.read(os.path.join(REPO, "tutorial.ipynb"), as_version=4).cells
    assert f"`LIMIT = {limit}`, `EPOCHS = {epochs}`" in " ".join(c.source for c in notebook[:5])
