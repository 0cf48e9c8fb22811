"""Integration tests: the scripts run as a user runs them, on a small real subset of MNIST."""
import dataclasses
import json
import os
import re

import numpy as np
import pytest
from PIL import Image

import harness
from handwriting.labels import score as labels_score
from conftest import AUGMENTATION_LAYERS, REPO, assert_one_line_error, mnist_path, run_script
from network import saved_model

FOLD_LINE = re.compile(r"^> (\d+\.\d{3})$")
SUMMARY_LINE = re.compile(r"^Accuracy: mean=(\d+\.\d{3}) std=(\d+\.\d{3}), n=(\d+)$")
CV_SCRIPTS = ["baseline_cv.py", "batchnorm_cv.py", "deeper_cv.py"]


def cv(script, mnist, out, *extra):
    return run_script(script, "--data", mnist, "--limit", 600, "--epochs", 1, "--folds", 2, "--out", out, *extra)


@pytest.mark.parametrize("script", CV_SCRIPTS)
def test_cv_script_prints_folds_and_writes_results(script, mnist, tmp_path):
    result = cv(script, mnist, tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    folds = [float(m.group(1)) for m in map(FOLD_LINE.match, lines) if m]
    summary = [m for m in map(SUMMARY_LINE.match, lines) if m]
    assert len(folds) == 2 and len(summary) == 1
    assert all(30 < f <= 100 for f in folds)  # 300 images, one epoch: well above chance (10%)
    mean, std, n = summary[0].groups()
    assert float(mean) == pytest.approx(np.mean(folds), abs=0.002) and int(n) == 2

    saved = json.loads((tmp_path / "scores.json").read_text())
    assert [round(s * 100, 3) for s in saved["scores"]] == folds
    assert saved["mean"] == pytest.approx(np.mean(saved["scores"]))
    assert saved["std"] == pytest.approx(np.std(saved["scores"]))
    assert saved["n"] == 2 and saved["complete"] is True and saved["n_samples"] == 600
    assert saved["config"]["script"] == script and saved["config"]["epochs"] == 1
    assert saved["wall_seconds"] > 0 and "keras" in saved["versions"]
    for history in saved["histories"]:
        assert set(history) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
        assert all(len(v) == 1 for v in history.values())
    assert saved["histories"][-1]["val_accuracy"][-1] == saved["scores"][-1]
    for plot in ("learning_curves.png", "boxplot.png"):
        with Image.open(tmp_path / plot) as img:
            assert img.size[0] > 200 and img.size[1] > 200
    assert "ETA" in result.stderr  # progress with the time left


def test_cv_is_repeatable_with_a_seed(mnist, tmp_path):
    first = cv("baseline_cv.py", mnist, tmp_path / "a", "--seed", 3)
    second = cv("baseline_cv.py", mnist, tmp_path / "b", "--seed", 3)
    assert first.returncode == second.returncode == 0
    scores = [json.loads((tmp_path / d / "scores.json").read_text())["scores"] for d in "ab"]
    assert scores[0] == scores[1]
    assert FOLD_LINE.match(first.stdout.splitlines()[0])


def test_reuse_model_carries_training_across_folds(mnist, tmp_path):
    fresh = cv("baseline_cv.py", mnist, tmp_path / "fresh")
    reused = cv("baseline_cv.py", mnist, tmp_path / "reuse", "--reuse-model")
    assert fresh.returncode == reused.returncode == 0
    fresh_h, reused_h = (json.loads((tmp_path / d / "scores.json").read_text()) for d in ("fresh", "reuse"))
    assert reused_h["config"]["reuse_model"] is True
    # Fold 1 is the same; in fold 2 the reused model starts already trained,
    # having seen half of this fold's test images in fold 1.
    assert reused_h["scores"][0] == fresh_h["scores"][0]
    assert reused_h["histories"][1]["accuracy"][0] > fresh_h["histories"][1]["accuracy"][0] + 0.1


def test_final_model_evaluate_and_predict(small_model, mnist, tmp_path):
    result = run_script("evaluate_final.py", "--model", small_model, "--data", mnist, "--out", tmp_path)
    assert result.returncode == 0, result.stderr
    accuracy = float(FOLD_LINE.match(result.stdout.splitlines()[0]).group(1))
    assert 90 < accuracy <= 100
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    counts = np.array(metrics["confusion_matrix"])
    assert counts.shape == (10, 10) and counts.sum() == 10000 == metrics["n"]
    assert np.trace(counts) / 10000 == pytest.approx(accuracy / 100, abs=5e-6)
    for digit, acc in metrics["per_class_accuracy"].items():
        assert acc == pytest.approx(counts[int(digit), int(digit)] / counts[int(digit)].sum())
    for plot in ("confusion_matrix.png", "misclassified.png"):
        with Image.open(tmp_path / plot) as img:
            assert img.size[0] > 300
    result = run_script("predict_image.py", "--model", small_model)  # default: sample_image.png
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "7"


def test_train_final_writes_an_h5_model(mnist, tmp_path):
    path = tmp_path / "m.h5"
    result = run_script("train_final.py", "--data", mnist, "--limit", 500, "--epochs", 1, "--model", path)
    assert result.returncode == 0, result.stderr
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89HDF\r\n\x1a\n"  # Keras's H5 format, as the tutorial saves
    assert [p.name for p in tmp_path.iterdir()] == ["m.h5"]


# ---------------------------------------------------------------- train_final.py --handwriting

QUICK = ["--limit", 400, "--epochs", 1]


def predictions(path, images):
    return saved_model.load(str(path)).predict(images, verbose=0)


def test_handwriting_is_the_four_command_recipe(mnist, tmp_path):
    """--handwriting in one command gives the model that docs/own_images.md's four commands gave: two
    --augment seeds and one with flags on the 1s, trained alone, then averaged (here at a small size)."""
    import harness
    alone = []
    for i, extra in enumerate([[], ["--seed", 2], ["--flag-ones"]]):
        alone.append(tmp_path / f"alone_{i}.h5")
        result = run_script("train_final.py", "--augment", "--data", mnist, *QUICK, *extra, "--model", alone[-1])
        assert result.returncode == 0, result.stderr
    result = run_script("train_final.py", "--handwriting", "--data", mnist, *QUICK, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    quick = "final_model_handwriting-epochs1-limit400"  # a quick try is named by its settings
    assert result.stdout.splitlines()[-1].startswith(f"saved {quick}.h5: the mean of 3 models, and P(not a digit)")
    assert "flags drawn on" in result.stderr and "member 6/6 epoch 1" in result.stderr
    assert re.search(r"6/6 epochs, elapsed \S+, ETA 0:00$", result.stderr, re.M)  # one ETA over all members

    for i, path in enumerate(alone):
        member = saved_model.load(str(tmp_path / f"{quick}.members" / f"member_{i + 1}.h5"))
        assert all(np.array_equal(a, b) for a, b in zip(saved_model.load(str(path)).get_weights(),
                                                        member.get_weights()))
    _, _, testX, _ = harness.load_dataset(mnist)
    images = harness.scale_pixels(testX[:500])
    mean = saved_model.average([saved_model.load(str(path)) for path in alone]).predict(images, verbose=0)
    read = predictions(tmp_path / f"{quick}.h5", images)
    np.testing.assert_array_equal(read[:, :10], mean)
    assert not np.array_equal(predictions(alone[0], images), mean)  # each member counts
    # the 11th output: P(not a digit), the mean logit of the three judges trained last, plus one calibration
    from scipy.special import logit
    judges = [tmp_path / f"{quick}.members" / f"member_{i}.h5" for i in (4, 5, 6)]
    z = np.mean([logit(saved_model.load(str(j), outputs=(1,)).predict(images, verbose=0)[:, 0].astype(np.float64))
                 for j in judges], 0)
    clear = (read[:, 10] > 1e-4) & (read[:, 10] < 1 - 1e-4)  # (float32 cannot say a logit far from 0 exactly)
    assert clear.sum() > 100
    shift = logit(read[clear, 10].astype(np.float64)) - z[clear]
    np.testing.assert_allclose(shift, np.median(shift), atol=2e-3)
    assert [saved_model.saved_settings(str(j))["seed"] for j in judges] == [1, 2, 3]
    assert all(saved_model.saved_settings(str(j))["held_out"] == 0.1 for j in judges)
    assert "judges of not a digit calibrated on 40 held-out digits: 0.5% rejected" in result.stderr  # 0.1 x 400


def test_the_judges_are_calibrated_to_reject_a_share_of_held_out_digits():
    import keras
    import train_final
    from handwriting.reading import DECISION
    keras.utils.set_random_seed(0)

    def tiny(units, activation):
        return keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                                 keras.layers.Dense(units, activation=activation)])

    model = saved_model.average([tiny(10, "softmax")], [tiny(1, "sigmoid"), tiny(1, "sigmoid")])
    digits = np.random.default_rng(0).random((400, 28, 28), dtype=np.float32)
    _, before = saved_model.predict(model, digits[..., None])
    assert np.mean(before >= DECISION.max_not_a_digit) == 0  # untrained judges are unsure of everything
    train_final.calibrate(model, digits, 0.05)
    _, after = saved_model.predict(model, digits[..., None])
    assert np.mean(after >= DECISION.max_not_a_digit) == pytest.approx(0.05, abs=0.005)
    assert np.all(np.diff(after[np.argsort(before)]) >= 0)  # in the same order: one shift for every image


