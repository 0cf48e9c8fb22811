"""plumbing/: atomic files and models, and scores.json's --resume."""
import json
import os

import keras
import numpy as np
import pytest

import baseline_cv
from plumbing import files
from plumbing.cli import UserError
from plumbing.scores import resume_folds
from network import saved_model


def test_atomic_path_keeps_the_old_file_when_writing_fails(tmp_path):
    target = tmp_path / "scores.json"
    files.write_json({"old": 1}, target)
    with pytest.raises(RuntimeError):
        with files.atomic_path(target) as tmp:
            open(tmp, "w").write('{"half": ')
            raise RuntimeError("killed mid-write")
    assert json.loads(target.read_text()) == {"old": 1}
    assert os.listdir(tmp_path) == ["scores.json"]  # no temp file left behind


def test_interrupted_model_save_keeps_the_old_model_loadable(tmp_path, monkeypatch):
    path = str(tmp_path / "final_model.h5")
    model = baseline_cv.define_model()
    saved_model.save(model, path)
    old_weights = model.get_weights()

    new_model = baseline_cv.define_model()
    real_save = keras.Model.save

    def dies_midway(self, filepath, *args, **kwargs):
        real_save(self, filepath, *args, **kwargs)
        with open(filepath, "r+b") as f:  # half the bytes made it to disk, then the process died
            f.truncate(os.path.getsize(filepath) // 2)
        raise KeyboardInterrupt

    monkeypatch.setattr(keras.Model, "save", dies_midway)
    with pytest.raises(KeyboardInterrupt):
        saved_model.save(new_model, path)
    loaded = saved_model.load(path)
    for a, b in zip(loaded.get_weights(), old_weights):
        np.testing.assert_array_equal(a, b)
    assert os.listdir(tmp_path) == ["final_model.h5"]


def test_resume_refuses_other_settings(tmp_path):
    config = {"script": "baseline_cv.py", "epochs": 10, "folds": 5, "reuse_model": False, "augment": False}
    files.write_json({"config": config, "scores": [0.9], "folds": [0], "histories": [{}], "split": "ab12"},
                     tmp_path / "scores.json")
    assert resume_folds(str(tmp_path / "scores.json"), config) == ({0: (0.9, {})}, "ab12")
    # folds finished out of order by parallel workers are kept by number
    files.write_json({"config": config, "scores": [0.9, 0.8], "folds": [1, 3], "histories": [{}, {"a": 1}],
                        "split": "ab12"}, tmp_path / "scores.json")
    assert resume_folds(str(tmp_path / "scores.json"), config)[0] == {1: (0.9, {}), 3: (0.8, {"a": 1})}
    with pytest.raises(UserError, match="other settings.*epochs"):
        resume_folds(str(tmp_path / "scores.json"), dict(config, epochs=3))
    with pytest.raises(UserError, match="other settings.*augment"):
        resume_folds(str(tmp_path / "scores.json"), dict(config, augment=True))
    with pytest.raises(UserError, match="nothing to resume"):
        resume_folds(str(tmp_path / "missing.json"), config)
    # a file of other settings, or not a scores.json the scripts write: one line
    files.write_json({"config": {k: v for k, v in config.items() if k != "augment"}, "scores": [0.9]},
                     tmp_path / "scores.json")
    with pytest.raises(UserError, match="other settings.*augment"):
        resume_folds(str(tmp_path / "scores.json"), config)
    files.write_json({"config": config, "scores": [0.9]}, tmp_path / "scores.json")
    with pytest.raises(UserError, match="not a scores.json"):
        resume_folds(str(tmp_path / "scores.json"), config)



def test_files_keep_the_users_umask(tmp_path):
    """Written through a temp file, yet with the mode any new file gets (0644 under umask 022, 0600 under 077)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    old = os.umask(0o022)
    try:
        files.write_json({"a": 1}, tmp_path / "scores.json")
        files.save_figure(plt.figure(), tmp_path / "plot.png")
        saved_model.save(baseline_cv.define_model(), str(tmp_path / "m.h5"), {"epochs": 1})
        os.umask(0o077)
        files.write_json({"a": 1}, tmp_path / "private.json")
    finally:
        os.umask(old)
    modes = {p.name: p.stat().st_mode & 0o777 for p in tmp_path.iterdir()}
    assert modes == {"scores.json": 0o644, "plot.png": 0o644, "m.h5": 0o644, "private.json": 0o600}


def test_model_file_records_its_training_settings(tmp_path):
    path = str(tmp_path / "m.h5")
    settings = {"epochs": 1, "limit": 6000, "learning_rate": 0.01, "augment": False}
    saved_model.save(baseline_cv.define_model(), path, settings)
    assert saved_model.saved_settings(path) == settings
    assert saved_model.load(path).count_params() == baseline_cv.define_model().count_params()  # still a model
    saved_model.save(baseline_cv.define_model(), str(tmp_path / "old.h5"))
    assert saved_model.saved_settings(str(tmp_path / "old.h5")) is None  # saved without: unknown
    assert saved_model.saved_settings(str(tmp_path / "missing.h5")) is None


def test_a_complete_run_with_other_settings_is_not_replaced(tmp_path):
    from plumbing.scores import ScoresFile

    path = str(tmp_path / "scores.json")
    folds = [(np.arange(5, 10), np.arange(5)), (np.arange(5), np.arange(5, 10))]
    full = {"script": "baseline_cv.py", "epochs": 10, "folds": 2, "limit": None, "augment": False}
    record = ScoresFile(path, full)
    record.start(folds)
    record.save({0: (0.99, {}), 1: (0.98, {})})
    quick = dict(full, epochs=1, limit=300)
    with pytest.raises(UserError) as e:
        ScoresFile(path, quick).start(folds)
    assert str(e.value) == (f"{path}: holds a complete run with other settings (epochs 10, limit None); "
                            "choose another --out DIR, or delete it to replace it")
    assert json.loads(open(path).read())["config"] == full
    assert ScoresFile(path, full).start(folds) == {}  # the same settings run again, as before
    ScoresFile(path, full).save({0: (0.5, {})})  # an unfinished run is not a finished one: replaced
    assert ScoresFile(path, quick).start(folds) == {}


@pytest.mark.parametrize("end, status", [("", 0), ("sys.exit(1)", 1), ("sys.exit(2)", 2), ("sys.exit('bad')", 1)])
def test_run_then_exit_keeps_the_status_and_what_was_printed(end, status):
    import subprocess
    import sys

    code = ("import sys; from plumbing import cli\n"
            f"def main():\n    print('saved', end=''); print('note', file=sys.stderr, end=''); {end}\n"
            "cli.run_then_exit(main)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert (done.returncode, done.stdout) == (status, "saved")  # buffered output is not lost
    assert done.stderr == ("notebad\n" if end == "sys.exit('bad')" else "note")


def test_quiet_start_leaves_the_garbage_collector_on_and_tensorflow_frozen():
    import gc

    import plumbing.quiet  # noqa: F401  (imported already by conftest's imports: this checks what it left)

    assert gc.isenabled()
    assert gc.get_freeze_count() > 100_000  # TensorFlow's and Keras's objects, out of every later collection
