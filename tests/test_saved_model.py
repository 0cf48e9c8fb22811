"""network.saved_model, the one owner of what a saved model answers, and every consumer of a model's answers
run on a ten-output model and on an eleven-output one (a --handwriting model: P(not a digit) last)."""
import os
import threading

import keras
import numpy as np
import pytest

import evaluate_final
import handwriting
import predict_image
import predict_web
import visualize
from bench import digits_accuracy, flag_ones, saliency_methods
from conftest import REPO
from handwriting import reading
from network import saved_model, view

SAMPLE = os.path.join(REPO, "sample_image.png")  # a handwritten 7
SEVEN = 0.9        # every image reads 7 with this probability ...
NOT_A_DIGIT = 0.98  # ... and P(not a digit) is higher: an argmax over all eleven outputs would answer 10


def member(name="digits"):
    """A small conv net that reads every image as 7 (p about SEVEN): its dense weights tiny, its biases the
    log-probabilities (tiny, not zero, so saliency has gradients to follow)."""
    dense = keras.layers.Dense(10, activation="softmax")
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(2, 3, activation="relu"),
                              keras.layers.MaxPooling2D(), keras.layers.Flatten(), dense], name=name)
    others = (1 - SEVEN) / 9
    dense.set_weights([np.full(dense.kernel.shape, 1e-4, np.float32),
                       np.log([SEVEN if d == 7 else others for d in range(10)]).astype(np.float32)])
    return model


def judge():
    """A judge of "not a digit" that says NOT_A_DIGIT of every image."""
    inputs = keras.Input((28, 28, 1))
    dense = keras.layers.Dense(1, activation="sigmoid")
    outputs = dense(keras.layers.Flatten()(inputs))
    dense.set_weights([np.zeros(dense.kernel.shape, np.float32), np.float32([np.log(NOT_A_DIGIT / (1 - NOT_A_DIGIT))])])
    return keras.Model(inputs, outputs, name="judge")


@pytest.fixture(scope="module", params=[10, 11], ids=["ten outputs", "eleven outputs"])
def model_file(request, tmp_path_factory):
    keras.utils.set_random_seed(0)
    digits = [member("a"), member("b")]
    model = saved_model.average(digits, [judge()] if request.param == 11 else [])
    path = str(tmp_path_factory.mktemp("models") / f"outputs{request.param}.h5")
    saved_model.save(model, path, {"outputs": request.param})
    return path


@pytest.fixture(scope="module")
def model(model_file):
    return saved_model.load(model_file)


def digits_of_sample():
    return np.stack([c.image.reshape(28, 28, 1) for c in handwriting.find_digits(
        handwriting.grayscale(handwriting.open_image(SAMPLE)))])


def test_the_saved_model_says_its_digits_and_not_a_digit_apart(model, model_file):
    width = model.output_shape[-1]
    assert saved_model.saved_settings(model_file) == {"outputs": width}
    probabilities, not_a_digit = saved_model.predict(model, np.zeros((3, 28, 28, 1), np.float32))
    assert probabilities.shape == (3, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, rtol=1e-5)
    np.testing.assert_allclose(probabilities[:, 7], SEVEN, atol=0.01)
    if width == 11:
        np.testing.assert_allclose(not_a_digit, NOT_A_DIGIT, atol=1e-4)
    else:
        assert not_a_digit is None
    assert [m.name for m in saved_model.members(model)] == ["member_0", "member_1"]  # never the judge


def test_every_script_reads_the_ten_digits_only(model, model_file, tmp_path, capsys):
    digits = digits_of_sample()
    assert [a["digit"] for a in predict_image.raw_answers(model, list(digits), top_k=3)] == [7] * len(digits)
    [answer] = handwriting.read_numbers(model, [handwriting.grayscale(handwriting.open_image(SAMPLE))])
    assert answer["number"] == "7" and len(answer["digits"][0]["probabilities"]) == 10
    assert ("not_a_digit" in answer["digits"][0]) == (model.output_shape[-1] == 11)
    assert evaluate_final.evaluate_images(model, [(SAMPLE, "7")]) == 1.0
    with open(SAMPLE, "rb") as f:
        web = predict_web.predict(model, threading.Lock(), f.read(), explain=True)
    assert web["number"] == "7" and len(web["explain"]) == 1
    visualize.main([SAMPLE, "--model", model_file, "--out", str(tmp_path)])
    assert "saliency.png" in capsys.readouterr().out
    assert view.saliency(model, digits[0]).shape == (28, 28)


def test_every_benchmark_reads_the_ten_digits_only(model):
    digits = digits_of_sample()
    sevens = np.full(len(digits), 7)
    assert flag_ones.score(model, digits, sevens, confusion=True) == "100.00%"  # not "0.00% (1 as 10)"
    assert digits_accuracy.accuracy(model, digits, sevens) == 1.0
    kept = saliency_methods.after_deleting(model, digits, sevens, [np.arange(784)] * len(digits))
    assert kept == pytest.approx(SEVEN, abs=0.01)
    probabilities, each, not_a_digit = reading.predict(model, digits, members=True)
    assert probabilities.shape == (len(digits), 10) and each.shape == (2, len(digits), 10)
    assert (not_a_digit is None) == (model.output_shape[-1] == 10)