def test_interrupted_handwriting_run_continues_with_the_members_left(mnist, tmp_path, monkeypatch, capsys):
    import train_final
    real_train, trained = train_final.train, []

    def train(settings, progress, stop_at=None):
        if len(trained) == stop_at:
            raise KeyboardInterrupt  # Ctrl-C as the next member starts
        trained.append(settings)
        return real_train(settings, progress)

    out = tmp_path / "hw.h5"
    argv = ["--handwriting", "--data", mnist, *map(str, QUICK), "--model", str(out)]
    monkeypatch.setattr(train_final, "train", lambda s, p: train(s, p, stop_at=1))
    with pytest.raises(SystemExit) as stop:
        train_final.main(argv)
    assert stop.value.code == 130 and not out.exists()
    assert "1 of 6 members kept in" in capsys.readouterr().err
    members = tmp_path / "hw.members"
    first = (members / "member_1.h5").read_bytes()
    assert [p.name for p in members.iterdir()] == ["member_1.h5"]

    trained.clear()
    monkeypatch.setattr(train_final, "train", lambda s, p: train(s, p))
    train_final.main(argv)
    assert [(s.seed, s.flag_ones, s.not_a_digit) for s in trained] == [(2, False, False), (1, True, False),
                                                                        (1, False, True), (2, False, True),
                                                                        (3, False, True)]  # only those left
    assert "member 1/6: kept from an earlier run" in capsys.readouterr().err
    assert (members / "member_1.h5").read_bytes() == first
    images = np.random.default_rng(0).random((20, 28, 28, 1), dtype=np.float32)
    mean = saved_model.average([saved_model.load(str(members / f"member_{i}.h5")) for i in (1, 2, 3)])
    np.testing.assert_array_equal(predictions(out, images)[:, :10], mean.predict(images, verbose=0))

    trained.clear()
    train_final.main(argv)  # all kept: nothing trained again
    assert trained == [] and capsys.readouterr().err.count("kept from an earlier run") == 6


