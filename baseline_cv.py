"""Stage 1: the baseline CNN, scored by 5-fold cross-validation.

    python baseline_cv.py            # prints "> 98.6..." per fold, then the mean
"""
import harness


def define_model(learning_rate=0.01):
    """One conv block (32 filters 3x3, max-pool 2x2), a 100-unit dense layer, softmax over 10 digits."""
    from keras import Input, Sequential
    from keras.layers import Conv2D, Dense, Flatten, MaxPooling2D

    model = Sequential()
    model.add(Input(shape=(28, 28, 1)))
    model.add(Conv2D(32, (3, 3), activation="relu", kernel_initializer="he_uniform"))
    model.add(MaxPooling2D((2, 2)))
    model.add(Flatten())
    model.add(Dense(100, activation="relu", kernel_initializer="he_uniform"))
    model.add(Dense(10, activation="softmax"))
    return harness.compile_model(model, learning_rate)


def main(argv=None):
    # It already uses two cores well (measured: docs/speed.md), so by default its folds run in turn here.
    harness.cv_main("baseline_cv.py", __doc__.splitlines()[0], threads_per_fold=2, argv=argv)


if __name__ == "__main__":
    main()
