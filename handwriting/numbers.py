"""Every digit in an image, in reading order: the ink's pieces grouped into digits.

    import handwriting
    gray = handwriting.grayscale(handwriting.open_image("number.jpg"))
    for c in handwriting.find_digits(gray):
        print(c.line, c.box)       # c.image: the 28x28 the model reads

The pipeline finds the ink and its pieces once for the whole image
(pipeline.py); then, in terms of the line's typical digit height:
specks and boxes round digits are dropped, a line written at a steep
angle is turned level (deskew), pieces of one digit join (group_pieces: a broken stroke, a 5's
flag, a 4 in two strokes, a 7's cross bar), the digits are put on lines
(lines_of), digits that touch are cut where the ink is thinnest
(split_touching), and each digit is fitted into 28x28 as a single digit is.
An image with one digit gives exactly what to_mnist gives.
"""
from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage, sparse

from handwriting import pipeline


@dataclass(frozen=True)
class NumberParams:
    """The tuning numbers of find_digits, as shares of the line's typical digit height unless said.

    Measured on ../shared/real_numbers (23 photos, scans and drawings) and the
    synthetic numbers of bench/number_sets.py, keeping every real digit in
    ../shared/real_digits one candidate.
    """
    # ink below this share of the most inked piece's is paper texture (pipeline's own choice for one digit)
    faint: float = 0.1
    # a piece whose longer side is under this is a speck or a dot (a 5's flag or a 1's base is 0.3-0.6)
    speck: float = 0.25
    # two pieces join when their column ranges overlap by this share of the narrower one's width
    # (a 4's two strokes overlap fully, neighbours in a slanted line 10-40%: scan_02, drawing_06) ...
    join_overlap: float = 0.5
    # ... and their rows overlap or are at most this share of the taller one apart (a broken 8's loops
    # touch; lines of digits are 0.4 or more apart in photo_11 and photo_12)
    join_gap: float = 0.25
    # ... unless both are at least this tall: two whole digits side by side (a 1 beside a 7)
    whole_digit: float = 0.8
    # two pieces that make one digit are at most this wide together (a 1 and a 7 side by side are about 0.9)
    part_width: float = 0.75
    # a piece less tall than this (a 5's flag, a 7's bar) joins the digit its columns overlap most, or
    # one at most flag_gap away from it (drawing_01's and photo_11's detached flags)
    flag: float = 0.4
    flag_gap: float = 0.15
    # two digits are on one line when their rows overlap, less this share of each one's height at the
    # top and bottom (photo_07's raised 3 still is; lines 0.2 apart in photo_11 are not)
    line_core: float = 0.15
    # a group wider than this is looked at for touching digits (one digit is at most about 1.75: drawing_05's 2)
    split_width: float = 1.0
    # a cut leaves ink this tall on both sides (a 2's tail or a 7's bar alone is not a digit) ...
    split_part: float = 0.6
    # ... through a column holding at most this many stroke widths of ink (a 0's side holds far more; a wide
    # 2's or 7's middle 2 or more) ...
    thin: float = 1.5
    # ... or at most this share of the most inked columns within `ridge` on either side of it
    valley: float = 0.3
    ridge: float = 0.3
    # a group whose strokes are wider than this share of its longer side is a blot or a shadow, not a digit
    # (a thick marker's 1 is about 0.2)
    blot: float = 0.4
    # a box's outline, filled, covers at least this share of its bounding box, as a rectangle does (1) and a circle
    # (0.79) or a drawing does not (not tuned: halfway; bench.real_sets, hw_v2: single digits in graph paper's
    # cells, tuning 158 -> 162 of 169; confirming numbers 48 -> 49 of 70; no other answer changed, a doodle's
    # camera and its lens among them)
    rectangle: float = 0.85
    # on a sheet on a desk, a piece with more than this share of its ink within 1/40 of the image of the
    # sheet's edge is the desk or a shadow seen past the edge (measured: digits up to 0.28, on photo_04's
    # narrow strip; the edges and shadows of bench/sheet_digits.py's photos 0.41 and more)
    sheet_edge: float = 0.35
    # on a sheet on a desk, the number is the pieces within this of one another, from the most inked one
    reach: float = 2.0
    # digits leaning more than this (degrees) on average are a turned sheet, turned level first
    # (photo_02 leans about 50; handwriting's own slant, MNIST's too, is mostly under 30)
    deskew: float = 35.0
    # at most this many pieces are grouped (the most inked), and this many candidates answered
    max_pieces: int = 300
    max_candidates: int = 64