def test_handwriting_members_are_kept_for_the_same_settings_only(tmp_path):
    import baseline_cv
    import train_final
    settings = train_final.Settings(epochs=1, batch_size=32, learning_rate=0.01, scaling="normalize", augment=True,
                                    seed=1, flag_ones=False, data="mnist.npz", limit=400)
    store = train_final.Members(str(tmp_path / "m.h5"))
    assert not store.kept(0, settings)
    store.save(0, baseline_cv.define_model(), settings)
    assert store.kept(0, settings)
    for change in [dict(limit=500), dict(epochs=2), dict(seed=2), dict(flag_ones=True), dict(data=None),
                   dict(not_a_digit=True), dict(held_out=0.1)]:
        assert not store.kept(0, dataclasses.replace(settings, **change)), change
    before = {k: v for k, v in dataclasses.asdict(settings).items() if k != "not_a_digit"}
    saved_model.save(baseline_cv.define_model(), store.path(0), before)  # saved before the field was added
    assert store.kept(0, settings)
    saved_model.save(baseline_cv.define_model(), store.path(0))  # a model that does not say how it was trained
    assert not store.kept(0, settings)


def test_handwriting_refuses_flags_its_members_differ_in():
    for flag in (["--seed", 3], ["--flag-ones"]):
        assert_one_line_error(run_script("train_final.py", "--handwriting", *flag), flag[0], "members")


