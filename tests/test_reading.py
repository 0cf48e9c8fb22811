"""handwriting.reading: the decision (digit, "?" or no digit) on synthetic probabilities, the JSON answer, one batch."""
import collections
import dataclasses
import hashlib
import os

import numpy as np
import pytest

from handwriting import reading
from network import saved_model

# find_digits' Candidate, as far as reading uses it
Candidate = collections.namedtuple("Candidate", "image box line")


def sure(digit, p=0.98):
    """Ten probabilities: `digit` at p, the rest shared out."""
    out = np.full(10, (1 - p) / 9)
    out[digit] = p
    return out


FLAT = np.full(10, 0.1)


class StubModel:
    """A model that answers each 28x28 image with the probabilities its first pixel indexes, and counts its calls."""

    def __init__(self, table):
        self.table, self.calls, self.batch_sizes = np.asarray(table, np.float32), 0, []

    def predict_on_batch(self, images):
        self.calls += 1
        self.batch_sizes.append(len(images))
        return self.table[np.asarray(images)[:, 0, 0, 0].round().astype(int)]


def candidate(index, line=0, left=0):
    image = np.zeros((28, 28), np.float32)
    image[0, 0] = index  # which row of the stub's table it answers
    return Candidate(image, (left, 0, left + 10, 20), line)


def answer_for(rows, lines=None, members=None, top_k=None):
    """reading.answer() for candidates whose mean probabilities are `rows` (members: (m, n, 10), default one)."""
    rows = np.asarray(rows, np.float64)
    lines = lines or [0] * len(rows)
    candidates = [candidate(i, line, 20 * i) for i, line in enumerate(lines)]
    return reading.answer(candidates, rows, rows[None] if members is None else np.asarray(members), top_k=top_k)


def test_a_confident_digit_is_read_and_keeps_the_single_digit_keys():
    result = answer_for([sure(7, 0.99)], top_k=3)
    assert result["number"] == "7"
    assert result["digit"] == 7 and result["probability"] == pytest.approx(0.99)
    assert [t["digit"] for t in result["top_k"]][0] == 7 and len(result["top_k"]) == 3
    (entry,) = result["digits"]
    assert set(entry) == {"digit", "probability", "box", "probabilities", "top_k"}
    assert entry["box"] == [0, 0, 10, 20] and len(entry["probabilities"]) == 10


def test_an_unsure_digit_is_a_question_mark_in_a_number():
    result = answer_for([sure(2), sure(0), FLAT, sure(6)])
    assert result["number"] == "20?6"
    assert [d["digit"] for d in result["digits"]] == [2, 0, None, 6]
    assert result["digits"][2]["probability"] == pytest.approx(0.1)
    assert "digit" not in result and "probability" not in result  # four digits: no single-digit keys


def test_a_single_flat_candidate_is_no_digit():
    assert answer_for([FLAT]) == {"number": "", "digits": []}


def test_mostly_unsure_candidates_are_no_digit():
    assert answer_for([FLAT, FLAT, sure(3)])["number"] == ""
    assert answer_for([FLAT, sure(1), sure(1), FLAT])["number"] == ""  # half: a scribble cut into pieces
    assert answer_for([FLAT, sure(1), sure(1)])["number"] == "?11"


def test_no_candidates_is_no_digit():
    assert answer_for(np.zeros((0, 10))) == {"number": "", "digits": []}


def test_members_that_disagree_make_a_digit_unsure_when_asked():
    members = [[sure(4), sure(1)], [sure(4), sure(1)], [sure(4, 0.6), sure(7, 0.6)]]
    mean = np.mean(members, axis=0)
    agreeing = dataclasses.replace(reading.DECISION, members_agree=True)
    assert reading.is_sure(mean[0], np.asarray(members)[:, 0], decision=agreeing)
    assert not reading.is_sure(mean[1], np.asarray(members)[:, 1], decision=agreeing)
    assert reading.is_sure(mean[1], np.asarray(members)[:, 1])  # by default the mean alone decides


def test_lines_are_joined_with_one_space():
    assert answer_for([sure(4), sure(5), sure(7), sure(8)], lines=[0, 0, 1, 1])["number"] == "45 78"


