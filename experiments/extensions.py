"""The tutorial's Extensions that change the model or its training images: pixel scaling (--scaling),
augmentation (--augment) and flags drawn on training 1s (--flag-ones). (train_final.py --handwriting's
mean of several models with a judge of "not a digit" is network.saved_model.average.)

Keras is imported in the functions that take a model (it is loaded by then): experiment.py reads this
module's settings while a script reads its flags, before the 6-9 s of importing TensorFlow."""
import numpy as np
from PIL import Image, ImageDraw

SCALINGS = ("normalize", "center", "standardize")

# --augment: random rotation (fraction of a full turn), translation (fraction
# of the 28-pixel side) and zoom (fraction of the size, in or out) of each
# training image. Chosen by measurement (bench/augment_ranges.py, docs/augmentation.md):
# the deeper model trained 5 epochs on 50,000 images with each of 9 candidates,
# scored on the other 10,000, ../shared/real_digits and scikit-learn's load_digits.
# Larger rotations cost accuracy on both MNIST and load_digits; these read the
# most real digits of the two sets at 99.0% on MNIST.
AUGMENT_ROTATION = 0.03    # up to 10.8 degrees either way
AUGMENT_TRANSLATION = 0.08  # up to 2.2 pixels
AUGMENT_ZOOM = 0.1


def in_front(model, *layers):
    """`model`'s layers behind `layers`, compiled as `model` was (its optimizer, loss and steps per call)."""
    import keras

    wrapped = keras.Sequential([keras.Input((28, 28, 1)), *layers, *model.layers])
    wrapped.compile(optimizer=model.optimizer, loss=model.loss, metrics=["accuracy"],
                    steps_per_execution=model.steps_per_execution)
    return wrapped


def with_scaling(model, scaling, train_images):
    """The tutorial's "tune pixel scaling" extension, built into the model.

    Pixels are already in [0, 1] ("normalize", the tutorial's way, returns the
    model as it is). "center" subtracts the training images' mean pixel,
    "standardize" also divides by their standard deviation. The statistics
    come from `train_images` only, and live in a Rescaling layer saved with
    the model, so evaluation and prediction scale new images the same way.
    """
    import keras

    if scaling == "normalize":
        return model
    mean = float(train_images.mean())
    std = float(train_images.std()) if scaling == "standardize" else 1.0
    return in_front(model, keras.layers.Rescaling(1.0 / std, offset=-mean / std, name=f"{scaling}_pixels"))


def with_augmentation(model, rotation=AUGMENT_ROTATION, translation=AUGMENT_TRANSLATION, zoom=AUGMENT_ZOOM):
    """Random rotation, shift and zoom of the training images, built into the model.

    Keras's preprocessing layers act only in training (fit); at inference
    (evaluate, predict) they pass images through unchanged, so the saved model
    needs nothing else. They go first, on the [0, 1] pixels, and fill what
    they uncover with 0, MNIST's black background. Their random draws come
    from Keras's seed (keras.utils.set_random_seed), so a run repeats.
    """
    import keras

    fill = {"fill_mode": "constant", "fill_value": 0.0}
    return in_front(model,
                    keras.layers.RandomRotation(rotation, **fill, name="random_rotation"),
                    keras.layers.RandomTranslation(translation, translation, **fill, name="random_translation"),
                    keras.layers.RandomZoom(zoom, **fill, name="random_zoom"))


def with_extensions(model, scaling, augment, train_images):
    """The model as --scaling and --augment change it (the tutorial's model when neither is set)."""
    model = with_scaling(model, scaling, train_images)
    return with_augmentation(model) if augment else model


# --flag-ones: a 1 written with a flag at its top (and a base), as taught in much of Europe, is read as 7
# by models trained on MNIST's mostly single-stroke 1s (docs/own_images.md, "A 1 with a flag"). Half of
# the training 1s get one; a third of those a base too; measured by python -m bench.flag_ones.
FLAG_SHARE = 0.5
FLAG_BASE_SHARE = 1 / 3
FLAG_LENGTH = (0.25, 0.45)  # of the digit's height
FLAG_ANGLE = (20, 55)       # degrees below the horizontal, down to the left
BASE_HALF_WIDTH = (0.2, 0.35)  # of the digit's height, each side
FLAG_UPSCALE = 4  # flags are drawn at 4x and reduced, so they are anti-aliased like MNIST's strokes


def draw_flag(digit, rng, base=False):
    """An MNIST 1 (28x28 uint8, white on black) with a flag at its top, and a base under it if `base`."""
    import handwriting  # the stroke width as the reading of images measures it (imported here: CV scripts skip it)

    ink = digit > 128
    ys, xs = np.nonzero(ink)
    top, bottom = ys.min(), ys.max()
    height = bottom - top + 1
    width = handwriting.stroke_width(ink)
    x_top, x_bottom = xs[ys == top].mean(), xs[ys == bottom].mean()
    length, angle = height * rng.uniform(*FLAG_LENGTH), np.radians(rng.uniform(*FLAG_ANGLE))
    up = FLAG_UPSCALE
    big = Image.new("L", (28 * up, 28 * up), 0)
    draw = ImageDraw.Draw(big)
    pen = max(1, round(width * up))
    start = ((x_top + 0.5) * up, (top + 0.5) * up)
    end = (start[0] - length * np.cos(angle) * up, start[1] + length * np.sin(angle) * up)
    draw.line([start, end], fill=255, width=pen)
    if base:
        half = height * rng.uniform(*BASE_HALF_WIDTH) * up
        y = (bottom + 0.5) * up
        draw.line([((x_bottom + 0.5) * up - half, y), ((x_bottom + 0.5) * up + half, y)], fill=255, width=pen)
    strokes = np.asarray(big.resize((28, 28), Image.BOX))
    return np.maximum(digit, strokes)


def with_flags(images, labels, seed, share=FLAG_SHARE):
    """A copy of MNIST training images (N, 28, 28, 1 uint8, one-hot labels) where `share` of the 1s have a
    flag (drawn from numpy's generator seeded with `seed`), and how many."""
    rng = np.random.default_rng(seed)
    images = images.copy()
    ones = np.flatnonzero(labels.argmax(axis=1) == 1)
    chosen = ones[rng.random(len(ones)) < share]
    for i in chosen:
        images[i, :, :, 0] = draw_flag(images[i, :, :, 0], rng, base=rng.random() < FLAG_BASE_SHARE)
    return images, len(chosen)
