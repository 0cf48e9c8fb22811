"""visualize.py and view.py: the filter grid, the feature maps, the saliency map, the command line."""
import os
import types

import keras
import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

import baseline_cv
import batchnorm_cv
import deeper_cv
import handwriting
from network import saved_model, view
import visualize
from conftest import REPO, run_script

SAMPLE = os.path.join(REPO, "sample_image.png")
MODELS = {"baseline": baseline_cv.define_model, "batchnorm": batchnorm_cv.define_model,
          "deeper": deeper_cv.define_model}


def ensemble(models, tmp_path):
    """The models averaged into one, as an ensemble is saved, then loaded back from H5."""
    for i, member in enumerate(models):
        member.name = f"member_{i}"
    inputs = keras.Input((28, 28, 1))
    path = tmp_path / "ensemble.h5"
    saved_model.save(keras.Model(inputs, keras.layers.Average()([m(inputs) for m in models])), path)
    return saved_model.load(path)


@pytest.fixture
def sample():
    return handwriting.read_digit(SAMPLE)


@pytest.fixture
def figures(monkeypatch):
    """The figures visualize.py would save, kept open to look into."""
    saved = {}
    monkeypatch.setattr(visualize, "save_figure",
                        lambda fig, path, tight=True: saved.setdefault(os.path.basename(path), fig))
    return saved


def test_filter_grid_has_a_tile_per_filter_showing_its_weights(figures):
    keras.utils.set_random_seed(0)
    model = baseline_cv.define_model()
    kernel = keras.ops.convert_to_numpy(model.layers[0].kernel)  # (3, 3, 1, 32)
    kernels = view.filters(model)
    assert kernels.shape == (32, 3, 3)
    visualize.draw_filters("conv2d", kernels, "", "filters.png")
    image = figures["filters.png"].axes[0].images[0]
    grid = np.ma.filled(image.get_array().astype(float), np.nan)
    tiles, count = ndimage.label(~np.isnan(grid))
    assert count == 32
    for i, piece in enumerate(ndimage.find_objects(tiles)):  # labelled row by row, as the filters are laid out
        np.testing.assert_array_equal(grid[piece], kernel[:, :, 0, i])
    low, high = image.norm.vmin, image.norm.vmax
    assert low == -high and high == pytest.approx(np.abs(kernel).max())  # one scale, centred on 0
    assert len(figures["filters.png"].axes) == 2  # the grid and its colour bar


@pytest.mark.parametrize("name", [*MODELS, "ensemble"])
def test_feature_maps_are_those_of_the_model_cut_at_each_layer(name, sample, tmp_path):
    keras.utils.set_random_seed(0)
    if name == "ensemble":
        model = ensemble([baseline_cv.define_model(), deeper_cv.define_model()], tmp_path)
        net = model.get_layer("member_1")
        maps = view.feature_maps(model, sample, member=1)
    else:
        model = net = MODELS[name]()
        maps = view.feature_maps(model, sample)
    conv_and_pool = [layer for layer in net.layers if isinstance(layer, (keras.layers.Conv2D,
                                                                        keras.layers.MaxPooling2D))]
    assert list(maps) == [layer.name for layer in conv_and_pool]
    for layer in conv_and_pool:
        expected = keras.Model(net.inputs, layer.output).predict(sample[None], verbose=0)[0]
        np.testing.assert_allclose(maps[layer.name], expected, rtol=1e-5, atol=1e-6)
    if name == "deeper":
        assert [m.shape for m in maps.values()] == [(26, 26, 32), (13, 13, 32), (11, 11, 64), (9, 9, 64),
                                                   (4, 4, 64)]


def test_an_ensemble_of_one_model_twice_has_that_model_s_saliency(sample, tmp_path):
    keras.utils.set_random_seed(0)
    single = deeper_cv.define_model()
    copy = keras.models.clone_model(single)
    copy.set_weights(single.get_weights())
    twice = ensemble([single, copy], tmp_path)
    assert len(view.members(twice)) == 2
    for method in ("smoothgrad", "gradcam"):
        np.testing.assert_allclose(view.saliency(twice, sample, digit=3, method=method),
                                   view.saliency(single, sample, digit=3, method=method), atol=1e-5)


def test_gradcam_maps_each_conv_position_to_the_pixels_it_looks_at():
    layers = deeper_cv.define_model().layers
    assert view._input_grid(layers[:1]) == (1.0, 1.0)  # a valid 3x3 conv: position 0 is centred on pixel 1
    # conv 3x3, pool 2x2, conv 3x3, conv 3x3: position i of the last conv looks at pixels centred on 5.5 + 2 i
    assert view._input_grid(layers[:4]) == (5.5, 2.0)


def test_saliency_of_the_sample_seven_lies_on_its_ink(small_model, sample):
    model = saved_model.load(small_model)
    assert int(np.argmax(model.predict(sample[None], verbose=0))) == 7
    saliency = view.saliency(model, sample)
    assert saliency.shape == (28, 28) and saliency.max() == pytest.approx(1.0) and saliency.min() >= 0
    ink = ndimage.binary_dilation(sample[:, :, 0] > 0)  # 316 of the 784 pixels
    assert saliency[ink].sum() > saliency[~ink].sum()


