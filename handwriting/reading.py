"""Read each image's digit candidates with a model, all in one batch: a number, a "?" for an unsure digit, or no digit.

    answers = handwriting.read_numbers(model, [handwriting.grayscale(handwriting.open_image(p)) for p in paths])
    answers[0]["number"]     # "2026", "20?6", "45 78", or "" for no digit

A candidate (handwriting.find_digits) is read as a digit when the model is
sure enough of it (its most likely digit at Decision.min_probability or more)
and its 28x28 ink has a digit's shape (no more loops than an 8, strokes no
wider than MNIST's); otherwise it is unsure, shown as "?". With a judge (a
model with P(not a digit)), a line whose every candidate it rejects is left
out. An image is "no digit" when it has no candidate, more than a number's
worth of them (a page of text, a texture cut into pieces), or when most of
its candidates are unsure. docs/own_images.md gives what this costs and
buys, measured, and what it does not tell apart (letters, scribbles).
"""
import dataclasses

import numpy as np
from scipy import ndimage

from handwriting.pipeline import stroke_width


@dataclasses.dataclass(frozen=True)
class Decision:
    """When a candidate is a digit, unsure ("?"), and when an image has no digit. Measured as each line says."""
    # The most likely digit's probability below which it is unsure. The recommended model reads every digit of
    # ../shared/real_digits at 0.44 or more (gimp2_7.png: 0.44) and rejects 1 of load_digits' 1,797 right ones at 0.4
    # (14 at 0.5, 205 at 0.8): a higher threshold turns more non-digits into "no digit" but costs real digits.
    min_probability: float = 0.4
    # Also unsure when an ensemble's members read different digits: off, as on it costs 106 of load_digits' 1,741
    # right and ../shared/real_digits' gimp2_7.png (members 7, 8, 8) for 21 more of bench/number_sets.py's 120
    # non-digits (python -m bench.numbers_accuracy prints this trade-off)
    members_agree: bool = False
    # Ink no digit has, in the 28x28 image's pixels over 0.5 (as MNIST's strokes are measured, pipeline.py):
    # more loops than an 8's two (MNIST's test set: 1 digit in 3,000 has 3) ...
    max_holes: int = 2
    # ... or strokes wider than this many pixels (MNIST's test set at most 4.7, load_digits at 112x112 5.4): a blob,
    # a dot (a tap on the web page's pad, scaled to 20 pixels like any digit), a sheet's shadow
    max_stroke_width: float = 6.0
    # An image is no digit when this share of its candidates or more are unsure (half: a scribble cut into
    # pieces reads "?11?", and a two-digit number with one unsure digit says little) ...
    no_digit_unsure_share: float = 0.5
    # ... or when it has more candidates than this (two lines of ten digits): a page of text, a texture
    max_candidates: int = 20
    # A model with an 11th output, P(not a digit) (train_final.py --handwriting), calls a candidate unsure at
    # this or more; train_final.py calibrates its judges so that this rejects 1 in 200 of the training digits
    # they never saw (JUDGES). Chosen with the 2026-12-01 model (python -m bench.numbers_accuracy): at 0.99,
    # 5 of load_digits' 1,797 digits are "?" and no real digit; at 0.9, 22 of load_digits for 5 more of the
    # 120 synthetic non-digits answered no digit; at 0.5, 81 for 12 more, and 3 real numbers fewer read exactly
    max_not_a_digit: float = 0.99


DECISION = Decision()


def predict(model, images, members=False):
    """The model's digit probabilities for a batch (n, 10), each member's (members, n, 10), and its
    P(not a digit) (n,) when it has that output (a --handwriting model), else None.

    Only when asked are an ensemble's members run one by one (the model itself is one call); otherwise, and for a
    single model, the model is its own only member.
    """
    from network.saved_model import digit_probabilities, not_a_digit_probability
    from network.saved_model import members as members_of

    outputs = np.asarray(model.predict_on_batch(images), np.float64)  # compiled: ms, not an eager call
    probabilities, not_a_digit = digit_probabilities(outputs), not_a_digit_probability(outputs)
    parts = members_of(model) if members else []
    if len(parts) < 2:
        return probabilities, probabilities[None], not_a_digit
    each = np.stack([digit_probabilities(np.asarray(member.predict_on_batch(images), np.float64)) for member in parts])
    return probabilities, each, not_a_digit


def holes(mask):
    """How many loops a binary image's ink closes: pieces of background (4-connected, over a pixel) but the outside."""
    background, _ = ndimage.label(~np.pad(mask, 1))
    return int((np.bincount(background.ravel())[1:] >= 2).sum()) - 1


def looks_like_a_digit(image, decision=DECISION):
    """Whether a candidate's 28x28 ink has a digit's shape: at most an 8's loops, strokes no wider than MNIST's."""
    ink = np.asarray(image).reshape(28, 28) > 0.5
    return holes(ink) <= decision.max_holes and stroke_width(ink) <= decision.max_stroke_width