NUMBER_PARAMS = NumberParams()


@dataclass(frozen=True, eq=False)
class Candidate:
    """One digit found in an image: its 28x28 MNIST-style image, its box in the image's pixels, its line."""
    image: np.ndarray   # (28, 28) float32 in [0, 1]
    box: tuple          # (left, top, right, bottom), right and bottom exclusive
    line: int           # 0-based, top to bottom


def find_digits(gray, params=NUMBER_PARAMS):
    """Every digit candidate in a grayscale image (float, [0, 1]), in reading order; [] when there is none."""
    found = pipeline.ink_pieces(gray)
    if found is None:
        return []
    image, labels = found.image, found.pieces

    def to_image(box):
        return found.frame.box_in_image(box[1], box[0], box[3], box[2])
    kept, boxes, typical, box_labels = number_pieces(found, off_the_sheet(found), params)
    if not len(kept):
        return []
    angle = lean(labels, kept, boxes)
    if abs(angle) > params.deskew:
        image, labels, to_image = turned(image, labels, to_image, angle)
        slices = ndimage.find_objects(labels)
        kept = np.array([k for k in kept if k <= len(slices) and slices[k - 1] is not None])
        boxes = piece_boxes(slices, kept)
    digits = reading_order(digit_groups(labels, kept, boxes, found.strong, typical, params), params)
    digits = digits[:params.max_candidates]
    if len(digits) == 1:  # one digit: exactly as to_mnist reads it (less a box round it)
        box = np.isin(found.pieces, box_labels)
        keep = pipeline.keep_the_strokes(found) & ~box
        digit = pipeline.fit_digit(*pipeline.crop_to_strokes(found.image * ~box, keep))
        return [Candidate(digit, to_image(digits[0][1]), 0)]
    masks = []
    for _, (top, left, bottom, right), mask in digits:
        masks.append(np.zeros(labels.shape, bool))
        masks[-1][top:bottom, left:right] = mask
    every = np.any(masks, axis=0)
    return [Candidate(pipeline.fit_digit(*pipeline.crop_to_strokes(image * ~(every & ~full), full)), to_image(box), n)
            for (n, box, _), full in zip(digits, masks)]


def piece_boxes(slices, kept):
    return np.array([[s[0].start, s[1].start, s[0].stop, s[1].stop] for s in (slices[k - 1] for k in kept)],
                    int).reshape(-1, 4)


def number_pieces(ink, off_sheet=None, params=NUMBER_PARAMS):
    """The pieces of an Ink that may be digits, most inked first: their labels, boxes, the typical digit
    height, and the labels of the pieces left out as boxes round others (off_sheet: where the desk or the
    sheet's edge is, on a sheet)."""
    strong = ink.strong
    kept = 1 + np.flatnonzero(strong >= params.faint * strong.max())
    kept = kept[np.argsort(-strong[kept - 1], kind="stable")][:params.max_pieces]
    boxes = piece_boxes(ndimage.find_objects(ink.pieces), kept)
    typical = typical_height(boxes, strong[kept - 1])
    big = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]) >= params.speck * typical
    kept, boxes = kept[big], boxes[big]
    is_box = enclosing(ink.pieces, kept, boxes, params)
    box_labels, kept, boxes = kept[is_box], kept[~is_box], boxes[~is_box]
    if off_sheet is not None:
        inside = np.array([off_sheet[top:bottom, left:right][ink.pieces[top:bottom, left:right] == k].mean()
                           <= params.sheet_edge for k, (top, left, bottom, right) in zip(kept, boxes)], bool)
        kept, boxes = kept[inside], boxes[inside]
        if len(kept):
            near = near_the_number(boxes, 0, params.reach * typical)  # kept[0] has the most ink
            kept, boxes = kept[near], boxes[near]
    return kept, boxes, typical, box_labels


