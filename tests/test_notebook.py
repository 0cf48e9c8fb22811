"""tutorial.ipynb: executed top to bottom in a fresh kernel on a small real subset of MNIST,
and its committed outputs checked for what a reader on GitHub should see.

The executor is nbclient: the Jupyter project's own (nbconvert --execute and
papermill both run notebooks through it), maintained with jupyter_client, and
it needs nothing else to run. The small settings go in a cell inserted after
the notebook's "parameters" cell, as papermill does, without papermill.
"""
import os
import re
import sys

import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from conftest import REPO, mnist_path
from experiments.experiment import Experiment
from tools import notebook_cells

NOTEBOOK = os.path.join(REPO, "tutorial.ipynb")
FOLD_LINE = re.compile(r"^> (\d+\.\d{3})$")
SUMMARY_LINE = re.compile(r"^Accuracy: mean=(\d+\.\d{3}) std=(\d+\.\d{3}), n=(\d+)$")
SHAPES = ["Train: X=(60000, 28, 28), y=(60000,)", "Test: X=(10000, 28, 28), y=(10000,)"]
CV_SCRIPTS = ["baseline_cv.py", "batchnorm_cv.py", "deeper_cv.py"]
# Small: 3,000 images, one epoch, two folds; one Extension (its folds run in worker processes started from
# the kernel). The final model, the deeper one on 3,000 images for one epoch, reads the sample as 7 (p=0.99).
SMALL = {"LIMIT": 3000, "EPOCHS": 1, "FOLDS": 2, "FINAL_EPOCHS": 1, "EXTENSIONS": ["depth_cv-dense"]}
# A path of the machine that ran it: "/" then folders, not after a letter, digit, dot or colon (results/x, 1/5, tcp://)
ABSOLUTE_PATH = re.compile(r"(?<![\w.:/])/(?:[\w.-]+/)+[\w.-]*")


def read_notebook():
    return nbformat.read(NOTEBOOK, as_version=4)


# The committed notebook holds a full run's outputs, or none at all between a change of its cells and the next
# full run (python tools/run_notebook.py, about 2 hours on 2 cores): these tests check a committed run.
committed_run = pytest.mark.skipif(
    not any(c.get("outputs") for c in read_notebook().cells if c.cell_type == "code"),
    reason="tutorial.ipynb is committed without outputs until its next full run (python tools/run_notebook.py)")


def cell_running(nb, script):
    """The one code cell that runs `script` (its run("script", ...) or cross_validate(Experiment("script")))."""
    cells = [c for c in nb.cells if c.cell_type == "code"
             and (f'run("{script}"' in c.source or f'cross_validate(Experiment("{script}"))' in c.source)]
    assert len(cells) == 1, script
    return cells[0]


def stream(cell, name="stdout"):
    return "".join(o.text for o in cell.outputs if o.output_type == "stream" and o.name == name)


def lines(cell, name="stdout"):
    return stream(cell, name).splitlines()


def folds_and_summary(cell):
    out = lines(cell)
    folds = [float(m.group(1)) for m in map(FOLD_LINE.match, out) if m]
    summaries = [m.groups() for m in map(SUMMARY_LINE.match, out) if m]
    return folds, summaries


def progress_lines(cell):
    return [line for line in stream(cell, "stderr").splitlines() if "ETA" in line]


def output_texts(nb):
    """Every text a reader sees under the cells: streams, plain-text results, errors."""
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            yield o.get("text", "") + o.get("data", {}).get("text/plain", "") + "\n".join(o.get("traceback", []))


def images(nb):
    return [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if "image/png" in o.get("data", {})]


def errors(nb):
    return [(c.source.splitlines()[0], o.get("ename"), o.get("evalue")) for c in nb.cells if c.cell_type == "code"
            for o in c.outputs if o.output_type == "error"]


@pytest.mark.parametrize("repo_url, words", [
    (None, ["Not in a clone of the repository: set REPO_URL in this cell"]),
    ("file:///nonexistent/mnist-repo", ["Could not clone REPO_URL file:///nonexistent/mnist-repo", "set REPO_URL"]),
])
def test_outside_a_clone_the_first_cell_says_what_to_set_in_one_line_and_stops(tmp_path, repo_url, words):
    """Opened alone (Colab, or the file downloaded by itself), "Run all" stops at the first code cell, whose
    output is one line saying to set REPO_URL: no traceback, and no later cell runs."""
    nb = read_notebook()
    code = [c for c in nb.cells if c.cell_type == "code"]
    for cell in code:
        cell.outputs, cell.execution_count = [], None
    if repo_url:
        code[0].source = code[0].source.replace("https://github.com/OWNER/REPO", repo_url)
    client = NotebookClient(nb, kernel_name="python3", timeout=120, record_timing=False,
                            resources={"metadata": {"path": str(tmp_path)}})
    with pytest.raises(CellExecutionError):
        client.execute()
    (shown,) = code[0].outputs  # what the reader sees under the cell: one error output, nothing else
    assert shown.output_type == "error" and len(shown.traceback) == 1, shown
    line = shown.traceback[0]
    assert "\n" not in line and len(line) <= 200 and "Traceback" not in line, line
    for word in words:
        assert word in line, line
    assert all(c.execution_count is None and not c.outputs for c in code[1:])
    assert not any(tmp_path.iterdir())  # nothing cloned, nothing written