def is_sure(probabilities, member_probabilities, not_a_digit=None, decision=DECISION):
    """Whether the model is sure of a candidate: its (10,) mean probabilities, (members, 10) members' and,
    when the model has one, its P(not a digit)."""
    digit = int(np.argmax(probabilities))
    if probabilities[digit] < decision.min_probability:
        return False
    if not_a_digit is not None and not_a_digit >= decision.max_not_a_digit:
        return False
    return not decision.members_agree or bool(np.all(member_probabilities.argmax(axis=1) == digit))


def digit_entry(candidate, probabilities, sure, not_a_digit=None, top_k=None):
    """One digit's answer: digit (None when unsure), probability, box, probabilities (and P(not a digit) when
    the model has it, top_k when asked)."""
    order = np.argsort(probabilities)[::-1]
    entry = {"digit": int(order[0]) if sure else None, "probability": round(float(probabilities[order[0]]), 6),
             "box": [int(v) for v in candidate.box], "probabilities": [round(float(p), 6) for p in probabilities]}
    if not_a_digit is not None:
        entry["not_a_digit"] = round(float(not_a_digit), 6)
    if top_k:
        entry["top_k"] = [{"digit": int(d), "probability": round(float(probabilities[d]), 6)} for d in order[:top_k]]
    return entry


def judged_lines(candidates, not_a_digit, decision=DECISION):
    """Indices of the candidates kept when each line whose every candidate the judge rejects is dropped (a
    desk's edge or a shadow cut into pieces beside the number); all of them when no line would be left."""
    lines = np.array([c.line for c in candidates])
    rejected = np.asarray(not_a_digit) >= decision.max_not_a_digit
    keep = np.flatnonzero([not rejected[lines == line].all() for line in lines])
    return keep if len(keep) else np.arange(len(candidates))


def answer(candidates, probabilities, member_probabilities, not_a_digit=None, top_k=None, decision=DECISION):
    """One image's answer from its candidates and their probabilities (n, 10), members' (members, n, 10) and
    P(not a digit) (n,) or None."""
    if not_a_digit is not None and len(candidates):
        keep = judged_lines(candidates, not_a_digit, decision)
        candidates, probabilities = [candidates[i] for i in keep], probabilities[keep]
        member_probabilities, not_a_digit = member_probabilities[:, keep], np.asarray(not_a_digit)[keep]
    not_a_digit = [None] * len(candidates) if not_a_digit is None else not_a_digit
    sure = [looks_like_a_digit(c.image, decision) and is_sure(p, members, q, decision)
            for c, p, members, q in zip(candidates, probabilities, member_probabilities.transpose(1, 0, 2),
                                        not_a_digit)]
    if (not candidates or len(candidates) > decision.max_candidates
            or sure.count(False) >= decision.no_digit_unsure_share * len(candidates)):
        return {"number": "", "digits": []}
    digits = [digit_entry(c, p, s, q, top_k) for c, p, s, q in zip(candidates, probabilities, sure, not_a_digit)]
    number = ""
    for i, (candidate, entry) in enumerate(zip(candidates, digits)):
        if i and candidate.line != candidates[i - 1].line:
            number += " "
        number += "?" if entry["digit"] is None else str(entry["digit"])
    result = {"number": number, "digits": digits}
    if len(digits) == 1:  # the keys of a single digit's answer, as before numbers were read
        result.update({key: digits[0][key] for key in ("digit", "probability", "top_k") if key in digits[0]})
    return result


def read_candidates(model, candidates_per_image, top_k=None, decision=DECISION):
    """read_numbers() for candidates already found: a list (one per image) of lists of Candidates."""
    return answers(candidates_per_image, *predict_candidates(model, candidates_per_image, decision.members_agree),
                   top_k=top_k, decision=decision)


def predict_candidates(model, candidates_per_image, members=False):
    """predict() for all the images' candidates in one batch, n all candidates: (n, 10), (members, n, 10) and
    (n,) or None."""
    flat = [c for candidates in candidates_per_image for c in candidates]
    if not flat:
        return np.zeros((0, 10)), np.zeros((1, 0, 10)), None
    return predict(model, np.stack([np.asarray(c.image, np.float32).reshape(28, 28, 1) for c in flat]), members)


def answers(candidates_per_image, probabilities, members, not_a_digit=None, top_k=None, decision=DECISION):
    """Each image's answer(), from predict_candidates()' outputs for all the images' candidates."""
    out, start = [], 0
    for candidates in candidates_per_image:
        end = start + len(candidates)
        out.append(answer(candidates, probabilities[start:end], members[:, start:end],
                          None if not_a_digit is None else not_a_digit[start:end], top_k, decision))
        start = end
    return out


def read_numbers(model, grays, top_k=None, candidates=None, decision=DECISION):
    """Each grayscale image (float in [0, 1]) -> its answer: {"number", "digits", ...} (the module's docstring).

    `candidates`: find_digits() of each image when the caller has it already (the web page shows them too).
    """
    if candidates is None:
        from handwriting.numbers import find_digits

        candidates = [find_digits(gray) for gray in grays]
    return read_candidates(model, candidates, top_k, decision)