def enclosing(labels, kept, boxes, params=NUMBER_PARAMS):
    """Which pieces are a box round others: a rectangle (a printed box, a graph paper's cell) holding another
    piece in a hole of its own. No digit is one: an 8's loops hold paper, and specks were dropped before."""
    out = np.zeros(len(kept), bool)
    for i, (piece, (top, left, bottom, right)) in enumerate(zip(kept, boxes)):
        inside = np.flatnonzero((boxes[:, 0] > top) & (boxes[:, 1] > left) & (boxes[:, 2] < bottom)
                                & (boxes[:, 3] < right))
        if not len(inside):
            continue
        mask = labels[top:bottom, left:right] == piece
        filled = ndimage.binary_fill_holes(mask)
        if filled.mean() < params.rectangle:
            continue
        holes = filled & ~mask
        out[i] = any(holes[t - top:b - top, lf - left:r - left][labels[t:b, lf:r] == kept[j]].mean() > 0.5
                     for j, (t, lf, b, r) in zip(inside, boxes[inside]))
    return out


def digit_groups(labels, kept, boxes, strong, typical, params=NUMBER_PARAMS):
    """The pieces grouped into digits, blots left out: [(box, mask)], box [top, left, bottom, right]."""
    def joined(groups):
        return np.array([[boxes[g, 0].min(), boxes[g, 1].min(), boxes[g, 2].max(), boxes[g, 3].max()]
                         for g in groups], int).reshape(-1, 4)
    groups = group_pieces(boxes, typical, params)
    # again with the typical height of the digits so joined (a broken 8's two loops are half a digit each)
    typical = typical_height(joined(groups), np.array([strong[kept[g] - 1].sum() for g in groups]))
    groups = group_pieces(boxes, typical, params)
    out = []
    for g, (top, left, bottom, right) in zip(groups, joined(groups)):
        mask = np.isin(labels[top:bottom, left:right], kept[g])
        if pipeline.stroke_width(mask) <= params.blot * max(bottom - top, right - left):
            out.append(((top, left, bottom, right), mask))
    return out


def reading_order(groups, params=NUMBER_PARAMS):
    """The digits line by line, left to right, touching digits cut apart: [(line, box, mask)]."""
    boxes = np.array([box for box, _ in groups], int).reshape(-1, 4)
    line = lines_of(boxes, params)
    digits = []  # (line, centre column, box, mask)
    for (top, left, _, _), mask, n in zip(boxes, (m for _, m in groups), line):
        height = np.median(boxes[line == n, 2] - boxes[line == n, 0])
        for start, stop in split_touching(mask, height, params):
            part = mask[:, start:stop]
            rows = np.flatnonzero(part.any(axis=1))
            if rows.size:
                box = (top + rows[0], left + start, top + rows[-1] + 1, left + stop)
                digits.append((n, left + (start + stop) / 2, box, part[rows[0]:rows[-1] + 1]))
    digits.sort(key=lambda d: d[:2])
    return [(n, box, mask) for n, _, box, mask in digits]


def typical_height(boxes, weights):
    """The line's typical digit height: the median piece height, weighted by ink (specks weigh little)."""
    heights = boxes[:, 2] - boxes[:, 0]
    order = np.argsort(heights)
    cumulative = np.cumsum(weights[order])
    return float(heights[order][np.searchsorted(cumulative, cumulative[-1] / 2)])


