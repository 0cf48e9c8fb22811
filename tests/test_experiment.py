"""experiments/experiment.py: one description of an experiment, and every script's main(argv) called from Python."""
import argparse
import importlib
import sys

import pytest

import harness
import study
from experiments import experiment, extensions
from conftest import mnist_path

SCRIPTS = ["harness", "baseline_cv", "batchnorm_cv", "deeper_cv", "depth_cv", "train_final", "evaluate_final",
           "predict_image", "predict_web", "compare", "study"]
# What scores.json has recorded as a run's configuration since --augment: old files must still resume.
SCORES_JSON_CONFIG = {"script": "baseline_cv.py", "epochs": 10, "batch_size": 32, "folds": 5, "seed": 1,
                      "limit": None, "reuse_model": False, "scaling": "normalize", "learning_rate": 0.01,
                      "variant": None, "augment": False}


def test_experiment_names_its_results_folder():
    args = argparse.Namespace(scaling="normalize", learning_rate=0.01, reuse_model=False)
    assert experiment.from_args(args, "baseline_cv.py").name == "baseline_cv"
    args = argparse.Namespace(scaling="center", learning_rate=0.001, reuse_model=True, variant="conv")
    assert experiment.from_args(args, "depth_cv.py").name == "depth_cv-conv-center-lr0.001-reuse"


def test_settings_off_their_defaults_name_the_folder_and_the_model():
    """A quick try lands beside the tutorial's run, never on it."""
    assert experiment.Experiment("baseline_cv.py", limit=3000, epochs=2).name == "baseline_cv-epochs2-limit3000"
    e = experiment.Experiment("depth_cv.py", variant="dense", learning_rate=0.001, folds=3, seed=2, batch_size=64)
    assert e.name == "depth_cv-dense-lr0.001-batch64-folds3-seed2"
    assert experiment.final_model_path({"epochs": 10, "limit": None, "seed": 1}) == "final_model.h5"
    assert experiment.final_model_path({"epochs": 1, "limit": 6000}) == "final_model-epochs1-limit6000.h5"
    assert experiment.final_model_path({"augment": True, "epochs": 15}) == "final_model-augment-epochs15.h5"


@pytest.mark.parametrize("settings, message", [
    ({"epochs": 0}, "--epochs 0 must be at least 1"),
    ({"folds": 1}, "--folds 1 must be at least 2"),
    ({"limit": 0}, "--limit 0 must be at least 1"),
    ({"batch_size": -3}, "--batch-size -3 must be at least 1"),
    ({"learning_rate": -1.0}, "--learning-rate -1 must be a positive number"),
    ({"learning_rate": 0.0}, "--learning-rate 0 must be a positive number"),
    ({"learning_rate": float("nan")}, "--learning-rate nan must be a positive number"),
])
def test_meaningless_settings_are_refused(settings, message, capsys):
    with pytest.raises(ValueError, match=message):
        experiment.Experiment("baseline_cv.py", **settings)
    parser = experiment.cv_parser("baseline_cv.py", "")
    args = parser.parse_args([])
    vars(args).update(settings)
    with pytest.raises(SystemExit) as e:
        experiment.check_args(parser, args)
    assert e.value.code == 2 and capsys.readouterr().err == f"baseline_cv.py: error: {message}\n"  # one line


def test_config_is_what_scores_json_has_always_recorded():
    assert experiment.Experiment("baseline_cv.py").config() == SCORES_JSON_CONFIG
    e = experiment.Experiment("deeper_cv.py", augment=True, limit=600, learning_rate=0.001)
    assert e.config() == dict(SCORES_JSON_CONFIG, script="deeper_cv.py", augment=True, limit=600,
                              learning_rate=0.001)


@pytest.mark.parametrize("e", study.GRID, ids=study.NAMES)
def test_each_study_experiment_is_its_scripts_command_line(e):
    """What study.py runs is exactly what the CV script runs with the flags its --help lists."""
    module = importlib.import_module(e.script[:-3])
    parser = experiment.cv_parser(e.script, "", getattr(module, "VARIANTS", None))
    assert experiment.from_args(parser.parse_args(e.argv()), e.script) == e
    assert e.command() == " ".join(["python", e.script, *e.argv()])
    model = harness.experiment_model(e)()
    assert float(model.optimizer.learning_rate) == pytest.approx(e.learning_rate)


def test_argv_lists_only_settings_off_their_defaults():
    assert experiment.Experiment("baseline_cv.py").argv() == []
    assert experiment.Experiment("depth_cv.py", variant="dense", learning_rate=0.0001, augment=True).argv() == \
        ["--learning-rate", "0.0001", "--augment", "--variant", "dense"]


@pytest.mark.parametrize("name", SCRIPTS)
def test_every_script_has_main_argv_named_after_itself(name, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["ipykernel_launcher.py", "-f", "/tmp/kernel-1.json"])  # a notebook's
    with pytest.raises(SystemExit) as e:
        importlib.import_module(name).main(["--help"])
    assert e.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: {name}.py")


def test_main_argv_trains_in_a_notebook_kernel_and_errors_in_one_line(monkeypatch, capsys, tmp_path):
    import baseline_cv

    monkeypatch.setattr(sys, "argv", ["ipykernel_launcher.py", "-f", "/tmp/kernel-1.json"])
    baseline_cv.main(["--data", mnist_path(), "--limit", 300, "--epochs", 1, "--folds", 2, "--jobs", 1,
                      "--out", tmp_path])
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert len(lines) == 4 and lines[0].startswith("> ") and lines[2].startswith("Accuracy: mean=")
    assert lines[3] == f"wrote {tmp_path}/: scores.json, learning_curves.png, boxplot.png"
    device = [line for line in err.splitlines() if line.startswith("training on ")]
    assert len(device) == 1 and "Keras backend" in device[0] and device[0].endswith("folds in turn, in this process")
    assert (tmp_path / "scores.json").exists() and (tmp_path / "boxplot.png").exists()

    with pytest.raises(SystemExit) as e:
        baseline_cv.main(["--data", tmp_path / "missing.npz", "--out", tmp_path])
    assert e.value.code == 1
    errors = capsys.readouterr().err.strip().splitlines()
    assert errors == [f"baseline_cv.py: error: {tmp_path / 'missing.npz'}: data file not found"]


def test_augment_flag_names_its_results_and_is_off_by_default():
    parser = argparse.ArgumentParser()
    experiment.add_flags(parser, experiment.TRAINING)
    assert parser.parse_args([]).augment is False
    args = parser.parse_args(["--augment"])
    args.reuse_model, args.folds = False, 5
    assert experiment.from_args(args, "deeper_cv.py").name == "deeper_cv-augment"
    assert experiment.from_args(args, "deeper_cv.py").config()["augment"] is True
    assert f"up to {extensions.AUGMENT_ROTATION * 360:g} degrees" in " ".join(parser.format_help().split())

