"""What a trained MNIST model sees: its first convolutional layer's filters, the feature maps of its
convolutional and pooling layers for one image, and the pixels its answer rests on (a saliency map).

    import handwriting
    from network import saved_model, view
    model = saved_model.load("final_model.h5")
    image = handwriting.read_digit("sample_image.png")   # (28, 28, 1) float32 in [0, 1]
    view.filters(model)                # (32, 3, 3): the first conv layer's 3x3 kernels
    view.feature_maps(model, image)    # {layer name: (height, width, channels)}, input to output
    view.saliency(model, image)        # (28, 28) in [0, 1]: how much each pixel counts for the answer

Each function returns NumPy arrays: visualize.py draws them, predict_web.py sends them to the page.

The models are those the project trains: a keras.Sequential (baseline_cv.py, batchnorm_cv.py, deeper_cv.py,
train_final.py, with or without the layers --scaling and --augment put in front of it), or an ensemble, a
keras.Model averaging member models (train_final.py --handwriting: saved_model.average). An ensemble's
filters and feature maps are those of one member (`member`, default 0: saved_model.members(model) lists
them); its saliency is the mean over the members, as its answer is the mean of theirs.

The saliency is SmoothGrad (Smilkov et al., 2017): the gradient of the answer's score (the last layer's
input to its softmax, the logit) with respect to the 28x28 pixels, averaged over copies of the image with
noise added, then its absolute value. Grad-CAM (Selvaraju et al., 2017) on the last convolutional layer is
here too (method="gradcam"); on MNIST digits SmoothGrad was the clearer of the two, by both measures of
bench/saliency_methods.py (docs/visualize.md). Gradients need the TensorFlow or JAX backend.
"""
import plumbing.quiet  # noqa: F401  (before Keras)

import keras
import numpy as np
from scipy import ndimage

from network.saved_model import digit_probabilities, members
from plumbing.cli import UserError

CONV_AND_POOL = (keras.layers.Conv2D, keras.layers.MaxPooling2D, keras.layers.AveragePooling2D)
# SmoothGrad's noisy copies and their noise (standard deviation, in pixel values: the pixels span [0, 1]).
# Smilkov et al. found 10-20% of the input's range best. On 200 MNIST test digits (final_model.h5,
# bench/saliency_methods.py), deleting the 20 pixels the map ranks highest left the answer p = 0.731 at
# noise 0.05, 0.683 at 0.1, 0.642 at 0.15, 0.596 at 0.2, 0.573 at 0.3 (the lower, the better the map
# found what matters), while the share of the map on the ink fell slowly, 0.710 to 0.636.
SMOOTHGRAD_SAMPLES = 50
SMOOTHGRAD_NOISE = 0.2
METHODS = ("smoothgrad", "gradcam", "gradient")


def pick_member(model, member=0):
    choices = members(model)
    if not 0 <= member < len(choices):
        raise UserError(f"--member {member}: the model has {len(choices)} member(s), numbered from 0")
    return choices[member]


def first_conv(model, member=0):
    """The first Conv2D layer (of the member `member` of an ensemble)."""
    conv = next((layer for layer in pick_member(model, member).layers if isinstance(layer, keras.layers.Conv2D)),
                None)
    if conv is None:
        raise UserError(f"{model.name}: the model has no Conv2D layer")
    return conv


def filters(model, member=0):
    """The first Conv2D layer's kernels as (filters, height, width): one tile per filter, the weights it gives
    the pixels under it (it has one input channel: the gray pixels)."""
    kernel = keras.ops.convert_to_numpy(first_conv(model, member).kernel)  # (height, width, in channels, filters)
    return np.moveaxis(kernel[:, :, 0, :], -1, 0)


def conv_and_pool_layers(model, member=0):
    return [layer for layer in pick_member(model, member).layers if isinstance(layer, CONV_AND_POOL)]


def feature_maps(model, image, member=0):
    """{layer name: (height, width, channels)}: what every conv and pooling layer puts out for `image`
    ((28, 28, 1) in [0, 1]), in the order the image goes through them."""
    net = pick_member(model, member)
    layers = conv_and_pool_layers(model, member)
    outputs = keras.Model(net.inputs, [layer.output for layer in layers])([_batch(image)], training=False)
    return {layer.name: keras.ops.convert_to_numpy(out)[0] for layer, out in zip(layers, outputs)}