def lean(labels, kept, boxes):
    """How far the digits lean from upright, in degrees (positive: tops to the right): the median of the
    pieces' long axes (second moments), for pieces clearly longer than wide."""
    angles = []
    for k, (top, left, bottom, right) in zip(kept, boxes):
        ys, xs = np.nonzero(labels[top:bottom, left:right] == k)
        if ys.size < 3:
            continue
        cov = np.cov(np.stack([ys, xs]))
        values, vectors = np.linalg.eigh(cov)
        if values[1] < 2.25 * max(values[0], 1e-9):  # long axis under 1.5 times the short one
            continue
        dy, dx = vectors[:, 1]
        angles.append(np.degrees(np.arctan2(-dx, dy) if dy > 0 else np.arctan2(dx, -dy)))
    return float(np.median(angles)) if len(angles) >= 3 else 0.0  # one or two pieces: a digit, not a line


def turned(ink, labels, to_image, angle):
    """ink and labels turned by `angle` degrees so the digits stand upright, and to_image for the turned frame."""
    a = np.radians(angle)
    rotation = np.array([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]])  # (row, col) in the turned frame -> input
    h, w = ink.shape
    corners = np.array([[0, 0], [0, w], [h, 0], [h, w]], float) - [h / 2, w / 2]
    extent = np.abs(corners @ np.linalg.inv(rotation).T).max(axis=0)
    shape = tuple(int(np.ceil(2 * e)) for e in extent)
    offset = np.array([h / 2, w / 2]) - rotation @ (np.array(shape) / 2)
    ink = ndimage.affine_transform(ink, rotation, offset, output_shape=shape, order=1)
    labels = ndimage.affine_transform(labels, rotation, offset, output_shape=shape, order=0)

    def back(box):
        top, left, bottom, right = box
        corners = np.array([[top, left], [top, right], [bottom, left], [bottom, right]], float)
        points = corners @ rotation.T + offset
        (top, left), (bottom, right) = points.min(axis=0), points.max(axis=0)
        return to_image((int(np.floor(top)), int(np.floor(left)), int(np.ceil(bottom)), int(np.ceil(right))))
    return ink, labels, back


def group_pieces(boxes, typical, params=NUMBER_PARAMS):
    """Which pieces (boxes [top, left, bottom, right]) make one digit: a list of lists of piece indices.

    Two pieces join when their columns overlap (join_overlap of the narrower) and their rows overlap or
    nearly meet (join_gap), unless they are two whole digits side by side; a flag (a piece less tall than
    `flag`) joins the one piece it overlaps most, or that is at most flag_gap beside it; a part of a digit
    (less than whole_digit tall) joins a piece at most flag_gap beside it when the two are no wider than
    part_width (a 4's stem written apart from the rest).
    """
    top, left, bottom, right = boxes.T[:, :, None]
    h, w = bottom - top, right - left
    overlap = np.minimum(right, right.T) - np.maximum(left, left.T)
    rows = np.minimum(bottom, bottom.T) - np.maximum(top, top.T)  # row overlap; minus the gap when apart
    together = rows >= -params.join_gap * np.maximum(h, h.T)
    together &= ~((np.minimum(h, h.T) >= params.whole_digit * typical) & (rows >= 0.5 * np.minimum(h, h.T)))
    join = together & (overlap >= params.join_overlap * np.minimum(w, w.T))
    near = together & (overlap >= -params.flag_gap * typical) & (h[:, 0] < params.flag * typical)[:, None]
    part = (h[:, 0] < params.whole_digit * typical)[:, None] & (rows >= 0.5 * np.minimum(h, h.T))
    part &= (overlap >= -params.flag_gap * typical)
    part &= np.maximum(right, right.T) - np.minimum(left, left.T) <= params.part_width * typical
    near |= part
    np.fill_diagonal(near, False)
    for i in np.flatnonzero(near.any(axis=1)):
        j = np.flatnonzero(near[i])
        join[i, j[np.argmax(overlap[i, j])]] = True
    _, group = sparse.csgraph.connected_components(sparse.csr_matrix(join), directed=False)
    return [list(np.flatnonzero(group == g)) for g in range(group.max() + 1)]


