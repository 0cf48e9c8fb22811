"""experiments/extensions.py and network/layers.py: pixel scaling from the training split, augmentation in
training only, fused batch norm."""

import keras
import numpy as np
import pytest

import baseline_cv
import deeper_cv
from experiments import extensions
import harness
from conftest import AUGMENTATION_LAYERS, tiny_data
from network import layers, saved_model


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


def digit_images(n=8):
    """White strokes on black at MNIST's size and scale: a bar and a ring, shifted about."""
    yy, xx = np.mgrid[:28, :28]
    images = np.zeros((n, 28, 28, 1), np.float32)
    for i in range(n):
        images[i, 5:23, 12 + i % 3:15 + i % 3, 0] = 1.0
        images[i, :, :, 0] += np.abs(np.hypot(yy - 14, xx - 10 - i) - 6) < 1.5
    return np.clip(images, 0, 1)


def test_augmentation_comes_first_and_adds_no_weights():
    plain = deeper_cv.define_model()
    augmented = extensions.with_augmentation(plain)
    names = [type(layer).__name__ for layer in augmented.layers]
    assert names == AUGMENTATION_LAYERS + [type(layer).__name__ for layer in plain.layers]
    assert augmented.count_params() == plain.count_params()
    rotation, translation, zoom = augmented.layers[:3]
    assert rotation.factor == (-extensions.AUGMENT_ROTATION, extensions.AUGMENT_ROTATION)
    assert translation.height_factor == translation.width_factor == extensions.AUGMENT_TRANSLATION
    assert zoom.height_factor == extensions.AUGMENT_ZOOM
    assert all(layer.fill_mode == "constant" and layer.fill_value == 0 for layer in augmented.layers[:3])
    # the optimizer and learning rate of the model it wraps
    assert float(extensions.with_augmentation(deeper_cv.define_model(0.001)).optimizer.learning_rate) == \
        pytest.approx(0.001)


def test_augmentation_changes_training_inputs_only():
    images = digit_images()
    augment = keras.Sequential(extensions.with_augmentation(deeper_cv.define_model()).layers[:3])
    trained_on = np.asarray(augment(images, training=True))
    assert trained_on.shape == images.shape
    assert np.abs(trained_on - images).mean(axis=(1, 2, 3)).min() > 0.01  # every image moved
    assert trained_on.min() >= 0 and trained_on.max() <= 1.0 + 1e-6  # still [0, 1] pixels...
    assert np.all(trained_on[:, 0, 0] == 0)  # ...on a black background: the corners it uncovers stay black
    np.testing.assert_array_equal(np.asarray(augment(images, training=False)), images)


def test_same_weights_predict_identically_with_and_without_augmentation():
    images = digit_images()
    plain = deeper_cv.define_model()
    augmented = extensions.with_augmentation(plain)  # shares plain's layers, so its weights
    np.testing.assert_array_equal(augmented.predict(images, verbose=0), plain.predict(images, verbose=0))
    np.testing.assert_array_equal(np.asarray(augmented(images, training=False)), np.asarray(plain(images)))


def test_augmentation_repeats_with_the_seed():
    images = digit_images()

    def augmented_batch(seed):
        keras.utils.set_random_seed(seed)
        model = extensions.with_augmentation(extensions.with_scaling(deeper_cv.define_model(), "normalize", images))
        return np.asarray(keras.Sequential(model.layers[:3])(images, training=True))

    np.testing.assert_array_equal(augmented_batch(1), augmented_batch(1))
    assert not np.array_equal(augmented_batch(1), augmented_batch(2))


def test_augmented_model_saves_to_h5_and_loads_in_safe_mode(tmp_path):
    images = digit_images()
    keras.utils.set_random_seed(1)
    model = extensions.with_augmentation(extensions.with_scaling(deeper_cv.define_model(), "standardize", images))
    model.fit(images, keras.utils.to_categorical(np.arange(len(images)) % 10, 10), epochs=1, verbose=0)
    path = str(tmp_path / "augmented.h5")
    saved_model.save(model, path)
    loaded = keras.models.load_model(path, safe_mode=True)
    assert [type(layer).__name__ for layer in loaded.layers][:4] == AUGMENTATION_LAYERS + ["Rescaling"]
    assert loaded.layers[0].factor == model.layers[0].factor
    np.testing.assert_array_equal(loaded.predict(images, verbose=0), model.predict(images, verbose=0))
    np.testing.assert_array_equal(saved_model.load(path).predict(images, verbose=0),
                                  model.predict(images, verbose=0))


@pytest.mark.parametrize("shape", [(32, 100), (32, 26, 26, 32)])
def test_fused_batch_normalization_learns_as_keras_does(shape):
    """Same outputs and the same moving statistics as keras.layers.BatchNormalization, in training and after."""
    x = np.random.default_rng(0).normal(2.0, 3.0, shape).astype("float32")
    ours, keras_own = layers.FusedBatchNormalization(momentum=0.5), keras.layers.BatchNormalization(momentum=0.5)
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



# ---------------------------------------------------------------- --flag-ones and the mean of models

def synthetic_ones_and_zeros():
    """Ten 1s (vertical bars of varied position, height and width) and five 0s (rings), uint8 white on black."""
    images = np.zeros((15, 28, 28, 1), np.uint8)
    for i in range(10):
        x, top, width = 10 + i, 4 + i % 3, 2 + i % 3
        images[i, top:24, x:x + width, 0] = 255
    yy, xx = np.mgrid[:28, :28]
    images[10:, ..., 0] = (np.abs(np.hypot(yy - 14, xx - 14) - 8) < 1.5) * 255
    return images, np.eye(10)[[1] * 10 + [0] * 5]


def test_flags_are_drawn_on_some_ones_only_as_before():
    images, labels = synthetic_ones_and_zeros()
    flagged, count = extensions.with_flags(images, labels, seed=3)
    changed = (flagged != images).reshape(15, -1).any(axis=1)
    assert count == changed.sum() == 7 and not changed[10:].any()  # 1s only, about half of them
    assert (flagged >= images).all()  # strokes are added, never removed
    # The same images as bench/flag_ones.py's with_flags(images, labels, 0.5, 3) drew before it moved here
    # (commit caa491e), so train_final.py --flag-ones trains on the same flagged 1s.
    assert int(flagged.astype(np.int64).sum()) == 367209 and int((flagged != images).sum()) == 182
    assert [int(d.sum()) for d in flagged[:10]] == [12418, 17295, 18360, 10200, 22685, 28346, 12592, 16274,
                                                    18360, 11779]
    again, _ = extensions.with_flags(images, labels, seed=3)
    other, _ = extensions.with_flags(images, labels, seed=4)
    assert np.array_equal(again, flagged) and not np.array_equal(other, flagged)


def test_average_is_the_mean_of_the_models_and_saves_to_h5(tmp_path):
    x, _ = tiny_data(8)
    models = []
    for seed in (1, 2):
        keras.utils.set_random_seed(seed)
        models.append(deeper_cv.define_model())
    expected = np.mean([m.predict(x, verbose=0) for m in models], axis=0)
    path = tmp_path / "mean.h5"
    saved_model.save(saved_model.average(models), path)
    np.testing.assert_allclose(saved_model.load(str(path)).predict(x, verbose=0), expected, rtol=1e-5, atol=1e-7)