def saliency(model, image, digit=None, method="smoothgrad", samples=SMOOTHGRAD_SAMPLES, noise=SMOOTHGRAD_NOISE,
             seed=0):
    """(28, 28) in [0, 1], 1 at the pixel that counts most for `digit` (default: the model's answer), averaged
    over an ensemble's members. method: "smoothgrad" (the default), "gradcam" or "gradient" (plain)."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, not {method!r}")
    x = _batch(image)
    if digit is None:
        digit = int(np.argmax(digit_probabilities(keras.ops.convert_to_numpy(model(x, training=False)))[0]))
    maps = []
    for net in members(model):
        if method == "gradcam":
            maps.append(_gradcam(net, x, digit))
        else:
            copies = samples if method == "smoothgrad" else 1
            noisy = x + np.random.default_rng(seed).normal(0, noise if copies > 1 else 0, (copies, *x.shape[1:]))
            grads = _gradient(lambda v, net=net: _logits(net.layers, v)[:, digit], noisy.astype("float32"))
            maps.append(np.abs(grads[..., 0].mean(axis=0)))  # signed mean: the noise's own gradients cancel
    mean = np.mean(maps, axis=0)
    return (mean / mean.max() if mean.max() > 0 else mean).astype("float32")


# ---------------------------------------------------------------- the pieces behind saliency()

def _batch(image):
    return np.asarray(image, "float32").reshape(1, 28, 28, 1)


def _run(layers, x):
    for layer in layers:
        x = layer(x, training=False)
    return x


def _logits(layers, x):
    """The score of each digit before the softmax: a softmax output is flat where the model is sure,
    and its gradient with it."""
    *body, last = layers
    x = _run(body, x)
    if isinstance(last, keras.layers.Dense) and last.activation is keras.activations.softmax:
        return keras.ops.matmul(x, last.kernel) + last.bias
    return keras.ops.log(last(x, training=False) + 1e-7)


def _gradient(score, x):
    """The gradient of sum(score(x)) with respect to x (a NumPy batch), by the backend Keras runs on."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        x = tf.convert_to_tensor(x)
        with tf.GradientTape() as tape:
            tape.watch(x)
            total = tf.reduce_sum(score(x))
        return tape.gradient(total, x).numpy()
    if backend == "jax":
        import jax

        return np.asarray(jax.grad(lambda v: score(v).sum())(x))
    raise UserError(f"saliency maps need the tensorflow or jax Keras backend, not {backend}")


def _gradcam(net, x, digit):
    """Grad-CAM: the last conv layer's maps, each weighted by the mean gradient of the digit's score over it,
    summed, negatives dropped, then drawn back onto the 28x28 pixels each map position looks at."""
    layers = list(net.layers)
    last_conv = max(i for i, layer in enumerate(layers) if isinstance(layer, keras.layers.Conv2D))
    maps = keras.ops.convert_to_numpy(_run(layers[:last_conv + 1], x))
    grads = _gradient(lambda a: _logits(layers[last_conv + 1:], a)[:, digit], maps)
    cam = np.maximum((maps[0] * grads[0].mean(axis=(0, 1))).sum(axis=-1), 0)
    offset, stride = _input_grid(layers[:last_conv + 1])
    pixels = (np.arange(28) - offset) / stride  # each input pixel's place on the conv layer's grid
    ys, xs = np.meshgrid(pixels, pixels, indexing="ij")
    return ndimage.map_coordinates(cam, [ys, xs], order=1, mode="nearest")


def _input_grid(layers):
    """Where the conv layer's positions sit on the input: position i looks at the window centred on input
    pixel offset + i * stride (valid padding moves it in by half a window, strides and pooling spread it)."""
    offset, stride = 0.0, 1.0
    for layer in layers:
        if isinstance(layer, keras.layers.Conv2D):
            window, step, padding = layer.kernel_size[0], layer.strides[0], layer.padding
            window = (window - 1) * layer.dilation_rate[0] + 1
        elif isinstance(layer, (keras.layers.MaxPooling2D, keras.layers.AveragePooling2D)):
            window, step, padding = layer.pool_size[0], layer.strides[0], layer.padding
        else:
            continue
        if padding == "valid":
            offset += (window - 1) / 2 * stride
        stride *= step
    return offset, stride