def test_script_saves_the_pictures_and_prints_their_paths(small_model, tmp_path):
    result = run_script("visualize.py", "--model", small_model, "--out", tmp_path / "pictures")
    assert result.returncode == 0, result.stderr
    names = ["filters.png", "feature_maps_1_conv2d.png", "feature_maps_2_max_pooling2d.png",
             "feature_maps_3_conv2d_1.png", "feature_maps_4_conv2d_2.png", "feature_maps_5_max_pooling2d_1.png",
             "saliency.png"]
    assert result.stdout.splitlines() == [str(tmp_path / "pictures" / name) for name in names]
    for name in names:
        with Image.open(tmp_path / "pictures" / name) as picture:
            assert picture.format == "PNG" and picture.width > 300


def test_script_reads_a_batch_normalization_model(tmp_path):
    """batchnorm_cv.py's model (its FusedBatchNormalization layers) loads and is drawn, signed maps and all."""
    keras.utils.set_random_seed(0)
    model = tmp_path / "batchnorm.h5"
    saved_model.save(batchnorm_cv.define_model(), model)
    result = run_script("visualize.py", "--model", model, "--out", tmp_path / "pictures")
    assert result.returncode == 0, result.stderr
    names = [os.path.basename(line) for line in result.stdout.splitlines()]
    assert len(names) == 4 and names[0] == "filters.png" and names[-1] == "saliency.png", names
    assert names[1].startswith("feature_maps_1_conv2d") and names[2].startswith("feature_maps_2_max_pooling2d")


def test_a_number_gets_one_row_per_digit(monkeypatch, figures, sample, tmp_path):
    keras.utils.set_random_seed(0)
    model = tmp_path / "baseline.h5"
    saved_model.save(baseline_cv.define_model(), model)
    digits = [sample[:, :, 0], np.roll(sample[:, :, 0], 2, axis=1)]
    monkeypatch.setattr(handwriting, "find_digits", lambda gray: [types.SimpleNamespace(image=d) for d in digits],
                        raising=False)
    visualize.main([SAMPLE, "--model", str(model), "--out", str(tmp_path / "out")])
    rows = [ax for ax in figures["saliency.png"].axes if ax.get_title() == "what the model sees (28x28)"]
    assert len(rows) == 2
    for ax, digit in zip(rows, digits):
        np.testing.assert_array_equal(ax.images[0].get_array(), digit)
    maps = next(fig for name, fig in figures.items() if name.startswith("feature_maps_1_")).axes
    probabilities, _ = saved_model.predict(saved_model.load(model), np.stack(digits)[..., None])
    assert [ax.get_ylabel() for ax in maps[:2]] == [f"digit {i}: read as {np.argmax(p)}"
                                                    for i, p in enumerate(probabilities, start=1)]


@pytest.mark.parametrize("case, words", [
    ("missing image", ["nothing.png"]),
    ("not an image", ["notes.png"]),
    ("missing model", ["nothing.h5", "not found"]),
    ("no such member", ["--member 3", "1 member"]),
])
def test_a_user_s_mistake_is_one_line(case, words, tmp_path, capsys):
    model = tmp_path / "baseline.h5"
    saved_model.save(baseline_cv.define_model(), model)
    (tmp_path / "notes.png").write_text("not a picture")
    args = {"missing image": [str(tmp_path / "nothing.png"), "--model", str(model)],
            "not an image": [str(tmp_path / "notes.png"), "--model", str(model)],
            "missing model": [SAMPLE, "--model", str(tmp_path / "nothing.h5")],
            "no such member": [SAMPLE, "--model", str(model), "--member", "3"]}[case]
    with pytest.raises(SystemExit) as exit:
        visualize.main([*args, "--out", str(tmp_path / "out")])
    assert exit.value.code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("visualize.py: error: "), err
    assert all(word in err[0] for word in words), err
    assert not (tmp_path / "out").exists()


def test_saliency_is_the_same_on_jax(sample, tmp_path):
    """Gradients come from the backend Keras runs on: JAX's must match TensorFlow's."""
    import importlib.util
    import subprocess
    import sys
    if importlib.util.find_spec("jax") is None:
        if os.environ.get("REQUIRE_JAX") == "1":
            pytest.fail("REQUIRE_JAX=1 but jax is not installed")
        pytest.skip("jax is not installed")
    keras.utils.set_random_seed(0)
    model = tmp_path / "deeper.h5"
    saved_model.save(deeper_cv.define_model(), model)
    code = ("import sys, numpy, handwriting; from network import saved_model, view; "
            f"numpy.save(sys.argv[1], view.saliency(saved_model.load({str(model)!r}), "
            f"handwriting.read_digit({SAMPLE!r}), digit=7))")
    result = subprocess.run([sys.executable, "-c", code, tmp_path / "jax.npy"], capture_output=True, text=True,
                            cwd=REPO, env=dict(os.environ, KERAS_BACKEND="jax"), timeout=300)
    assert result.returncode == 0, result.stderr
    np.testing.assert_allclose(np.load(tmp_path / "jax.npy"), view.saliency(saved_model.load(model), sample, digit=7),
                               atol=1e-4)