def test_all_candidates_of_all_images_go_to_the_model_in_one_batch():
    model = StubModel([sure(1), sure(5), FLAT])
    answers = reading.read_numbers(model, [None, None, None],
                                   candidates=[[candidate(0), candidate(1, left=20)], [], [candidate(1)]])
    assert model.calls == 1 and model.batch_sizes == [3]
    assert [a["number"] for a in answers] == ["15", "", "5"]
    assert answers[2]["digit"] == 5 and "digit" not in answers[0]


def test_number_sets_are_seeded(tmp_path):
    from bench import number_sets

    def digest(folder):
        return {name: hashlib.sha256(open(os.path.join(folder, name), "rb").read()).hexdigest()
                for name in sorted(os.listdir(folder))}

    first = number_sets.write_sets(str(tmp_path / "a"), numbers=3, non_digits=2, seed=3)
    second = number_sets.write_sets(str(tmp_path / "b"), numbers=3, non_digits=2, seed=3)
    assert [len(digest(folder)) for folder in first] == [4, 3]  # 3 numbers, 2 non-digits, and labels.csv
    assert [digest(folder) for folder in first] == [digest(folder) for folder in second]
    other = number_sets.write_sets(str(tmp_path / "c"), numbers=3, non_digits=2, seed=4)
    assert digest(first[0]) != digest(other[0])
    with open(os.path.join(first[0], "labels.csv")) as f:
        header, *rows = f.read().splitlines()
    assert header == "file,label,kind" and len(rows) == 3
    assert all(row.split(",")[1].replace(" ", "").isdigit() for row in rows)


def test_other_photos_are_whole_cropped_and_faces_and_seeded():
    from bench import number_sets

    photos = number_sets.other_photos(np.random.default_rng(0))
    kinds = [kind.split(":")[0] for _, kind in photos]
    whole = len(number_sets.OTHER_PHOTOS)
    assert kinds == ["whole"] * whole + ["crop"] * 2 * whole + ["face"] * number_sets.FACES
    for (img, _), (crop, _) in zip(photos[:whole], photos[whole:3 * whole:2]):
        assert img.width / 3 - 1 <= crop.width <= img.width * 2 / 3 and img.height / 3 - 1 <= crop.height
    # every photo shows something: the phantom (floats in [0, 1]) and the blobs (a mask) are not all black
    assert all(np.ptp(np.asarray(img.convert("L"))) > 80 for img, _ in photos[:whole])
    again = number_sets.other_photos(np.random.default_rng(0))
    assert [img.size for img, _ in again] == [img.size for img, _ in photos]
    other_seed = number_sets.other_photos(np.random.default_rng(1))
    assert [img.size for img, _ in other_seed] != [img.size for img, _ in photos]


def ring(image, centre, radius, width=1.5):
    yy, xx = np.mgrid[:28, :28]
    distance = np.hypot(yy - centre[0], xx - centre[1])
    image[np.abs(distance - radius) <= width / 2] = 1.0
    return image


def test_an_eight_has_a_digits_shape_and_three_loops_do_not():
    eight = ring(ring(np.zeros((28, 28), np.float32), (9, 14), 4), (19, 14), 5)
    assert reading.holes(eight > 0.5) == 2 and reading.looks_like_a_digit(eight)
    three_loops = ring(eight.copy(), (14, 5), 3)
    assert reading.holes(three_loops > 0.5) == 3 and not reading.looks_like_a_digit(three_loops)


def test_a_blob_is_not_a_digit_whatever_the_model_says():
    blob = np.zeros((28, 28), np.float32)
    blob[4:24, 6:22] = 1.0  # strokes 16 pixels wide
    assert not reading.looks_like_a_digit(blob)
    candidates = [Candidate(blob, (0, 0, 16, 20), 0)]
    assert reading.answer(candidates, np.asarray([sure(0, 0.999)]), np.asarray([[sure(0, 0.999)]])) == {
        "number": "", "digits": []}


def test_read_numbers_finds_the_candidates_itself():
    gray = np.ones((120, 200))
    gray[30:90, 50:58] = gray[30:90, 140:148] = 0.0  # two strokes, two 1s side by side
    model = StubModel([sure(1)])
    (result,) = reading.read_numbers(model, [gray])
    assert result["number"] == "11" and model.calls == 1 and model.batch_sizes == [2]
    assert [d["box"][0] < 100 for d in result["digits"]] == [True, False]  # left to right


