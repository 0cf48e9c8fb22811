"""--jobs, --cluster and study.py, run as a user runs them: folds in worker processes or on a Dask
cluster give the same lines and scores as folds in turn, and survive Ctrl-C and a dead worker."""
import json
import os
import signal
import subprocess
import sys

import pytest

from conftest import REPO, assert_one_line_error, mnist_path, run_script

FOLDS = 3
ARGS = ["--limit", 3000, "--epochs", 2, "--folds", FOLDS]


def cv_args(out, *extra):
    return ["--data", mnist_path(), *ARGS, "--out", out, *extra]


def scores(out):
    return json.loads((out / "scores.json").read_text())


@pytest.fixture(scope="module")
def in_turn(tmp_path_factory):
    """The reference: baseline_cv.py with --jobs 1, the folds one after another in one process,
    with as many threads as each of 2 workers gets (thread counts change float rounding: README, Speed)."""
    import workers
    out = tmp_path_factory.mktemp("in_turn")
    threads = str(workers.threads_per_worker(2))
    result = run_script("baseline_cv.py", *cv_args(out, "--jobs", 1),
                        env={"TF_NUM_INTRAOP_THREADS": threads, "TF_NUM_INTEROP_THREADS": threads})
    assert result.returncode == 0, result.stderr
    return result, scores(out)


def workers_of(pid):
    """The worker processes a run started (spawned Python children, not multiprocessing's resource tracker)."""
    found = []
    for child in subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split():
        with open(f"/proc/{child}/cmdline", "rb") as f:
            cmdline = f.read().decode(errors="replace")
        if "spawn_main" in cmdline and "resource_tracker" not in cmdline:
            found.append(int(child))
    return found