@pytest.mark.parametrize("script", CV_SCRIPTS + ["train_final.py", "evaluate_final.py", "predict_image.py",
                                                  "predict_web.py", "study.py", "compare.py", "harness.py"])
def test_help(script, capsys):
    """Each script's --help (in this process: a start of TensorFlow per script costs CI a few seconds each)."""
    import importlib

    from plumbing import cli
    with pytest.raises(SystemExit) as exit_status:
        importlib.import_module(script[:-3]).main(["--help"])
    help_text = capsys.readouterr().out
    assert exit_status.value.code == 0 and "usage:" in help_text
    for flag in {"train_final.py": ["--epochs", "--model", "--limit", "--seed", "--augment", "--flag-ones",
                                    "--handwriting"],
                 "evaluate_final.py": ["--model", "--data", "--out", "--images"],
                 "predict_image.py": ["--model", "--top-k", "--json"],
                 "predict_web.py": ["--model"], "study.py": ["--out", "--epochs", "--seed"],
                 "compare.py": ["--out"], "harness.py": ["--out", "--data", "--limit"]}.get(
                     script, ["--reuse-model", "--folds", "--limit", "--out", "--show"]):
        assert flag in help_text
    # Each shared flag is defined once (plumbing.cli.FLAGS): the same help in every script that takes it.
    text = " ".join(help_text.split())
    for name, (help_text, options) in cli.FLAGS.items():
        if f"--{name} " in text:
            assert f"--{name} {options['metavar']} {help_text}" in text, name
    assert "--results" not in text  # study.py's old name for --out


# ---------------------------------------------------------------- a user's mistakes

def test_missing_data_file(tmp_path):
    result = run_script("baseline_cv.py", "--data", tmp_path / "nope.npz", "--out", tmp_path)
    assert_one_line_error(result, "nope.npz", "not found")


def test_malformed_data_file(tmp_path):
    (tmp_path / "bad.npz").write_bytes(b"PK\x03\x04 definitely not a zip")
    result = run_script("train_final.py", "--data", tmp_path / "bad.npz", "--model", tmp_path / "m.h5")
    assert_one_line_error(result, "bad.npz", "not an .npz file with MNIST's arrays")
    assert not (tmp_path / "m.h5").exists()


def test_no_network_and_no_local_copy(tmp_path):
    # Nothing cached in this KERAS_HOME, and every download goes to a closed local port.
    env = {"KERAS_HOME": str(tmp_path), "MNIST_PATH": "", "https_proxy": "http://127.0.0.1:9",
           "HTTPS_PROXY": "http://127.0.0.1:9", "http_proxy": "http://127.0.0.1:9"}
    result = run_script("evaluate_final.py", "--model", "sample_image.png", env=env, timeout=120)
    assert_one_line_error(result, "sample_image.png")  # the model is checked first
    result = run_script("baseline_cv.py", "--out", tmp_path / "out", env=env, timeout=120)
    assert_one_line_error(result, "mnist.npz", "could not download MNIST", "--data")


