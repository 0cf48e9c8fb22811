"""Stage 2: the baseline with batch normalization after the conv and the dense layer.

    python batchnorm_cv.py
"""
import harness


def define_model(learning_rate=0.01):
    """The baseline, with BatchNormalization after the conv layer and after the 100-unit dense layer."""
    from keras import Input, Sequential
    from keras.layers import Conv2D, Dense, Flatten, MaxPooling2D

    # Keras's BatchNormalization, trained by TensorFlow's fused kernel: same learning, faster (docs/speed.md).
    from network.layers import FusedBatchNormalization as BatchNormalization

    model = Sequential()
    model.add(Input(shape=(28, 28, 1)))
    model.add(Conv2D(32, (3, 3), activation="relu", kernel_initializer="he_uniform"))
    model.add(BatchNormalization())
    model.add(MaxPooling2D((2, 2)))
    model.add(Flatten())
    model.add(Dense(100, activation="relu", kernel_initializer="he_uniform"))
    model.add(BatchNormalization())
    model.add(Dense(10, activation="softmax"))
    return harness.compile_model(model, learning_rate)


def main(argv=None):
    harness.cv_main("batchnorm_cv.py", __doc__.splitlines()[0], argv=argv)


if __name__ == "__main__":
    main()
