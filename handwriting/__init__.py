"""Reading your own handwriting: an image file -> the 28x28 digit an MNIST model reads.

    import handwriting
    digit = handwriting.read_digit("my_digit.jpg")      # (28, 28, 1) float32 in [0, 1]

decode.py opens the file (first frame, EXIF orientation, 16-bit, Pillow's size limit) and
makes it grayscale; pipeline.py makes the digit look like MNIST's, step by step as
docs/own_images.md lists them. A blank image raises NoDigit (a UserError: one line, "no digit
found"); a file that cannot be read, UserError.
"""
from handwriting.decode import IMAGE_EXTENSIONS, expand_paths, grayscale, open_image, open_image_bytes, plain_resize
from handwriting.pipeline import (PARAMS, Frame, Ink, Kind, NoDigit, Params, crop_to_strokes, fit_digit, ink_pieces,
                                  keep_the_strokes, stroke_width, to_mnist)
from handwriting.numbers import Candidate, find_digits
from handwriting.reading import read_numbers

__all__ = ["Candidate", "IMAGE_EXTENSIONS", "PARAMS", "Frame", "Ink", "Kind", "NoDigit", "Params", "crop_to_strokes",
           "expand_paths", "find_digits", "fit_digit", "grayscale", "ink_pieces", "keep_the_strokes", "open_image",
           "open_image_bytes", "plain_resize", "read_digit", "read_digit_bytes", "read_numbers", "stroke_width",
           "to_mnist"]


def read_digit(path):
    """One image file -> a (28, 28, 1) float32 array in [0, 1], as the model expects."""
    return to_mnist(grayscale(open_image(path)), path).reshape(28, 28, 1)


def read_digit_bytes(data, name="image"):
    """read_digit() for an image file's bytes (predict_web.py's request bodies)."""
    return to_mnist(grayscale(open_image_bytes(data, name)), name).reshape(28, 28, 1)