def test_the_notebook_says_how_to_get_a_gpu_and_how_long_its_run_took():
    text = "\n".join(c.source for c in read_notebook().cells if c.cell_type == "markdown")
    assert "Runtime > Change runtime type" in text
    assert "2 h 0 min on 2026-12-01, on a 2-core AMD EPYC" in text and "46 minutes" not in text


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """The notebook run in a fresh kernel in the repository, its results and model in a temporary folder."""
    mnist_path()  # MNIST_PATH names it (else skip); the kernel inherits it, as from a user's shell
    tmp = tmp_path_factory.mktemp("notebook")
    nb = read_notebook()
    where = [i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])]
    assert len(where) == 1, "one cell tagged 'parameters'"
    small = dict(SMALL, RESULTS=str(tmp / "results"), MODEL=str(tmp / "final_model.h5"))
    injected = nbformat.v4.new_code_cell("\n".join(f"{k} = {v!r}" for k, v in small.items()))
    injected.metadata["tags"] = ["injected-parameters"]
    nb.cells.insert(where[0] + 1, injected)
    nb.cells.append(nbformat.v4.new_code_cell("import sys\nprint(sys.prefix)"))
    # "python3" is ipykernel's kernel spec; jupyter_client starts it with this interpreter (checked below).
    # coalesce_streams: a cell's stdout in one output and its stderr in another, each progress line (rewritten
    # in place with a carriage return, as a notebook shows it) kept at its last state
    client = NotebookClient(nb, kernel_name="python3", timeout=600, record_timing=False, coalesce_streams=True,
                            resources={"metadata": {"path": REPO}})
    try:
        client.execute()
    finally:
        nbformat.write(nb, str(tmp / "executed.ipynb"))  # to look at when it fails
    assert stream(nb.cells[-1]).strip() == sys.prefix, "the kernel runs in another Python environment"
    return nb, tmp


def test_runs_without_errors(executed):
    nb, _ = executed
    assert not errors(nb)
    assert all(c.execution_count for c in nb.cells if c.cell_type == "code")


def test_dataset_shapes_and_device(executed):
    nb, tmp = executed
    out = lines(cell_running(nb, "harness.py"))
    assert [line for line in out if line.startswith(("Train: ", "Test: "))] == SHAPES  # the whole dataset
    device = [c for c in nb.cells if "describe_device()" in c.source][0]
    assert stream(device).startswith("training on ")
    assert (tmp / "results" / "dataset" / "first_nine.png").is_file()


@pytest.mark.parametrize("script", CV_SCRIPTS)
def test_cross_validation(executed, script):
    nb, tmp = executed
    cell = cell_running(nb, script)
    folds, summaries = folds_and_summary(cell)
    assert len(folds) == SMALL["FOLDS"] and all(50 < f <= 100 for f in folds)
    assert len(summaries) == 1
    mean, _, n = summaries[0]
    assert int(n) == SMALL["FOLDS"] and float(mean) == pytest.approx(np.mean(folds), abs=0.002)
    assert "training on " in stream(cell, "stderr")
    assert 1 <= len(progress_lines(cell)) <= SMALL["FOLDS"]  # at most one line per training, not per epoch
    name = Experiment(script, limit=SMALL["LIMIT"], epochs=SMALL["EPOCHS"], folds=SMALL["FOLDS"]).name
    assert (tmp / "results" / name / "scores.json").is_file()  # its quick settings in its name
    assert sum("image/png" in o.get("data", {}) for o in cell.outputs) == 2  # learning curves, box plot


def test_final_model_evaluated_and_predicts_7(executed):
    nb, tmp = executed
    assert f"saved {tmp / 'final_model.h5'}" in lines(cell_running(nb, "train_final.py"))
    assert (tmp / "final_model.h5").is_file()
    accuracy = [float(m.group(1)) for m in map(FOLD_LINE.match, lines(cell_running(nb, "evaluate_final.py"))) if m]
    assert len(accuracy) == 1 and 80 < accuracy[0] <= 100
    assert (tmp / "results" / "evaluate_final" / "confusion_matrix.png").is_file()
    assert "7" in lines(cell_running(nb, "predict_image.py"))


def test_extension_and_comparison(executed):
    nb, tmp = executed
    folds, summaries = folds_and_summary([c for c in nb.cells if "for name in EXTENSIONS" in c.source][0])
    assert len(folds) == SMALL["FOLDS"] and len(summaries) == 1
    table = stream(cell_running(nb, "compare.py"))
    for name in ["baseline_cv", "batchnorm_cv", "deeper_cv", *SMALL["EXTENSIONS"]]:
        assert any(name in line and line.startswith("|") for line in table.splitlines()), name
    assert (tmp / "results" / "compare" / "comparison.png").is_file()


