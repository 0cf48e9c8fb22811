"""harness.py: the tutorial's functions on small synthetic arrays, and Section 1 run as a user runs it."""
import os

import keras
import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

import baseline_cv
import batchnorm_cv
import deeper_cv
import harness
from conftest import assert_one_line_error, run_script, tiny_data
from plumbing.cli import UserError
from plumbing.scores import split_fingerprint


# ---------------------------------------------------------------- load the dataset

def write_npz(path, n_train=50, n_test=20, **override):
    rng = np.random.default_rng(0)
    arrays = {"x_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
              "y_train": rng.integers(0, 10, n_train).astype(np.uint8),
              "x_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
              "y_test": rng.integers(0, 10, n_test).astype(np.uint8)}
    arrays.update(override)
    np.savez(path, **{k: v for k, v in arrays.items() if v is not None})
    return arrays


def test_prep_pixels_scales_to_unit_floats():
    train = np.array([[0, 51, 255]], dtype=np.uint8)
    train_norm, test_norm = harness.prep_pixels(train, train[:, ::-1])
    assert train_norm.dtype == np.float32
    np.testing.assert_allclose(train_norm, [[0.0, 0.2, 1.0]])
    np.testing.assert_allclose(test_norm, [[1.0, 0.2, 0.0]])


def test_load_dataset_reshapes_one_hots_and_limits(tmp_path):
    arrays = write_npz(tmp_path / "m.npz")
    trainX, trainY, testX, testY = harness.load_dataset(str(tmp_path / "m.npz"), limit=30)
    assert trainX.shape == (30, 28, 28, 1) and testX.shape == (20, 28, 28, 1)
    np.testing.assert_array_equal(trainX[:, :, :, 0], arrays["x_train"][:30])
    assert trainY.shape == (30, 10) and testY.shape == (20, 10)
    np.testing.assert_array_equal(trainY.argmax(1), arrays["y_train"][:30])
    np.testing.assert_array_equal(trainY.sum(1), 1)


def test_load_dataset_reads_mnist_path_env(tmp_path, monkeypatch):
    write_npz(tmp_path / "m.npz", n_train=7)
    monkeypatch.setenv("MNIST_PATH", str(tmp_path / "m.npz"))
    assert len(harness.load_dataset()[0]) == 7


@pytest.mark.parametrize("override, message", [
    ({"x_test": None}, "not an .npz file with MNIST's arrays x_train, y_train, x_test, y_test (it has no x_test)"),
    ({"x_train": np.zeros((50, 28, 28), np.float32)}, "x_train should be uint8"),
    ({"x_train": np.zeros((50, 32, 32), np.uint8)}, "x_train should be uint8 (N, 28, 28)"),
    ({"y_train": np.full(50, 10, np.uint8)}, "labels outside 0..9"),
    ({"y_test": np.zeros(19, np.uint8)}, "has 20 images but y_test has 19 labels"),
])
def test_malformed_data_file_is_a_user_error(tmp_path, override, message):
    write_npz(tmp_path / "m.npz", **override)
    with pytest.raises(UserError, match=None) as e:
        harness.load_dataset(str(tmp_path / "m.npz"))
    assert str(tmp_path / "m.npz") in str(e.value) and message in str(e.value)


def test_missing_and_non_npz_data_files(tmp_path):
    with pytest.raises(UserError, match="data file not found"):
        harness.load_dataset(str(tmp_path / "nope.npz"))
    np.save(tmp_path / "objects.npy", np.array([{"x_train": 1}], dtype=object))  # pickled: never loaded
    np.save(tmp_path / "plain.npy", np.zeros(3))
    (tmp_path / "notes.txt").write_text("hello")
    for name in ("notes.txt", "objects.npy", "plain.npy"):
        with pytest.raises(UserError) as e:
            harness.load_dataset(str(tmp_path / name))
        assert str(e.value) == (f"{tmp_path / name}: not an .npz file with MNIST's arrays "
                                "x_train, y_train, x_test, y_test")  # no advice to load anything unsafely


def test_folds_without_every_digit_are_refused_naming_the_least_limit(tmp_path, monkeypatch):
    labels = np.arange(1000) % 10
    harness.check_folds(labels, 5, seed=1)  # 200 images a fold, every digit in each
    monkeypatch.setattr(harness, "load_mnist", lambda data=None: ((None, labels), (None, None)))
    with pytest.raises(UserError) as e:
        harness.check_folds(labels[:12], 10, seed=1, limit=12)
    least = int(str(e.value).rsplit("--limit ", 1)[1])
    assert str(e.value).startswith("--limit 12 is too few images for --folds 10 to hold each digit")
    assert least >= 100 and not harness.folds_lacking_a_digit(labels[:least], 10, 1)
    assert all(harness.folds_lacking_a_digit(labels[:n], 10, 1) for n in range(12, least))  # the least that works
    with pytest.raises(UserError, match="the data's 30 training images are too few for --folds 5"):
        harness.check_folds(labels[:30], 5, seed=1)
    assert harness.folds_lacking_a_digit(np.r_[labels[:99], 3], 2, 1) == []
    assert harness.folds_lacking_a_digit(np.zeros(100, int), 2, 1) == [1, 2]