def near_the_number(boxes, main, reach):
    """Which pieces are linked to piece `main` by a chain of pieces each at most `reach` from the last
    (on a sheet on a desk: the number's digits, not the sheet's edge or a shadow farther off)."""
    top, left, bottom, right = boxes.T[:, :, None]
    gap = np.maximum(np.maximum(left, left.T) - np.minimum(right, right.T),
                     np.maximum(top, top.T) - np.minimum(bottom, bottom.T))
    _, group = sparse.csgraph.connected_components(sparse.csr_matrix(gap <= reach), directed=False)
    return group == group[main]


def lines_of(boxes, params=NUMBER_PARAMS):
    """Each digit's line number, top to bottom: runs of overlapping row ranges, less line_core of each."""
    if not len(boxes):
        return np.zeros(0, int)
    h = boxes[:, 2] - boxes[:, 0]
    top, bottom = boxes[:, 0] + params.line_core * h, boxes[:, 2] - params.line_core * h
    line, current, end = np.zeros(len(boxes), int), -1, -np.inf
    for i in np.argsort(top, kind="stable"):
        if top[i] > end:
            current, end = current + 1, bottom[i]
        end = max(end, bottom[i])
        line[i] = current
    return line


def split_touching(mask, height, params=NUMBER_PARAMS):
    """Column ranges [(start, stop)] of the digits in one group's mask: a wide group is cut where its ink is
    thinnest (at most `thin` stroke widths in a column) and leaves ink split_part tall on both sides; a part
    still wide is cut again."""
    w = mask.shape[1]
    if w <= params.split_width * height:
        return [(0, w)]
    inked = mask.any(axis=0)
    top = np.where(inked, np.argmax(mask, axis=0), mask.shape[0])
    bottom = np.where(inked, mask.shape[0] - np.argmax(mask[::-1], axis=0), 0)
    left_height = np.maximum.accumulate(bottom) - np.minimum.accumulate(top)  # of columns [0, c]
    right_height = (np.maximum.accumulate(bottom[::-1]) - np.minimum.accumulate(top[::-1]))[::-1]  # of [c, w)
    profile = mask.sum(axis=0)
    cut = np.arange(1, w)
    ok = ((left_height[cut - 1] >= params.split_part * height) & (right_height[cut] >= params.split_part * height)
          & (profile[cut] <= params.thin * pipeline.stroke_width(mask)))
    if not ok.any():
        return [(0, w)]
    cut = cut[ok]
    cut = cut[profile[cut] == profile[cut].min()]
    c = int(cut[np.argmin(np.abs(cut - w / 2))])
    return (split_touching(mask[:, :c], height, params)
            + [(c + start, c + stop) for start, stop in split_touching(mask[:, c:], height, params)])


def off_the_sheet(ink):
    """For ink found on a sheet on a desk: where its image is off the sheet or within 1/40 of the image of
    its edge (the sheet as ink_pieces found it); else None."""
    if ink.sheet is None:
        return None
    sheet = ink.sheet
    rows, cols = np.nonzero(sheet)
    margin = ink.frame.margin
    shape = ink.image.shape[1] - 2 * margin, ink.image.shape[0] - 2 * margin
    sheet = np.asarray(Image.fromarray(sheet[rows.min():rows.max() + 1, cols.min():cols.max() + 1]).resize(
        shape, Image.NEAREST))
    return ndimage.binary_dilation(np.pad(~sheet, margin, constant_values=True), iterations=max(shape) // 40)
