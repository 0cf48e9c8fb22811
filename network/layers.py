"""A layer of the project's own: batchnorm_cv.py's fused batch normalization (same learning, faster)."""
import keras


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
