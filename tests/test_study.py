"""study.py: the whole grid of experiments as one queue of folds, resumed, and its schedule on paper."""

import pytest

from conftest import ARGS, FOLDS, mnist_path, read_scores, run_script

QUICK = "-epochs2-folds3-limit3000"  # ARGS's settings, in each folder's name


def test_study_runs_a_grid_resumes_and_compares(in_turn, tmp_path):
    _, reference_scores = in_turn
    grid = ["--only", "baseline_cv", "baseline_cv-center", "--data", mnist_path(), *ARGS, "--jobs", 2,
            "--out", tmp_path]
    first = run_script("study.py", *grid)
    assert first.returncode == 0, first.stderr
    for name in (f"baseline_cv{QUICK}", f"baseline_cv-center{QUICK}"):
        saved = read_scores(tmp_path / name)
        assert saved["complete"] is True and saved["n"] == FOLDS
        assert (tmp_path / name / "learning_curves.png").exists() and (tmp_path / name / "boxplot.png").exists()
        assert f"| {name} | {FOLDS} |" in first.stdout  # compare.py's table
    assert read_scores(tmp_path / f"baseline_cv-center{QUICK}")["config"]["scaling"] == "center"
    # the same folds as the CV script's, fold for fold
    assert read_scores(tmp_path / f"baseline_cv{QUICK}")["scores"] == reference_scores["scores"]
    assert (tmp_path / "compare" / "comparison.md").exists()

    before = {name: (tmp_path / name / "scores.json").read_text()
              for name in (f"baseline_cv{QUICK}", f"baseline_cv-center{QUICK}")}
    again = run_script("study.py", *grid)
    assert again.returncode == 0, again.stderr
    assert "0 folds to train" in again.stderr and "ETA" not in again.stderr  # nothing trained again
    assert {name: (tmp_path / name / "scores.json").read_text() for name in before} == before
    assert f"| baseline_cv-center{QUICK} |" in again.stdout


def test_study_help_lists_the_grid():
    result = run_script("study.py", "--help")
    assert result.returncode == 0
    for name in ("baseline_cv", "batchnorm_cv", "deeper_cv", "baseline_cv-standardize", "baseline_cv-lr0.0001",
                 "depth_cv-dense", "--only", "--jobs", "--cluster", "--limit", "--epochs", "--folds", "--seed",
                 "--data"):
        assert name in result.stdout


def test_the_study_on_paper_is_a_longest_first_schedule():
    """bench.scaling's estimate: one worker adds every fold up; many are bound by the longest fold."""
    import study
    from bench import scaling
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



def test_the_study_titles_its_plots_as_the_cv_scripts_do(tmp_path, monkeypatch, capsys):
    """study.py ends each experiment with harness.summarize, titled as harness.run_test_harness titles it."""
    import harness
    import study
    titles = []
    monkeypatch.setattr(harness.files, "save_figure", lambda fig, path, show=False: titles.append(fig.get_suptitle()))
    history = {"loss": [0.5, 0.3], "val_loss": [0.4, 0.35], "accuracy": [0.9, 0.95], "val_accuracy": [0.91, 0.93]}
    e = study.GRID[3]  # baseline_cv.py --scaling center
    study.summarize(e, {1: (0.93, history), 0: (0.92, history)}, str(tmp_path), 3000)
    expected = "baseline_cv-center: 5 folds x 10 epochs, batch 32, SGD lr 0.01, seed 1, 3,000 images"
    assert titles == [expected, expected]
    assert capsys.readouterr().out == "baseline_cv-center: Accuracy: mean=92.500 std=0.500, n=2\n"
