"""The tutorial's Extensions that change the model: pixel scaling (--scaling) and augmentation (--augment);
and the fused batch normalization that trains batchnorm_cv.py's model faster (same learning)."""
import keras

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
    fill = {"fill_mode": "constant", "fill_value": 0.0}
    return in_front(model,
                    keras.layers.RandomRotation(rotation, **fill, name="random_rotation"),
                    keras.layers.RandomTranslation(translation, translation, **fill, name="random_translation"),
                    keras.layers.RandomZoom(zoom, **fill, name="random_zoom"))


def with_extensions(model, scaling, augment, train_images):
    """The model as --scaling and --augment change it (the tutorial's model when neither is set)."""
    model = with_scaling(model, scaling, train_images)
    return with_augmentation(model) if augment else model


# Registered under "harness", where it was first defined: saved models name it so.
@keras.saving.register_keras_serializable(package="harness")
class FusedBatchNormalization(keras.layers.BatchNormalization):
    """keras.layers.BatchNormalization, trained with TensorFlow's fused kernel (one op instead of
    Keras 3's several; batchnorm_cv.py's epochs 1.1x faster with 2 threads, 1.2x with 1: docs/speed.md).

    Same layer, same learning: it normalizes with the batch's mean and biased
    variance and updates the moving statistics exactly as Keras does. (The
    fused kernel returns the variance with Bessel's correction, n/(n-1), which
    is undone here.) Inference, other backends and other layouts use Keras's own ops.
    """

    def call(self, inputs, training=None, mask=None):
        rank = len(inputs.shape)
        if (not (training and self.trainable) or keras.backend.backend() != "tensorflow" or mask is not None
                or rank not in (2, 4) or self.axis not in (-1, rank - 1) or self.renorm):
            return super().call(inputs, training=training, mask=mask)
        import tensorflow as tf

        x = inputs if rank == 4 else tf.reshape(inputs, [-1, 1, 1, inputs.shape[-1]])  # NHWC, as the kernel wants
        y, mean, variance = tf.compat.v1.nn.fused_batch_norm(x, self.gamma, self.beta, epsilon=self.epsilon,
                                                             is_training=True)
        n = tf.cast(tf.size(x) // x.shape[-1], variance.dtype)
        variance = variance * (n - 1) / n
        self.moving_mean.assign(self.moving_mean * self.momentum + mean * (1.0 - self.momentum))
        self.moving_variance.assign(self.moving_variance * self.momentum + variance * (1.0 - self.momentum))
        return tf.reshape(y, tf.shape(inputs))
