"""Stage 3: a deeper model, with two more 64-filter conv layers and a second pooling layer.

    python deeper_cv.py
"""
import harness


def define_model(learning_rate=0.01):
    """The baseline plus a second block: two Conv2D(64, 3x3) layers and a max-pool."""
    from keras import Input, Sequential
    from keras.layers import Conv2D, Dense, Flatten, MaxPooling2D

    model = Sequential()
    model.add(Input(shape=(28, 28, 1)))
    model.add(Conv2D(32, (3, 3), activation="relu", kernel_initializer="he_uniform"))
    model.add(MaxPooling2D((2, 2)))
    model.add(Conv2D(64, (3, 3), activation="relu", kernel_initializer="he_uniform"))
    model.add(Conv2D(64, (3, 3), activation="relu", kernel_initializer="he_uniform"))
    model.add(MaxPooling2D((2, 2)))
    model.add(Flatten())
    model.add(Dense(100, activation="relu", kernel_initializer="he_uniform"))
    model.add(Dense(10, activation="softmax"))
    return harness.compile_model(model, learning_rate)


def main(argv=None):
    # Two single-threaded workers were no faster than one process with two threads here (docs/speed.md),
    # so by default its folds run in turn on 2 cores.
    harness.cv_main("deeper_cv.py", __doc__.splitlines()[0], threads_per_fold=2, argv=argv)


if __name__ == "__main__":
    main()