def test_missing_model_file(tmp_path, mnist):
    result = run_script("evaluate_final.py", "--model", tmp_path / "none.h5", "--data", mnist)
    assert_one_line_error(result, "none.h5", "model file not found")
    result = run_script("predict_image.py", "--model", tmp_path / "none.h5")
    assert_one_line_error(result, "none.h5", "model file not found")


def test_missing_image(small_model, tmp_path):
    result = run_script("predict_image.py", tmp_path / "none.png", "--model", small_model)
    assert_one_line_error(result, "none.png", "no such file")


# ---------------------------------------------------------------- evaluate_final.py --images

def mnist_numbers(folder, count=4):
    """`count` numbers of two to four MNIST test digits written dark on white side by side, and a blank sheet, as
    PNG files: {name: the number's digits}."""
    _, _, test_x, test_y = harness.load_dataset(mnist_path())
    folder.mkdir()
    numbers, k = {}, 0
    for i in range(count):
        n = 2 + i % 3
        strip = np.concatenate([np.pad(test_x[k + j, :, :, 0], 8) for j in range(n)], axis=1)
        numbers[f"number_{i}.png"] = "".join(str(int(test_y[k + j].argmax())) for j in range(n))
        Image.fromarray(np.uint8(255 - strip)).resize((strip.shape[1] * 4, strip.shape[0] * 4)).save(
            folder / f"number_{i}.png")
        k += n
    Image.new("L", (120, 120), 255).save(folder / "blank.png")
    numbers["blank.png"] = ""
    return numbers


def test_evaluate_own_images_reads_numbers_as_predict_image_does(small_model, tmp_path):
    """--images reads each image as predict_image.py does and scores whole numbers, digits and "no digit"."""
    numbers = mnist_numbers(tmp_path / "mine")
    predicted = json.loads(run_script("predict_image.py", tmp_path / "mine", "--model", small_model, "--json").stdout)
    read = {os.path.basename(entry["path"]): entry["number"] for entry in predicted}
    labels = dict(numbers, **{"number_3.png": "1" if read["number_3.png"] != "1" else "2"})  # one labelled wrong
    rows = ["file,label,source"] + [f"{name},{label},drawn" for name, label in labels.items()]
    (tmp_path / "mine" / "labels.csv").write_text("\n".join(rows) + "\n")

    result = run_script("evaluate_final.py", "--images", tmp_path / "mine", "--model", small_model)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    right = sum(read[name] == label for name, label in labels.items())
    assert right <= 4 and read["blank.png"] == ""  # number_3's label is wrong; the blank sheet is no digit
    assert lines[0] == f"> {100 * right / 5:.3f} ({right} of 5 images read right)"
    digits = sum(labels_score(label, read[name])[0] for name, label in labels.items() if label)
    assert lines[1] == (f"numbers read exactly: {right - 1} of 4; digits read right: {digits} of "
                        f"{sum(map(len, labels.values()))}; images with no digit answered no digit: 1 of 1")
    wrong = sorted(f"{tmp_path / 'mine' / name}: {label}, read as {read[name] or 'no digit'}"
                   for name, label in labels.items() if read[name] != label)
    assert lines[2:] == wrong and len(wrong) == 5 - right

    # The same images labelled by their names, <label>_anything.png (none_: no digit); others are skipped.
    named = tmp_path / "named"
    named.mkdir()
    for name, label in labels.items():
        (named / f"{label or 'none'}_{name}").write_bytes((tmp_path / "mine" / name).read_bytes())
    (named / "unlabelled.png").write_bytes((tmp_path / "mine" / "blank.png").read_bytes())
    result = run_script("evaluate_final.py", "--images", named, "--model", small_model)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[:2] == lines[:2]
    assert "1 of 6 images have no label in their name" in result.stderr