def test_model_cells_run_the_scripts_code(executed):
    nb, _ = executed
    cells = notebook_cells.model_cells(nb)
    for script in notebook_cells.MODEL_SCRIPTS:
        assert "Total params" in "".join(output_texts(nbformat.from_dict({"cells": [cells[script]]}))), script


def test_model_cells_are_the_scripts_current_code():
    """Each model's define_model is in the notebook as code, generated from its script (tools/notebook_cells.py)."""
    cells = notebook_cells.model_cells(read_notebook())
    assert sorted(cells) == sorted(notebook_cells.MODEL_SCRIPTS)
    for script in notebook_cells.MODEL_SCRIPTS:
        assert cells[script].cell_type == "code"
        assert cells[script].source == notebook_cells.model_cell(script), \
            f"{script} changed: run python tools/notebook_cells.py"
        assert "\ndef define_model(" in cells[script].source


def test_model_cell_is_the_script_source(tmp_path, monkeypatch):
    """The generator copies what the script says, not what it said: a changed layer shows in the cell."""
    (tmp_path / "baseline_cv.py").write_text(open(os.path.join(REPO, "baseline_cv.py")).read().replace(
        "Conv2D(32, (3, 3)", "Conv2D(48, (5, 5)"))
    monkeypatch.setattr(notebook_cells, "REPO", str(tmp_path))
    cell = notebook_cells.model_cell("baseline_cv.py")
    assert "Conv2D(48, (5, 5)" in cell and "Conv2D(32" not in cell and "cv_main" not in cell


def test_what_the_network_learned(executed):
    nb, _ = executed
    cell = cell_running(nb, "visualize.py")
    assert sum("image/png" in o.get("data", {}) for o in cell.outputs) == 3  # filters, feature maps, saliency
    misread = [c for c in nb.cells if "wrong = int(np.flatnonzero" in c.source][0]
    m = re.match(r"test image (\d+): a (\d), read as (\d)$", lines(misread)[0])
    assert m and m.group(2) != m.group(3)
    assert sum("image/png" in o.get("data", {}) for o in misread.outputs) == 1


def test_plots_inline(executed):
    nb, _ = executed
    assert len(images(nb)) >= 10


@committed_run
def test_committed_outputs_are_a_full_run():
    """What a reader sees on GitHub without running it: one run top to bottom at the defaults, no errors."""
    assert os.path.getsize(NOTEBOOK) < 1_000_000  # plots at a modest size
    nb = read_notebook()
    nbformat.validate(nb)
    parameters = {}
    exec([c.source for c in nb.cells if "parameters" in c.metadata.get("tags", [])][0], parameters)
    assert (parameters["LIMIT"], parameters["EPOCHS"], parameters["FOLDS"], parameters["FINAL_EPOCHS"]) == (
        None, 10, 5, 10)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1))  # in order, in one kernel
    assert not errors(nb)
    device = stream([c for c in code if "describe_device()" in c.source][0]).splitlines()
    assert device[0].startswith("training on ") and re.match(r"\d{4}-\d\d-\d\d: Python ", device[1])
    assert [line for line in lines(cell_running(nb, "harness.py")) if line.startswith(("Train: ", "Test: "))] == SHAPES
    for script in CV_SCRIPTS:
        folds, summaries = folds_and_summary(cell_running(nb, script))
        assert len(folds) == 5 and all(97 < f <= 100 for f in folds) and summaries[0][2] == "5", script
        assert 1 <= len(progress_lines(cell_running(nb, script))) <= 5, script  # one line per fold at most
    assert len(progress_lines(cell_running(nb, "train_final.py"))) <= 1
    accuracy = [float(m.group(1)) for m in map(FOLD_LINE.match, lines(cell_running(nb, "evaluate_final.py"))) if m]
    assert len(accuracy) == 1 and accuracy[0] > 98.5
    assert "7" in lines(cell_running(nb, "predict_image.py"))
    assert len(images(nb)) >= 10
    assert all(c.outputs for c in notebook_cells.model_cells(nb).values())  # each model's summary


@committed_run
def test_committed_outputs_name_no_path_of_the_machine():
    texts = list(output_texts(read_notebook()))
    assert texts
    for text in texts:
        assert not ABSOLUTE_PATH.findall(text), ABSOLUTE_PATH.findall(text)
        for path in (REPO, os.path.expanduser("~"), sys.prefix, os.environ.get("MNIST_PATH") or REPO):
            assert path not in text


def test_absolute_path_pattern():
    assert ABSOLUTE_PATH.findall("MNIST from /work/shared/data/mnist.npz") == ["/work/shared/data/mnist.npz"]
    assert ABSOLUTE_PATH.findall("at 'C:/Users/me/x' or (/home/u/m.h5)") == ["/home/u/m.h5"]
    assert not ABSOLUTE_PATH.findall("$ python baseline_cv.py --out results/baseline_cv | 1/5 epochs tcp://h:1")