def captured_figure(monkeypatch):
    """The figure a summarize_* function saves, kept open to look at."""
    from plumbing import files
    saved = {}
    monkeypatch.setattr(files, "save_figure", lambda fig, path, show=False: saved.update(fig=fig))
    return saved


@pytest.mark.parametrize("n_epochs", [1, 2, 10])
def test_learning_curves_are_readable_at_every_epoch_count(monkeypatch, n_epochs):
    saved = captured_figure(monkeypatch)
    rng = np.random.default_rng(0)
    histories = [{k: list(rng.uniform(0.1, 0.99, n_epochs)) for k in ("loss", "val_loss", "accuracy", "val_accuracy")}
                 for _ in range(3)]
    harness.summarize_diagnostics(histories, "unused.png", title="baseline_cv: 3 folds x 1 epoch")
    fig = saved["fig"]
    ax_loss, ax_acc = fig.axes
    assert list(ax_acc.get_xticks()) == list(range(1, n_epochs + 1))  # whole epochs only
    assert fig.texts[0].get_text() == "baseline_cv: 3 folds x 1 epoch"  # suptitle: the experiment
    assert ax_acc.get_ylabel() == "accuracy (%)" and ax_acc.get_ylim()[1] > 50  # percent, as printed
    assert all(line.get_marker() == "o" for line in ax_acc.get_lines())  # a single epoch is visible
    assert len(ax_acc.get_lines()) == 6


def test_box_plot_is_titled_labelled_and_says_which_std(monkeypatch, capsys):
    saved = captured_figure(monkeypatch)
    harness.summarize_performance([0.98, 0.985, 0.99], "unused.png", title="deeper_cv: 3 folds x 10 epochs")
    assert capsys.readouterr().out == "Accuracy: mean=98.500 std=0.408, n=3\n"  # the tutorial's line (np.std)
    fig = saved["fig"]
    ax = fig.axes[0]
    assert ax.get_title() == "Fold accuracies: mean 98.500%, population std 0.408"
    assert fig.texts[0].get_text() == "deeper_cv: 3 folds x 10 epochs"
    assert ax.get_ylabel() == "fold accuracy (%)" and [t.get_text() for t in ax.get_xticklabels()] == ["3 folds"]


def test_download_failure_names_the_cache_file(monkeypatch, tmp_path):
    def offline():
        raise Exception("URL fetch failure on https://example/mnist.npz: None -- [Errno -3] no network")
    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)
    monkeypatch.delenv("MNIST_PATH", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(UserError) as e:
        harness.load_dataset()
    assert str(tmp_path / "datasets" / "mnist.npz") in str(e.value) and "--data" in str(e.value)


# ---------------------------------------------------------------- evaluate a model

def test_fold_splits_are_deterministic_disjoint_and_cover_the_data():
    folds = harness.kfold_splits(103, 5, seed=1)
    again = harness.kfold_splits(103, 5, seed=1)
    assert len(folds) == 5
    for (train_ix, test_ix), (_, test_again) in zip(folds, again):
        np.testing.assert_array_equal(test_ix, test_again)
        assert not set(train_ix) & set(test_ix)
        assert len(train_ix) + len(test_ix) == 103
    all_test = np.concatenate([test_ix for _, test_ix in folds])
    assert sorted(all_test) == list(range(103))  # every image is tested exactly once
    assert split_fingerprint(folds) == split_fingerprint(again)
    assert split_fingerprint(folds) != split_fingerprint(harness.kfold_splits(103, 5, seed=2))


def spy(define_model, made):
    """define_model that records each model it makes and its weights at birth."""
    def define():
        model = define_model()
        made.append((model, [w.copy() for w in model.get_weights()]))
        return model
    return define


@pytest.mark.parametrize("reuse", [False, True])
def test_fresh_model_per_fold_unless_reuse(reuse, capsys):
    x, y = tiny_data()
    made = []
    scores, histories = harness.evaluate_model(x, y, spy(baseline_cv.define_model, made), n_folds=3, epochs=1,
                                               reuse_model=reuse)
    assert len(scores) == len(histories) == 3
    assert capsys.readouterr().out.count("> ") == 3
    if reuse:
        assert len(made) == 1  # the tutorial's way: one model, trained on fold after fold
    else:
        assert len(made) == 3 and len({id(m) for m, _ in made}) == 3
        # each fold's model starts untrained: not from the previous fold's final weights
        for (previous, _), (_, born) in zip(made, made[1:]):
            assert not all(np.array_equal(a, b) for a, b in zip(previous.get_weights(), born))


def test_same_seed_same_scores_different_seed_different():
    x, y = tiny_data()
    runs = [harness.evaluate_model(x, y, baseline_cv.define_model, n_folds=2, epochs=1, seed=s)[1]
            for s in (1, 1, 2)]
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]