@pytest.mark.parametrize("case, words", [
    ("missing", ["missing", "no such folder"]),
    ("unlabelled", ["unlabelled", "no labels"]),
    ("bad label", ["labels.csv", "line 2", "is not digits"]),
    ("missing file", ["labels.csv", "line 3", "gone.png", "not found"]),
    ("no columns", ["labels.csv", "file,label"]),
])
def test_evaluate_own_images_mistakes_are_one_line(case, words, tmp_path):
    folder = tmp_path / case.split()[0]
    if case != "missing":
        folder.mkdir()
        Image.new("L", (40, 40), 255).save(folder / "a.png")
    csv_text = {"bad label": "file,label\na.png,x\n", "missing file": "file,label\na.png,1\ngone.png,2\n",
                "no columns": "name,digit\na.png,1\n"}.get(case)
    if csv_text:
        (folder / "labels.csv").write_text(csv_text)
    assert_one_line_error(run_script("evaluate_final.py", "--images", folder, "--model", tmp_path / "none.h5"),
                          *words)


@pytest.mark.parametrize("flag", ["--epochs", "--folds", "--limit"])
def test_bad_numbers_are_usage_errors(flag):
    result = run_script("baseline_cv.py", flag, 0)
    assert result.returncode == 2 and "must be at least" in result.stderr and "Traceback" not in result.stderr


# ---------------------------------------------------------------- other Keras backends

