"""Extension: tune model depth, the baseline with one more conv block or one more dense layer.

    python depth_cv.py --variant conv    # baseline + Conv2D(64) and max-pool
    python depth_cv.py --variant dense   # baseline + a second Dense(100)
"""
import functools

import harness


def define_model(learning_rate=0.01, extra_conv_block=True, extra_dense=False):
    """The baseline, plus a second conv block and/or a second dense layer."""
    from keras import Input, Sequential
    from keras.layers import Conv2D, Dense, Flatten, MaxPooling2D

    model = Sequential()
    model.add(Input(shape=(28, 28, 1)))
    model.add(Conv2D(32, (3, 3), activation="relu", kernel_initializer="he_uniform"))
    model.add(MaxPooling2D((2, 2)))
    if extra_conv_block:
        model.add(Conv2D(64, (3, 3), activation="relu", kernel_initializer="he_uniform"))
        model.add(MaxPooling2D((2, 2)))
    model.add(Flatten())
    model.add(Dense(100, activation="relu", kernel_initializer="he_uniform"))
    if extra_dense:
        model.add(Dense(100, activation="relu", kernel_initializer="he_uniform"))
    model.add(Dense(10, activation="softmax"))
    return harness.compile_model(model, learning_rate)


# functools.partial, not lambdas: worker processes receive the model's recipe by pickling.
VARIANTS = {
    "conv": functools.partial(define_model, extra_conv_block=True, extra_dense=False),
    "dense": functools.partial(define_model, extra_conv_block=False, extra_dense=True),
}

def main(argv=None):
    harness.cv_main("depth_cv.py", __doc__.splitlines()[0], variants=VARIANTS, argv=argv)


if __name__ == "__main__":
    main()