@pytest.mark.parametrize("module, layers, params", [
    (baseline_cv, ["Conv2D", "MaxPooling2D", "Flatten", "Dense", "Dense"],
     (3 * 3 * 32 + 32) + (13 * 13 * 32 * 100 + 100) + (100 * 10 + 10)),
    (batchnorm_cv, ["Conv2D", "FusedBatchNormalization", "MaxPooling2D", "Flatten", "Dense", "FusedBatchNormalization",
                    "Dense"],
     (3 * 3 * 32 + 32) + 4 * 32 + (13 * 13 * 32 * 100 + 100) + 4 * 100 + (100 * 10 + 10)),
    (deeper_cv, ["Conv2D", "MaxPooling2D", "Conv2D", "Conv2D", "MaxPooling2D", "Flatten", "Dense", "Dense"],
     (3 * 3 * 32 + 32) + (3 * 3 * 32 * 64 + 64) + (3 * 3 * 64 * 64 + 64) + (4 * 4 * 64 * 100 + 100)
     + (100 * 10 + 10)),
])
def test_architectures_match_the_tutorial(module, layers, params):
    model = module.define_model()
    assert [type(layer).__name__ for layer in model.layers] == layers
    assert model.count_params() == params
    assert model.input_shape == (None, 28, 28, 1) and model.output_shape == (None, 10)
    assert model.layers[-1].activation.__name__ == "softmax"
    opt = model.optimizer
    assert type(opt).__name__ == "SGD"
    assert float(opt.learning_rate) == pytest.approx(0.01) and float(opt.momentum) == pytest.approx(0.9)
    assert model.loss == "categorical_crossentropy"


def test_depth_variants_add_one_block_or_one_layer():
    import depth_cv
    base = [type(layer).__name__ for layer in baseline_cv.define_model().layers]
    conv = [type(layer).__name__ for layer in depth_cv.VARIANTS["conv"]().layers]
    dense = [type(layer).__name__ for layer in depth_cv.VARIANTS["dense"]().layers]
    assert conv == base[:2] + ["Conv2D", "MaxPooling2D"] + base[2:]
    assert dense == base[:-1] + ["Dense"] + base[-1:]
    assert float(depth_cv.VARIANTS["dense"](0.001).optimizer.learning_rate) == pytest.approx(0.001)


# ---------------------------------------------------------------- Section 1: look at the data

def dark_squares(path):
    """How many image panels (large dark regions) a grid plot holds."""
    with Image.open(path) as img:
        gray = np.asarray(img.convert("L"))
    labels, n = ndimage.label(gray < 40)
    areas = np.sort(ndimage.sum_labels(np.ones_like(gray), labels, index=np.arange(1, n + 1)))[::-1]
    return int(np.sum(areas > 0.4 * areas[0]))  # the panels; a digit's enclosed loops are far smaller


def test_section_one_prints_the_shapes_and_saves_the_first_nine(mnist, tmp_path):
    result = run_script("harness.py", "--data", mnist, "--out", tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["Train: X=(60000, 28, 28), y=(60000,)",
                                          "Test: X=(10000, 28, 28), y=(10000,)"]
    assert os.listdir(tmp_path) == ["first_nine.png"]
    with Image.open(tmp_path / "first_nine.png") as img:
        assert img.size[0] > 300 and img.size[1] > 300
    assert dark_squares(tmp_path / "first_nine.png") == 9


def test_section_one_with_limit_shows_the_subset(mnist, tmp_path):
    result = run_script("harness.py", "--data", mnist, "--limit", 4, "--out", tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["Train: X=(4, 28, 28), y=(4,)", "Test: X=(10000, 28, 28), y=(10000,)"]
    assert dark_squares(tmp_path / "first_nine.png") == 4


def test_section_one_reads_mnist_path_and_reports_errors_in_one_line(tmp_path):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "m.npz", x_train=rng.integers(0, 256, (12, 28, 28), dtype=np.uint8),
             y_train=np.arange(12, dtype=np.uint8) % 10, x_test=np.zeros((3, 28, 28), np.uint8),
             y_test=np.zeros(3, np.uint8))
    result = run_script("harness.py", "--out", tmp_path / "out", env={"MNIST_PATH": str(tmp_path / "m.npz")})
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["Train: X=(12, 28, 28), y=(12,)", "Test: X=(3, 28, 28), y=(3,)"]
    assert_one_line_error(run_script("harness.py", "--data", tmp_path / "missing.npz"), "missing.npz", "not found")

