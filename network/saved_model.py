"""A saved model, the one place that knows what it holds and answers.

Every model the scripts save is an H5 file with the settings it was trained with in its attributes (save,
saved_settings). It takes (n, 28, 28, 1) pixels in [0, 1] and answers ten digits' probabilities; a
train_final.py --handwriting model answers an eleventh number after them, P(not a digit), from its judge of
"not a digit". An ensemble (average) answers the mean of its members' digits. Callers never cut the outputs
themselves: predict (or digit_probabilities and not_a_digit_probability on outputs they have) does.
"""
import json
import os

import numpy as np

from plumbing.cli import UserError
from plumbing.files import atomic_path

DIGITS = 10  # the first ten outputs: P(0) .. P(9)
# The --handwriting model's judges of whether an image is a digit at all (train_final.py), named with this
# prefix: their P(not a digit) is the model's 11th output, after the ten digits' probabilities, ...
NOT_A_DIGIT = "not_a_digit"
CALIBRATION = "calibration"  # ... from this last layer: their mean logit plus a bias set on held-out digits
SETTINGS_ATTRIBUTE = "training_settings"  # in the H5 file's root attributes, as JSON
# Scoring is inference only, so its batch size changes nothing but speed.
PREDICT_BATCH_SIZE = 1000


def save(model, path, settings=None):
    """model.save() through a temp file, so killing the run never leaves a broken model at `path`;
    `settings` (how it was trained) go into the H5 file's attributes, for saved_settings."""
    import h5py

    with atomic_path(path) as tmp:
        model.save(tmp)
        if settings is not None:
            with h5py.File(tmp, "a") as f:
                f.attrs[SETTINGS_ATTRIBUTE] = json.dumps(settings, sort_keys=True)


def saved_settings(path):
    """The settings save recorded in the H5 file at `path`; None when there is no such file or record."""
    import h5py

    try:
        with h5py.File(path, "r") as f:
            return json.loads(f.attrs[SETTINGS_ATTRIBUTE])
    except (OSError, KeyError, ValueError):
        return None


def load(path, outputs=(DIGITS, DIGITS + 1)):
    """keras.models.load_model (safe_mode stays on), with one-line errors for the user's file.

    `outputs`: the widths of output it may have: the ten digits' probabilities, and after them P(not a
    digit) in a train_final.py --handwriting model (its judge of not a digit alone: outputs=(1,))."""
    if not os.path.isfile(path):  # said before Keras's seconds of importing
        folder = os.path.dirname(path)
        there = sorted(name for name in os.listdir(folder or ".") if name.endswith(".h5")) \
            if os.path.isdir(folder or ".") else []
        hint = (f"models in {folder or 'this folder'}: {', '.join(there[:3])}{', ...' if len(there) > 3 else ''}; "
                "name one with --model" if there else "train one with: python train_final.py")
        raise UserError(f"{path}: model file not found ({hint})")
    import plumbing.quiet  # noqa: F401  (before Keras: TensorFlow starts without its C++ notes)

    import keras

    from network import layers  # noqa: F401  (registers FusedBatchNormalization: batchnorm_cv.py's models load)

    try:
        model = keras.models.load_model(path)
    except Exception as e:
        raise UserError(f"{path}: not a loadable Keras model ({short_reason(e)}); "
                        "name an .h5 file that train_final.py saved")
    if tuple(model.input_shape[1:]) != (28, 28, 1) or tuple(model.output_shape[1:]) not in {(n,) for n in outputs}:
        expected = " or ".join(f"(None, {n})" for n in outputs)
        raise UserError(f"{path}: model takes {model.input_shape} and gives {model.output_shape}; "
                        f"expected (None, 28, 28, 1) -> {expected}")
    return model


def short_reason(error, width=80):
    """An exception's message cut to its first sentence and `width` characters, for a one-line error
    (Keras's own messages run to 450 characters of advice that is not the user's)."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else error.__class__.__name__
    text = text.split(". ")[0].split(": filepath=")[0].rstrip(".")
    return text if len(text) <= width else text[:width - 3] + "..."


def digit_probabilities(outputs):
    """The ten digits' probabilities in a model's outputs (n, 10 or 11): without the 11th, P(not a digit)."""
    return outputs[..., :DIGITS]


def not_a_digit_probability(outputs):
    """The 11th output, P(not a digit), of a model that has one (n,); None for a model that has not."""
    return outputs[..., DIGITS] if outputs.shape[-1] > DIGITS else None


def predict(model, images, batch_size=PREDICT_BATCH_SIZE):
    """The model's answers for images (n, 28, 28, 1): (digits' probabilities (n, 10), P(not a digit) (n,) or None)."""
    outputs = np.asarray(model.predict(images, batch_size=batch_size, verbose=0))
    return digit_probabilities(outputs), not_a_digit_probability(outputs)


def members(model):
    """The models whose answers an ensemble averages, in order ([model] for a single model)."""
    import keras

    inner = [layer for layer in model.layers
             if isinstance(layer, keras.Model) and not layer.name.startswith(NOT_A_DIGIT)]
    return inner or [model]


def average(models, judges=()):
    """One model whose output is the mean of the given models' outputs (they keep their own layers and
    weights, renamed member_0, member_1, ...: Keras needs unique names), saved and loaded like any model.
    With `judges` (models with one sigmoid output, P(not a digit)), an 11th output: the sigmoid of their mean
    logit (a mean of probabilities would need every judge sure at once), through a last layer, CALIBRATION,
    whose bias starts at 0 and which train_final.py sets on digits the judges never saw."""
    import keras

    for i, member in enumerate(models):
        member.name = f"member_{i}"
    inputs = keras.Input((28, 28, 1))
    mean = keras.layers.Average()([member(inputs) for member in models])
    if not judges:
        return keras.Model(inputs, mean)
    logits = []
    for i, judge in enumerate(judges):  # (each at the top, as the members are: one H5 group for each's weights)
        last = judge.layers[-1]  # Dense(1, sigmoid): its input, weights and bias make the logit
        logit = keras.layers.Dense(1, name=f"{NOT_A_DIGIT}_logit_{i}")
        logits.append(logit(keras.Model(judge.inputs, last.input, name=f"{NOT_A_DIGIT}_{i}")(inputs)))
        logit.set_weights(last.get_weights())
    calibration = keras.layers.Dense(1, activation="sigmoid", name=CALIBRATION)
    probability = calibration(logits[0] if len(logits) == 1 else keras.layers.Average()(logits))
    calibration.set_weights([np.ones((1, 1), np.float32), np.zeros(1, np.float32)])
    return keras.Model(inputs, keras.layers.Concatenate()([mean, probability]))
