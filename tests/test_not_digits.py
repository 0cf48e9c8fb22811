"""handwriting/not_digits.py: the images train_final.py --handwriting's judge of "not a digit" learns from."""
import numpy as np
from scipy import ndimage

from handwriting import not_digits


def test_non_digits_are_fitted_as_a_candidate_is():
    images = not_digits.make(24, np.random.default_rng(0))
    assert images.shape == (24, 28, 28) and images.dtype == np.float32
    for image in images:
        assert image.min() >= 0 and image.max() == 1  # peak 1, as fit_digit makes a digit
        rows, cols = np.flatnonzero(image.any(axis=1)), np.flatnonzero(image.any(axis=0))
        assert max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 <= 20  # in MNIST's 20x20 box
        assert np.allclose(ndimage.center_of_mass(image), 13.5, atol=1.5)  # centred by mass


def test_each_kind_draws_ink_and_the_same_seed_draws_the_same():
    for kind in (not_digits.letter, not_digits.pen_letter, not_digits.word, not_digits.scribble, not_digits.squiggle,
                 not_digits.zigzag, not_digits.spiral, not_digits.hatching, not_digits.shape, not_digits.blob):
        ink = kind(np.random.default_rng(1))
        assert ink.shape == (not_digits.SIZE, not_digits.SIZE) and ink.max() > 0.5, kind.__name__
    def made(seed):
        return not_digits.make(8, np.random.default_rng(seed))

    np.testing.assert_array_equal(made(3), made(3))
    assert not np.array_equal(made(3), made(4))


def test_letters_leave_out_those_a_hand_makes_like_a_digit():
    assert not set(not_digits.LETTERS) & set("OoQDCGbeIlijJLTt1SsZzB&gqaPpyYuh?!$0123456789")
    assert not_digits.FONTS  # matplotlib's own fonts: there on every machine matplotlib is
    assert set(not_digits.PEN_LETTERS) <= set(not_digits.LETTERS)  # the pen writes the same letters
    for strokes in not_digits.PEN_LETTERS.values():
        assert all(0 <= x <= 1 and 0 <= y <= 1 for stroke in strokes for x, y in stroke)  # in the unit box


def test_training_set_holds_the_digits_half_redrawn_and_as_many_non_digits():
    digits = np.zeros((40, 28, 28), np.float32)
    digits[:, 8:20, 12:16] = 1  # forty 1s
    images, labels = not_digits.training_set(digits, np.random.default_rng(0))
    assert images.shape == (80, 28, 28, 1) and labels.shape == (80,)
    assert labels.sum() == 40  # half the set is not digits: 20 made and 20 of those turned or mirrored
    is_a_given_digit = [np.array_equal(image[..., 0], digits[0]) for image in images]
    assert sum(is_a_given_digit) == 20 and not labels[is_a_given_digit].any()  # the other 20 are redrawn


def test_cut_outs_are_what_the_reader_finds_in_scenes_but_no_sticks():
    images = not_digits.cut_outs(12, np.random.default_rng(0))
    assert images.shape == (12, 28, 28) and images.dtype == np.float32 and images.max() <= 1
    assert not any(not_digits.stick(image) for image in images)  # a 1 for all the judge could tell: left out
    np.testing.assert_array_equal(images, not_digits.cut_outs(12, np.random.default_rng(0)))
    one = np.zeros((28, 28), np.float32)
    one[4:24, 12:16] = 1
    assert not_digits.stick(one) and not not_digits.stick(np.rot90(one))
