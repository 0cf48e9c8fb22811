"""experiments/workers.py through --jobs and --cluster, run as a user runs them: folds in worker processes or on a
Dask cluster give the same lines and scores as folds in turn, and survive Ctrl-C and a dead worker."""
import os
import signal
import subprocess
import sys


from conftest import FOLDS, REPO, assert_one_line_error, cv_args, mnist_path, read_scores, run_script

FILES = "scores.json, learning_curves.png, boxplot.png"  # the last line of a CV run: wrote <out>/: FILES


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
    # the same fold lines, in fold order, and the summary; then where its files are
    assert lines[:-1] == reference.stdout.splitlines()[:-1] and lines[-1] == f"wrote {tmp_path}/: {FILES}"
    assert len(lines) == FOLDS + 2 and lines[0].startswith("> ") and lines[-2].startswith("Accuracy: mean=")
    saved = read_scores(tmp_path)
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
    kept = read_scores(tmp_path)
    assert kept["complete"] is False and 1 <= kept["n"] < FOLDS and 0 in kept["folds"]
    assert workers_of(run.pid) == []

    resumed = run_script("baseline_cv.py", *cv_args(tmp_path, "--jobs", 2, "--resume"))
    assert resumed.returncode == 0, resumed.stderr
    assert read_scores(tmp_path)["scores"] == reference_scores["scores"]
    assert sum(line.startswith("> ") for line in resumed.stdout.splitlines()) == FOLDS - kept["n"]


def test_a_dead_local_worker_stops_the_run_and_resume_completes_it(in_turn, tmp_path):
    _, reference_scores = in_turn
    run = start("baseline_cv.py", *cv_args(tmp_path, "--jobs", 2))
    assert run.stdout.readline().startswith("> ")
    os.kill(workers_of(run.pid)[0], signal.SIGKILL)
    out, err = run.communicate(timeout=60)
    assert_one_line_error(subprocess.CompletedProcess(run.args, run.returncode, out, err),
                          "worker process died", "scores.json", "--resume")
    assert 1 <= read_scores(tmp_path)["n"] < FOLDS

    resumed = run_script("baseline_cv.py", *cv_args(tmp_path, "--jobs", 2, "--resume"))
    assert resumed.returncode == 0, resumed.stderr
    assert read_scores(tmp_path)["scores"] == reference_scores["scores"]


def test_reuse_model_runs_in_turn_and_says_so(tmp_path):
    result = run_script("baseline_cv.py", "--data", mnist_path(), "--limit", 300, "--epochs", 1, "--folds", 2,
                        "--out", tmp_path, "--reuse-model", "--jobs", 2)
    assert result.returncode == 0, result.stderr
    notes = [line for line in result.stderr.splitlines() if "--reuse-model" in line]
    assert len(notes) == 1 and "one after another" in notes[0]
    assert read_scores(tmp_path)["config"]["reuse_model"] is True and read_scores(tmp_path)["n"] == 2


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
    assert result.stdout.splitlines()[:-1] == reference.stdout.splitlines()[:-1]
    assert result.stdout.splitlines()[-1] == f"wrote {tmp_path}/: {FILES}"
    assert read_scores(tmp_path)["scores"] == reference_scores["scores"]
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
    assert out.splitlines()[:-1] == reference.stdout.splitlines()[:-1]
    assert out.splitlines()[-1] == f"wrote {tmp_path}/: {FILES}"
    assert read_scores(tmp_path)["scores"] == reference_scores["scores"]