def start(script, *args):
    # A shell running the tests in the background passes SIGINT down ignored; the child gets the default back.
    return subprocess.Popen([sys.executable, os.path.join(REPO, script), *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def test_jobs_2_prints_and_saves_what_jobs_1_does(in_turn, tmp_path):
    reference, reference_scores = in_turn
    result = run_script("baseline_cv.py", *cv_args(tmp_path, "--jobs", 2))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines == reference.stdout.splitlines()  # the same fold lines, in fold order, and the summary
    assert len(lines) == FOLDS + 1 and lines[0].startswith("> ") and lines[-1].startswith("Accuracy: mean=")
    saved = scores(tmp_path)
    assert saved["scores"] == reference_scores["scores"] and saved["folds"] == list(range(FOLDS))
    assert saved["complete"] is True and saved["histories"] == reference_scores["histories"]
    # one progress line per epoch of every worker, with the whole run's count
    epochs = [line for line in result.stderr.splitlines() if "ETA" in line]
    assert len(epochs) == FOLDS * 2 and epochs[-1].split("|")[1].strip().startswith(f"{FOLDS * 2}/{FOLDS * 2}")


def test_ctrl_c_keeps_finished_folds_and_resume_completes_them(in_turn, tmp_path):
    _, reference_scores = in_turn
    run = start("baseline_cv.py", *cv_args(tmp_path, "--jobs", 2))
    assert run.stdout.readline().startswith("> ")  # fold 1 is done and saved
    run.send_signal(signal.SIGINT)
    _, err = run.communicate(timeout=60)
    assert run.returncode == 130 and "Traceback" not in err
    assert "interrupted" in err and "--resume" in err
    kept = scores(tmp_path)
    assert kept["complete"] is False and 1 <= kept["n"] < FOLDS and 0 in kept["folds"]
    assert workers_of(run.pid) == []

    resumed = run_script("baseline_cv.py", *cv_args(tmp_path, "--jobs", 2, "--resume"))
    assert resumed.returncode == 0, resumed.stderr
    assert scores(tmp_path)["scores"] == reference_scores["scores"]
    assert sum(line.startswith("> ") for line in resumed.stdout.splitlines()) == FOLDS - kept["n"]


def test_a_dead_local_worker_stops_the_run_and_resume_completes_it(in_turn, tmp_path):
    _, reference_scores = in_turn
    run = start("baseline_cv.py", *cv_args(tmp_path, "--jobs", 2))
    assert run.stdout.readline().startswith("> ")
    os.kill(workers_of(run.pid)[0], signal.SIGKILL)
    out, err = run.communicate(timeout=60)
    assert_one_line_error(subprocess.CompletedProcess(run.args, run.returncode, out, err),
                          "worker process died", "scores.json", "--resume")
    assert 1 <= scores(tmp_path)["n"] < FOLDS

    resumed = run_script("baseline_cv.py", *cv_args(tmp_path, "--jobs", 2, "--resume"))
    assert resumed.returncode == 0, resumed.stderr
    assert scores(tmp_path)["scores"] == reference_scores["scores"]


def test_reuse_model_runs_in_turn_and_says_so(tmp_path):
    result = run_script("baseline_cv.py", "--data", mnist_path(), "--limit", 300, "--epochs", 1, "--folds", 2,
                        "--out", tmp_path, "--reuse-model", "--jobs", 2)
    assert result.returncode == 0, result.stderr
    notes = [line for line in result.stderr.splitlines() if "--reuse-model" in line]
    assert len(notes) == 1 and "one after another" in notes[0]
    assert scores(tmp_path)["config"]["reuse_model"] is True and scores(tmp_path)["n"] == 2


# ---------------------------------------------------------------- Dask

def test_cluster_without_dask_is_one_line(tmp_path):
    fake = tmp_path / "no_dask" / "dask"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('No module named dask')\n")
    result = run_script("baseline_cv.py", *cv_args(tmp_path / "out", "--cluster", "local"),
                        env={"PYTHONPATH": str(fake.parent)})
    assert_one_line_error(result, "--cluster", "requirements-cluster.txt")


def test_cluster_cannot_connect_is_one_line(tmp_path):
    result = run_script("baseline_cv.py", *cv_args(tmp_path, "--cluster", "tcp://127.0.0.1:9"), timeout=120)
    assert_one_line_error(result, "tcp://127.0.0.1:9", "cannot connect")


def test_local_dask_cluster_gives_the_same_scores(in_turn, tmp_path):
    reference, reference_scores = in_turn
    result = run_script("baseline_cv.py", *cv_args(tmp_path, "--cluster", "local", "--jobs", 2))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == reference.stdout.splitlines()
    assert scores(tmp_path)["scores"] == reference_scores["scores"]
    assert "Traceback" not in result.stderr


def test_a_dead_dask_worker_costs_its_fold_not_the_run(in_turn, tmp_path):
    reference, reference_scores = in_turn
    run = start("baseline_cv.py", *cv_args(tmp_path, "--cluster", "local", "--jobs", 2))
    for line in run.stderr:  # the first epoch done: both workers are mid-fold
        if "ETA" in line:
            break
    os.kill(workers_of(run.pid)[0], signal.SIGKILL)
    out, err = run.communicate(timeout=300)
    assert run.returncode == 0, err
    assert out.splitlines() == reference.stdout.splitlines()
    assert scores(tmp_path)["scores"] == reference_scores["scores"]


# ---------------------------------------------------------------- study.py

def test_study_runs_a_grid_resumes_and_compares(in_turn, tmp_path):
    _, reference_scores = in_turn
    grid = ["--only", "baseline_cv", "baseline_cv-center", "--data", mnist_path(), *ARGS, "--jobs", 2,
            "--results", tmp_path]
    first = run_script("study.py", *grid)
    assert first.returncode == 0, first.stderr
    for name in ("baseline_cv", "baseline_cv-center"):
        saved = scores(tmp_path / name)
        assert saved["complete"] is True and saved["n"] == FOLDS
        assert (tmp_path / name / "learning_curves.png").exists() and (tmp_path / name / "boxplot.png").exists()
        assert f"| {name} | {FOLDS} |" in first.stdout  # compare.py's table
    assert scores(tmp_path / "baseline_cv-center")["config"]["scaling"] == "center"
    # the same folds as the CV script's, fold for fold
    assert scores(tmp_path / "baseline_cv")["scores"] == reference_scores["scores"]
    assert (tmp_path / "compare" / "comparison.md").exists()

    before = {name: (tmp_path / name / "scores.json").read_text() for name in ("baseline_cv", "baseline_cv-center")}
    again = run_script("study.py", *grid)
    assert again.returncode == 0, again.stderr
    assert "0 folds to train" in again.stderr and "ETA" not in again.stderr  # nothing trained again
    assert {name: (tmp_path / name / "scores.json").read_text() for name in before} == before
    assert "| baseline_cv-center |" in again.stdout


def test_study_help_lists_the_grid():
    result = run_script("study.py", "--help")
    assert result.returncode == 0
    for name in ("baseline_cv", "batchnorm_cv", "deeper_cv", "baseline_cv-standardize", "baseline_cv-lr0.0001",
                 "depth_cv-dense", "--only", "--jobs", "--cluster", "--limit", "--epochs", "--folds", "--seed",
                 "--data"):
        assert name in result.stdout


def test_the_study_on_paper_is_a_longest_first_schedule():
    """bench/scaling.py's estimate: one worker adds every fold up; many are bound by the longest fold."""
    import importlib.util

    import study
    spec = importlib.util.spec_from_file_location("scaling", os.path.join(REPO, "bench", "scaling.py"))
    scaling = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(scaling)
    fold = {script: 60.0 * cost for script, cost in study.EPOCH_COST.items()}
    no_overhead = {"task_round_trip_s": 0.0, "cluster_start_s": 0.0, "data_to_every_worker_s": 0.0}
    durations = [fold[e.script] * (study.AUGMENT_COST if e.augment else 1.0)
                 for e in study.GRID for _ in range(5)]
    assert scaling.study_on_paper(fold, no_overhead, 1) == pytest.approx(sum(durations))
    assert scaling.study_on_paper(fold, no_overhead, 64) == pytest.approx(max(durations))
    eight = scaling.study_on_paper(fold, no_overhead, 8)
    assert sum(durations) / 8 <= eight <= sum(durations) / 8 + max(durations)
    overhead = {"task_round_trip_s": 0.5, "cluster_start_s": 7.0, "data_to_every_worker_s": 1.0}
    assert scaling.study_on_paper(fold, overhead, 64) == pytest.approx(max(durations) + 0.5 + 8.0)
