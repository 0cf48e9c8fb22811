"""Section 1 (python harness.py: look at the data) and --augment (random rotation, shift and zoom in training)."""
import argparse
import json
import os

import keras
import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

import deeper_cv
from plumbing import files
import extensions
import experiment
from conftest import REPO, assert_one_line_error, run_script

AUGMENTATION_LAYERS = ["RandomRotation", "RandomTranslation", "RandomZoom"]


def digit_images(n=8):
    """White strokes on black at MNIST's size and scale: a bar and a ring, shifted about."""
    yy, xx = np.mgrid[:28, :28]
    images = np.zeros((n, 28, 28, 1), np.float32)
    for i in range(n):
        images[i, 5:23, 12 + i % 3:15 + i % 3, 0] = 1.0
        images[i, :, :, 0] += np.abs(np.hypot(yy - 14, xx - 10 - i) - 6) < 1.5
    return np.clip(images, 0, 1)


# ---------------------------------------------------------------- Section 1

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


# ---------------------------------------------------------------- --augment

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
    files.save_model(model, path)
    loaded = keras.models.load_model(path, safe_mode=True)
    assert [type(layer).__name__ for layer in loaded.layers][:4] == AUGMENTATION_LAYERS + ["Rescaling"]
    assert loaded.layers[0].factor == model.layers[0].factor
    np.testing.assert_array_equal(loaded.predict(images, verbose=0), model.predict(images, verbose=0))
    np.testing.assert_array_equal(files.load_model(path).predict(images, verbose=0),
                                  model.predict(images, verbose=0))


def test_augment_flag_names_its_results_and_is_off_by_default():
    parser = argparse.ArgumentParser()
    experiment.add_flags(parser, experiment.TRAINING)
    assert parser.parse_args([]).augment is False
    args = parser.parse_args(["--augment"])
    args.reuse_model, args.folds = False, 5
    assert experiment.from_args(args, "deeper_cv.py").name == "deeper_cv-augment"
    assert experiment.from_args(args, "deeper_cv.py").config()["augment"] is True
    assert f"up to {extensions.AUGMENT_ROTATION * 360:g} degrees" in " ".join(parser.format_help().split())


def test_train_final_augment_then_evaluate_and_predict(mnist, tmp_path):
    path = tmp_path / "augmented.h5"
    result = run_script("train_final.py", "--augment", "--data", mnist, "--limit", 3000, "--epochs", 1,
                        "--model", path)
    assert result.returncode == 0, result.stderr
    assert [type(layer).__name__ for layer in files.load_model(str(path)).layers][:3] == AUGMENTATION_LAYERS

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
    saved = json.loads((tmp_path / "results" / "baseline_cv-augment" / "scores.json").read_text())
    assert saved["config"]["augment"] is True and saved["n"] == 2
    assert all(0.3 < score <= 1 for score in saved["scores"])  # 300 images, one epoch: above chance
