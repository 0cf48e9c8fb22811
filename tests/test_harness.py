"""Unit tests of harness.py on small synthetic arrays."""
import json
import os

import keras
import numpy as np
import pytest

import baseline_cv
import batchnorm_cv
import deeper_cv
import harness
from plumbing.cli import UserError
from plumbing import files
from plumbing.scores import resume_folds, split_fingerprint
import extensions


def write_npz(path, n_train=50, n_test=20, **override):
    rng = np.random.default_rng(0)
    arrays = {"x_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
              "y_train": rng.integers(0, 10, n_train).astype(np.uint8),
              "x_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
              "y_test": rng.integers(0, 10, n_test).astype(np.uint8)}
    arrays.update(override)
    np.savez(path, **{k: v for k, v in arrays.items() if v is not None})
    return arrays


# ---------------------------------------------------------------- data

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
    ({"x_test": None}, "missing key(s) x_test"),
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
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(UserError, match="not a readable .npz"):
        harness.load_dataset(str(tmp_path / "text.npz"))


def test_download_failure_names_the_cache_file(monkeypatch, tmp_path):
    def offline():
        raise Exception("URL fetch failure on https://example/mnist.npz: None -- [Errno -3] no network")
    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)
    monkeypatch.delenv("MNIST_PATH", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(UserError) as e:
        harness.load_dataset()
    assert str(tmp_path / "datasets" / "mnist.npz") in str(e.value) and "--data" in str(e.value)


# ---------------------------------------------------------------- folds

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


def tiny_data(n=40):
    rng = np.random.default_rng(0)
    x = rng.random((n, 28, 28, 1), dtype=np.float32)
    y = keras.utils.to_categorical(rng.integers(0, 10, n), 10)
    return x, y


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
        assert len(made) == 1  # the tutorial's way: one model, trained on across folds
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


# ---------------------------------------------------------------- models

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


# ---------------------------------------------------------------- files

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
    files.save_model(model, path)
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
        files.save_model(new_model, path)
    loaded = files.load_model(path)
    for a, b in zip(loaded.get_weights(), old_weights):
        np.testing.assert_array_equal(a, b)
    assert os.listdir(tmp_path) == ["final_model.h5"]


def test_resume_refuses_other_settings(tmp_path):
    config = {"script": "baseline_cv.py", "epochs": 10, "folds": 5, "reuse_model": False, "augment": False}
    files.write_json({"config": config, "scores": [0.9], "histories": [{}], "split": "ab12"},
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
    # a run from before --augment existed resumes as a run without it
    old = {k: v for k, v in config.items() if k != "augment"}
    files.write_json({"config": old, "scores": [0.9], "histories": [{}], "split": "ab12"}, tmp_path / "scores.json")
    assert resume_folds(str(tmp_path / "scores.json"), config)[0] == {0: (0.9, {})}


# ---------------------------------------------------------------- extensions

def test_scaling_statistics_come_from_the_training_images_only():
    rng = np.random.default_rng(0)
    train = rng.uniform(0.0, 0.4, (30, 28, 28, 1)).astype(np.float32)
    test = rng.uniform(0.6, 1.0, (10, 28, 28, 1)).astype(np.float32)  # very different: leakage would show
    model = baseline_cv.define_model()
    assert extensions.with_scaling(model, "normalize", train) is model  # the tutorial's [0, 1], unchanged
    for scaling, std in (("center", 1.0), ("standardize", float(train.std()))):
        scaled = extensions.with_scaling(baseline_cv.define_model(), scaling, train)
        layer = scaled.layers[0]
        assert type(layer).__name__ == "Rescaling"
        out = np.asarray(layer(train))
        assert out.mean() == pytest.approx(0.0, abs=1e-5)
        assert out.std() == pytest.approx(1.0 if scaling == "standardize" else train.std(), rel=1e-4)
        np.testing.assert_allclose(np.asarray(layer(test)), (test - train.mean()) / std, rtol=1e-4, atol=1e-5)
        assert scaled.count_params() == model.count_params()


def test_each_fold_scales_with_its_own_training_split(monkeypatch):
    x, y = tiny_data()
    x[:20] *= 0.5  # folds' training splits now differ in mean
    made = []

    def define(learning_rate=0.01):
        return baseline_cv.define_model(learning_rate)

    real_with_scaling = extensions.with_scaling

    def recording(model, scaling, train_images):
        scaled = real_with_scaling(model, scaling, train_images)
        made.append(float(np.asarray(scaled.layers[0].offset)))
        return scaled

    monkeypatch.setattr(extensions, "with_scaling", recording)
    harness.evaluate_model(x, y, define, n_folds=2, epochs=1, scaling="center")
    expected = [-float(x[train_ix].mean()) for train_ix, _ in harness.kfold_splits(len(x), 2, seed=1)]
    np.testing.assert_allclose(made, expected, rtol=1e-5)
    assert made[0] != pytest.approx(made[1])


def test_depth_variants_add_one_block_or_one_layer():
    import depth_cv
    base = [type(layer).__name__ for layer in baseline_cv.define_model().layers]
    conv = [type(layer).__name__ for layer in depth_cv.VARIANTS["conv"]().layers]
    dense = [type(layer).__name__ for layer in depth_cv.VARIANTS["dense"]().layers]
    assert conv == base[:2] + ["Conv2D", "MaxPooling2D"] + base[2:]
    assert dense == base[:-1] + ["Dense"] + base[-1:]
    assert float(depth_cv.VARIANTS["dense"](0.001).optimizer.learning_rate) == pytest.approx(0.001)


@pytest.mark.parametrize("shape", [(32, 100), (32, 26, 26, 32)])
def test_fused_batch_normalization_learns_as_keras_does(shape):
    """Same outputs and the same moving statistics as keras.layers.BatchNormalization, in training and after."""
    x = np.random.default_rng(0).normal(2.0, 3.0, shape).astype("float32")
    ours, keras_own = extensions.FusedBatchNormalization(momentum=0.5), keras.layers.BatchNormalization(momentum=0.5)
    for layer in (ours, keras_own):
        layer.build(shape)
    for _ in range(3):
        np.testing.assert_allclose(np.asarray(ours(x, training=True)), np.asarray(keras_own(x, training=True)),
                                   atol=2e-5)
    # the moving variance is the biased one, as Keras keeps it (not the fused kernel's n/(n-1) version)
    np.testing.assert_allclose(ours.moving_mean.numpy(), keras_own.moving_mean.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours.moving_variance.numpy(), keras_own.moving_variance.numpy(), rtol=1e-5)
    assert not np.allclose(ours.moving_variance.numpy(), 1.0)  # it moved
    np.testing.assert_allclose(np.asarray(ours(x)), np.asarray(keras_own(x)), atol=2e-5)  # inference