@pytest.mark.parametrize("backend", ["jax"])
def test_scripts_run_on_another_backend(backend, mnist, tmp_path):
    """The same command lines on KERAS_BACKEND=jax (CI installs it; REQUIRE_JAX=1 makes a missing one fail)."""
    import importlib.util
    import os
    if importlib.util.find_spec(backend) is None:
        if os.environ.get("REQUIRE_JAX") == "1":
            pytest.fail(f"REQUIRE_JAX=1 but {backend} is not installed")
        pytest.skip(f"{backend} is not installed")
    env = {"KERAS_BACKEND": backend}
    result = run_script("baseline_cv.py", "--data", mnist, "--limit", 600, "--epochs", 1, "--folds", 2,
                        "--out", tmp_path / "cv", env=env)
    assert result.returncode == 0, result.stderr
    assert sum(bool(FOLD_LINE.match(line)) for line in result.stdout.splitlines()) == 2
    saved = json.loads((tmp_path / "cv" / "scores.json").read_text())
    assert saved["versions"]["backend"] == backend and all(s > 0.3 for s in saved["scores"])

    model = tmp_path / "m.h5"
    result = run_script("train_final.py", "--data", mnist, "--limit", 10000, "--epochs", 1, "--model", model,
                        env=env)
    assert result.returncode == 0, result.stderr
    result = run_script("evaluate_final.py", "--model", model, "--data", mnist, "--out", tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert float(FOLD_LINE.match(result.stdout.splitlines()[0]).group(1)) > 85
    result = run_script("predict_image.py", "--model", model, env=env)
    assert result.stdout.strip() == "7", result.stderr


def test_interrupted_cv_resumes_to_the_same_scores(mnist, tmp_path):
    import signal
    import subprocess
    import sys

    from conftest import REPO
    args = ["--data", mnist, "--limit", 600, "--epochs", 1, "--folds", 3]
    whole = run_script("baseline_cv.py", *args, "--out", tmp_path / "whole")
    assert whole.returncode == 0, whole.stderr

    # Ctrl-C as soon as fold 1 is reported. (A shell running these tests in the
    # background passes SIGINT down ignored; the child gets the terminal's default back.)
    cut = subprocess.Popen([sys.executable, f"{REPO}/baseline_cv.py", *map(str, args), "--out", tmp_path / "cut"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
                           preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert FOLD_LINE.match(cut.stdout.readline().strip())
    cut.send_signal(signal.SIGINT)
    _, err = cut.communicate(timeout=120)
    assert cut.returncode == 130 and "Traceback" not in err
    assert "interrupted" in err and "--resume" in err
    kept = json.loads((tmp_path / "cut" / "scores.json").read_text())
    assert kept["complete"] is False and 1 <= kept["n"] < 3

    changed = run_script("baseline_cv.py", *args, "--epochs", 2, "--out", tmp_path / "cut", "--resume")
    assert_one_line_error(changed, "scores.json", "cannot resume", "epochs")
    resumed = run_script("baseline_cv.py", *args, "--out", tmp_path / "cut", "--resume")
    assert resumed.returncode == 0, resumed.stderr
    scores = [json.loads((tmp_path / d / "scores.json").read_text())["scores"] for d in ("whole", "cut")]
    assert scores[0] == scores[1]
    assert len([line for line in resumed.stdout.splitlines() if FOLD_LINE.match(line)]) == 3 - kept["n"]


def test_extensions_run_from_the_shell(mnist, tmp_path):
    """Each extension is a flag (or depth_cv.py), and its results land in a folder of their own."""
    result = run_script("depth_cv.py", "--variant", "dense", "--scaling", "center", "--learning-rate", 0.001,
                        "--data", mnist, "--limit", 300, "--epochs", 1, "--folds", 2, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = tmp_path / "results" / "depth_cv-dense-center-lr0.001-epochs1-folds2-limit300"
    saved = json.loads((out / "scores.json").read_text())
    assert saved["config"]["variant"] == "dense" and saved["config"]["learning_rate"] == 0.001

    model = tmp_path / "std.h5"
    result = run_script("train_final.py", "--scaling", "standardize", "--data", mnist, "--limit", 3000,
                        "--epochs", 1, "--model", model)
    assert result.returncode == 0, result.stderr
    import keras
    assert type(keras.models.load_model(model).layers[0]).__name__ == "Rescaling"  # saved with the model
    result = run_script("evaluate_final.py", "--model", model, "--data", mnist, "--out", tmp_path / "ev")
    assert result.returncode == 0 and float(FOLD_LINE.match(result.stdout.splitlines()[0]).group(1)) > 80


def test_train_final_augment_then_evaluate_and_predict(mnist, tmp_path):
    path = tmp_path / "augmented.h5"
    result = run_script("train_final.py", "--augment", "--data", mnist, "--limit", 3000, "--epochs", 1,
                        "--model", path)
    assert result.returncode == 0, result.stderr
    assert [type(layer).__name__ for layer in saved_model.load(str(path)).layers][:3] == AUGMENTATION_LAYERS

    result = run_script("evaluate_final.py", "--model", path, "--data", mnist, "--out", tmp_path / "eval")
    assert result.returncode == 0, result.stderr
    accuracy = float(result.stdout.splitlines()[0][2:])
    assert 50 < accuracy <= 100  # 3,000 images, one epoch: well above chance

    result = run_script("predict_image.py", "--model", path, os.path.join(REPO, "sample_image.png"))
    assert result.returncode == 0, result.stderr
    assert result.stdout == "7\n"  # MNIST test image 0, the tutorial's example: the digit alone


def test_cv_with_augment_writes_its_own_results(mnist, tmp_path):
    result = run_script("baseline_cv.py", "--augment", "--data", mnist, "--limit", 600, "--epochs", 1,
                        "--folds", 2, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = tmp_path / "results" / "baseline_cv-augment-epochs1-folds2-limit600"
    saved = json.loads((out / "scores.json").read_text())
    assert saved["config"]["augment"] is True and saved["n"] == 2
    assert all(0.3 < score <= 1 for score in saved["scores"])  # 300 images, one epoch: above chance