def test_an_ensembles_members_are_run_only_when_asked():
    import keras

    def member(name, seed):
        inputs = keras.Input((28, 28, 1))
        dense = keras.layers.Dense(10, activation="softmax",
                                   kernel_initializer=keras.initializers.RandomNormal(stddev=0.1, seed=seed))
        return keras.Model(inputs, dense(keras.layers.Flatten()(inputs)), name=name)

    members = [member("member_0", 1), member("member_1", 2)]
    inputs = keras.Input((28, 28, 1))
    ensemble = keras.Model(inputs, keras.layers.Average()([m(inputs) for m in members]))  # as bench/flag_ones.py
    images = np.random.default_rng(0).uniform(0, 1, (3, 28, 28, 1)).astype(np.float32)
    mean, each, not_a_digit = reading.predict(ensemble, images, members=True)
    assert each.shape == (2, 3, 10) and not_a_digit is None
    np.testing.assert_allclose(each[1], np.asarray(members[1](images)), rtol=1e-5)
    alone, only, _ = reading.predict(ensemble, images)
    assert only.shape == (1, 3, 10)
    np.testing.assert_allclose(mean, alone, rtol=1e-5)


def test_the_not_a_digit_output_is_read_apart_from_the_digits_and_makes_a_candidate_unsure():
    import keras

    def tiny(name, units, activation, seed):
        inputs = keras.Input((28, 28, 1))
        dense = keras.layers.Dense(units, activation=activation,
                                   kernel_initializer=keras.initializers.RandomNormal(stddev=0.1, seed=seed))
        return keras.Model(inputs, dense(keras.layers.Flatten()(inputs)), name=name)

    digits, judge = [tiny("a", 10, "softmax", 1), tiny("b", 10, "softmax", 2)], tiny("c", 1, "sigmoid", 3)
    model = saved_model.average(digits, [judge])
    assert [m.name for m in saved_model.members(model)] == ["member_0", "member_1"]  # not the judge
    images = np.random.default_rng(0).uniform(0, 1, (3, 28, 28, 1)).astype(np.float32)
    mean, each, not_a_digit = reading.predict(model, images, members=True)
    assert mean.shape == (3, 10) and each.shape == (2, 3, 10)
    np.testing.assert_allclose(mean.sum(axis=1), 1, rtol=1e-5)
    np.testing.assert_allclose(not_a_digit, np.asarray(judge(images))[:, 0], rtol=1e-5)
    rows = np.asarray([sure(3, 0.99), sure(5, 0.99)])
    candidates = [candidate(0, 0, 0), candidate(1, 0, 20)]
    rows, candidates = np.concatenate([rows, [sure(4, 0.99)]]), candidates + [candidate(2, 0, 40)]
    judged = reading.answer(candidates, rows, rows[None], np.asarray([0.1, 0.995, 0.98]))
    assert judged["number"] == "3?4" and judged["digits"][1]["digit"] is None  # at Decision.max_not_a_digit
    assert [d["not_a_digit"] for d in judged["digits"]] == [0.1, 0.995, 0.98]
    assert reading.answer(candidates[1:2], rows[1:2], rows[None, 1:2], np.asarray([0.995]))["number"] == ""


def test_a_line_the_judge_rejects_whole_is_left_out_and_one_rejected_digit_is_not():
    """A desk's edge cut into pieces above the number (every candidate of its line rejected by the judge) is no
    line of the number; a line with one rejected candidate keeps it as "?"; an image all rejected is no digit."""
    rows = np.asarray([sure(1), sure(7), sure(9), sure(4), sure(2)])
    candidates = [candidate(i, line, 20 * i) for i, line in enumerate([0, 0, 0, 1, 1])]
    judged = reading.answer(candidates, rows, rows[None], np.asarray([1.0, 0.999, 0.995, 0.01, 0.02]))
    assert judged["number"] == "42" and [d["digit"] for d in judged["digits"]] == [4, 2]
    one_rejected = reading.answer(candidates, rows, rows[None], np.asarray([1.0, 0.5, 0.995, 0.01, 0.02]))
    assert one_rejected["number"] == "?7? 42"
    all_rejected = reading.answer(candidates, rows, rows[None], np.full(5, 0.999))
    assert all_rejected["number"] == ""
