"""What a new user tries first, run as they would: quick tries beside finished work, runs that cannot mean
anything refused in one line, files with the user's umask."""
import json
import os

import pytest

from conftest import assert_one_line_error, run_script
from network import saved_model
from plumbing import files

FULL_RUN = {"scores": [0.985, 0.986], "folds": [0, 1], "complete": True, "n": 2,
            "config": {"script": "baseline_cv.py", "epochs": 10, "batch_size": 32, "folds": 5, "seed": 1,
                       "limit": None, "reuse_model": False, "scaling": "normalize", "learning_rate": 0.01,
                       "variant": None, "augment": False}}


@pytest.fixture
def umask_022():
    old = os.umask(0o022)  # the scripts' processes inherit it
    yield
    os.umask(old)


def test_quick_cv_goes_beside_a_finished_run_and_never_over_it(mnist, tmp_path, umask_022):
    finished = tmp_path / "results" / "baseline_cv" / "scores.json"
    finished.parent.mkdir(parents=True)
    finished.write_text(json.dumps(FULL_RUN))
    result = run_script("baseline_cv.py", "--data", mnist, "--limit", 300, "--epochs", 1, "--folds", 2, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(finished.read_text()) == FULL_RUN
    quick = tmp_path / "results" / "baseline_cv-epochs1-folds2-limit300"
    assert json.loads((quick / "scores.json").read_text())["config"]["limit"] == 300
    for name in ("scores.json", "learning_curves.png", "boxplot.png"):
        assert (quick / name).stat().st_mode & 0o777 == 0o644, name  # the user's umask, not mkstemp's 0600

    # named explicitly, the finished run's folder is refused in one line, before any training
    result = run_script("baseline_cv.py", "--data", mnist, "--limit", 300, "--epochs", 1, "--folds", 2,
                        "--out", finished.parent, cwd=tmp_path)
    assert_one_line_error(result, str(finished), "complete run with other settings", "epochs 10", "--out")
    assert "epoch 1" not in result.stderr and json.loads(finished.read_text()) == FULL_RUN


def test_quick_final_model_never_replaces_final_model_h5(mnist, tmp_path, umask_022):
    (tmp_path / "final_model.h5").write_bytes(b"the tutorial's model")
    result = run_script("train_final.py", "--data", mnist, "--limit", 500, "--epochs", 1, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "saved final_model-epochs1-limit500.h5"
    assert (tmp_path / "final_model.h5").read_bytes() == b"the tutorial's model"
    quick = str(tmp_path / "final_model-epochs1-limit500.h5")
    assert saved_model.saved_settings(quick)["limit"] == 500 and saved_model.saved_settings(quick)["epochs"] == 1
    assert os.stat(quick).st_mode & 0o777 == 0o644

    # a model file saved with other settings is refused before training
    result = run_script("train_final.py", "--data", mnist, "--limit", 500, "--epochs", 2, "--model", quick)
    assert_one_line_error(result, quick, "other settings", "epochs 1", "--model")
    assert "epoch 1" not in result.stderr and saved_model.saved_settings(quick)["epochs"] == 1


@pytest.mark.parametrize("flags, words, status", [
    (["--limit", 5, "--epochs", 1], ["--limit 5 is too few images for --folds 5", "least that works here is --limit"],
     1),
    (["--limit", 12, "--folds", 10], ["--limit 12 is too few images for --folds 10", "--limit"], 1),
    (["--learning-rate", -1], ["--learning-rate -1 must be a positive number"], 2),
    (["--epochs", 0], ["--epochs 0 must be at least 1"], 2),
])
def test_runs_that_cannot_mean_anything_are_refused(mnist, tmp_path, flags, words, status):
    result = run_script("baseline_cv.py", "--data", mnist, *flags, cwd=tmp_path)
    assert_one_line_error(result, *words)
    assert result.returncode == status and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "results").exists()


def test_the_study_refuses_folds_without_every_digit_too(mnist, tmp_path):
    result = run_script("study.py", "--data", mnist, "--limit", 12, "--folds", 10, "--out", tmp_path / "r")
    assert_one_line_error(result, "--limit 12 is too few images for --folds 10", "least that works here is --limit")
    assert not (tmp_path / "r").exists()


def test_a_wrong_data_file_is_named_as_such(tmp_path):
    (tmp_path / "notes.txt").write_text("my notes\n")
    result = run_script("baseline_cv.py", "--data", tmp_path / "notes.txt", cwd=tmp_path)
    assert_one_line_error(result, f"{tmp_path / 'notes.txt'}: not an .npz file with MNIST's arrays "
                                  "x_train, y_train, x_test, y_test")
    assert "allow_pickle" not in result.stderr and "unsafe" not in result.stderr


def test_run_folder_names_what_is_off_the_defaults():
    assert files.run_folder("baseline_cv-epochs2-limit6000") == os.path.join("results", "baseline_cv-epochs2-limit6000")
    assert files.run_folder("evaluate_final.py", model="final_model.h5") == os.path.join("results", "evaluate_final")
    assert files.run_folder("visualize.py", model="models/final_model-epochs2-limit6000.h5") == os.path.join(
        "results", "visualize-final_model-epochs2-limit6000")


def test_a_quick_model_is_evaluated_and_drawn_beside_the_finished_ones(mnist, tmp_path):
    finished = {name: tmp_path / "results" / name / "metrics.json" for name in ("evaluate_final", "visualize")}
    for path in finished.values():
        path.parent.mkdir(parents=True)
        path.write_text('{"model": "final_model.h5"}')
    assert run_script("train_final.py", "--data", mnist, "--limit", 500, "--epochs", 1, cwd=tmp_path).returncode == 0
    quick = "final_model-epochs1-limit500.h5"
    result = run_script("evaluate_final.py", "--data", mnist, "--model", quick, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].startswith("wrote results/evaluate_final-final_model-epochs1-limit500/:")
    assert json.loads((tmp_path / "results" / "evaluate_final-final_model-epochs1-limit500" / "metrics.json")
                      .read_text())["model"] == quick
    result = run_script("visualize.py", os.path.join(os.path.dirname(__file__), "..", "sample_image.png"),
                        "--model", quick, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "results/visualize-final_model-epochs1-limit500/filters.png"
    for path in finished.values():
        assert json.loads(path.read_text()) == {"model": "final_model.h5"}
