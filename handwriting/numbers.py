"""Every digit in an image, in reading order: the ink's pieces grouped into digits.

    import handwriting
    gray = handwriting.grayscale(handwriting.open_image("number.jpg"))
    for c in handwriting.find_digits(gray):
        print(c.line, c.box)       # c.image: the 28x28 the model reads

The pipeline finds the ink and its pieces once for the whole image
(pipeline.py); then, in terms of the line's typical digit height:
specks are dropped, a line written at a steep angle is turned level
(deskew), pieces of one digit join (group_pieces: a broken stroke, a 5's
flag, a 4 in two strokes, a 7's cross bar), the digits are put on lines
(lines_of), digits that touch are cut where the ink is thinnest
(split_touching), and each digit is fitted into 28x28 as a single digit is.
An image with one digit gives exactly what to_mnist gives.
"""
import dataclasses
from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage, sparse

from handwriting import pipeline
from plumbing.cli import UserError


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
    join_gap: float = 0.15
    # ... unless both are at least this tall: two whole digits side by side (a 1 beside a 7)
    whole_digit: float = 0.8
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
    # ... through a column holding at most this many stroke widths of ink (a 0's side holds far more)
    thin: float = 1.5
    # a group whose strokes are wider than this share of its longer side is a blot or a shadow, not a digit
    # (a thick marker's 1 is about 0.2)
    blot: float = 0.4
    # a piece whose share of pixels over the high threshold is under this share of the sharpest piece's is a
    # shadow's soft edge (measured: digits of one number 0.66 and more of the sharpest, on photo_03's faint
    # pencil; shadows on bench/sheet_digits.py's sheets 0.47 and less)
    sharp: float = 0.55
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
    try:
        pieces = ink_pieces(gray)
    except UserError:
        return []
    ink, labels, to_image = pieces.ink, pieces.labels, pieces.to_image
    kept, boxes, typical = number_pieces(pieces, params)
    if not len(kept):
        return []
    angle = lean(labels, kept, boxes)
    if abs(angle) > params.deskew:
        ink, labels, to_image = turned(ink, labels, to_image, angle)
        slices = ndimage.find_objects(labels)
        kept = np.array([k for k in kept if k <= len(slices) and slices[k - 1] is not None])
        boxes = piece_boxes(slices, kept)
    digits = reading_order(digit_groups(labels, kept, boxes, pieces.strong, typical, params), params)
    digits = digits[:params.max_candidates]
    if len(digits) == 1:  # one digit: exactly as to_mnist reads it
        return [Candidate(pipeline_digit(pieces), to_image(digits[0][1]), 0)]
    every = np.zeros(labels.shape, bool)
    for _, (top, left, bottom, right), mask in digits:
        every[top:bottom, left:right] |= mask
    grow = max(1, round(max(pieces.ink.shape) / 50))
    return [Candidate(fit_digit(ink, box, mask, every, grow), to_image(box), n) for n, box, mask in digits]


def piece_boxes(slices, kept):
    return np.array([[s[0].start, s[1].start, s[0].stop, s[1].stop] for s in (slices[k - 1] for k in kept)],
                    int).reshape(-1, 4)


def number_pieces(pieces, params=NUMBER_PARAMS):
    """The pieces that may be digits, most inked first: their labels, boxes and the typical digit height."""
    strong = pieces.strong
    kept = 1 + np.flatnonzero(strong >= params.faint * strong.max())
    kept = kept[np.argsort(-strong[kept - 1], kind="stable")][:params.max_pieces]
    boxes = piece_boxes(ndimage.find_objects(pieces.labels), kept)
    typical = typical_height(boxes, strong[kept - 1])
    big = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]) >= params.speck * typical
    kept, boxes = kept[big], boxes[big]
    # a stroke's edges are sharp: most of its pixels are over the high threshold; a shadow's edge is a ramp
    sharpness = np.array([strong[k - 1] / (pieces.labels[t:b, left:r] == k).sum()
                          for k, (t, left, b, r) in zip(kept, boxes)])
    sharp = sharpness >= params.sharp * sharpness.max() if len(kept) else np.zeros(0, bool)
    kept, boxes = kept[sharp], boxes[sharp]
    if pieces.on_sheet:
        inside = np.array([pieces.off_sheet[top:bottom, left:right][pieces.labels[top:bottom, left:right] == k].mean()
                           <= params.sheet_edge for k, (top, left, bottom, right) in zip(kept, boxes)], bool)
        kept, boxes = kept[inside], boxes[inside]
        if len(kept):
            near = near_the_number(boxes, 0, params.reach * typical)  # kept[0] has the most ink
            kept, boxes = kept[near], boxes[near]
    return kept, boxes, typical


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
    `flag`) joins the one piece it overlaps most, or that is at most flag_gap beside it.
    """
    top, left, bottom, right = boxes.T[:, :, None]
    h, w = bottom - top, right - left
    overlap = np.minimum(right, right.T) - np.maximum(left, left.T)
    rows = np.minimum(bottom, bottom.T) - np.maximum(top, top.T)  # row overlap; minus the gap when apart
    together = rows >= -params.join_gap * np.maximum(h, h.T)
    together &= ~((np.minimum(h, h.T) >= params.whole_digit * typical) & (rows >= 0.5 * np.minimum(h, h.T)))
    join = together & (overlap >= params.join_overlap * np.minimum(w, w.T))
    near = together & (overlap >= -params.flag_gap * typical) & (h[:, 0] < params.flag * typical)[:, None]
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


# ---------------------------------------------------------------------------------------------------------
# Until pipeline.py's steps are functions of their own, their code (caa491e's digit_from_paper) is repeated
# here, unchanged, in ink_pieces / pieces_from_paper / pipeline_digit / fit_digit.

@dataclass(frozen=True, eq=False)
class Pieces:
    ink: np.ndarray      # the ink at work size, in [0, 1]
    labels: np.ndarray   # its labelled pieces (hysteresis low threshold, 8-connected)
    strong: np.ndarray   # each piece's count of pixels over the high threshold
    on_sheet: bool       # found on a sheet lying on a desk
    off_sheet: object    # on a sheet: where the ink is off it or near its edge (bool array), else None
    to_image: object     # (top, left, bottom, right) at work size -> (left, top, right, bottom) in the image


def ink_pieces(gray):
    """to_mnist's ink steps, up to the labelled pieces (raises UserError for no ink)."""
    p = pipeline
    sheet = p.find_sheet(p.at_work_size(gray, p.SHEET_SEARCH_SIZE)) if max(gray.shape) >= p.MIN_PHOTO_SIZE else None
    if sheet is not None:
        rows, cols = np.nonzero(sheet)
        fy, fx = gray.shape[0] / sheet.shape[0], gray.shape[1] / sheet.shape[1]
        top, left = int(rows.min() * fy), int(cols.min() * fx)
        height, width = int(np.ceil((rows.max() + 1) * fy)) - top, int(np.ceil((cols.max() + 1) * fx)) - left
        try:
            work = p.paper_only(gray, sheet)
            pieces = pieces_from_paper(work, gray.shape, (top, left), (height, width), on_sheet=True, photo=True)
            sheet = sheet[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
            sheet = np.asarray(Image.fromarray(sheet).resize(work.shape[::-1], Image.NEAREST))
            pad = (pieces.ink.shape[0] - work.shape[0]) // 2
            edge = ndimage.binary_dilation(np.pad(~sheet, pad, constant_values=True), iterations=max(work.shape) // 40)
            return dataclasses.replace(pieces, off_sheet=edge)
        except UserError:
            if sheet.mean() >= p.BLANK_SHEET_AREA:
                raise
    photo = max(gray.shape) >= p.MIN_PHOTO_SIZE
    return pieces_from_paper(p.at_work_size(gray), gray.shape, (0, 0), gray.shape, photo=photo)


def pieces_from_paper(gray, image_shape, origin, extent, on_sheet=False, photo=False):
    p = pipeline
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    ink = 1.0 - gray if np.median(border) > 0.5 else gray.copy()
    if photo:
        ink = p.flatten_shading(ink)
    paper = np.median(np.concatenate([ink[0], ink[-1], ink[:, 0], ink[:, -1]]))
    pad = max(ink.shape) // 8
    scale = gray.shape[0] / extent[0], gray.shape[1] / extent[1]
    ink = np.pad(ink, pad, constant_values=paper)
    window, ceiling = (max(ink.shape) // 8, np.inf) if on_sheet else (max(ink.shape) // 3, paper)
    ink -= np.minimum(ndimage.grey_opening(ink, size=max(3, window)), ceiling)
    ink = p.remove_ruled_lines(ink, 0.4 if on_sheet else 0.6)
    if photo:
        ink = ndimage.gaussian_filter(ink, max(ink.shape) / 450)
    peak = ndimage.gaussian_filter(ink, 0.7).max()
    if peak < p.MIN_CONTRAST:
        raise UserError("no digit found (blank image)")
    grain = 1.4826 * np.median(np.abs(ink - np.median(ink))) / peak
    ink = np.clip(ink / peak, 0, 1)
    low, high = (max(0.25, 3 * grain), max(0.5, 5 * grain)) if on_sheet else (0.25, 0.5)
    labels, n = ndimage.label(ink > low, structure=np.ones((3, 3)))
    strong = ndimage.sum_labels(ink > high, labels, index=np.arange(1, n + 1))
    if not strong.any():
        raise UserError("no digit found (blank image)")

    def to_image(box):
        (top, bottom), (left, right) = (np.clip(np.round((np.asarray(box[i::2]) - pad) / scale[i] + origin[i]), 0,
                                                image_shape[i]).astype(int) for i in (0, 1))
        return int(left), int(top), int(right), int(bottom)
    return Pieces(ink, labels, strong, on_sheet, None, to_image)


def pipeline_digit(pieces):
    """digit_from_paper's choice of the digit's pieces and its fitting: to_mnist's 28x28 for one digit."""
    labels, strong = pieces.labels, pieces.strong
    kept = 1 + np.flatnonzero(strong >= 0.1 * strong.max())
    if pieces.on_sheet:
        kept = kept[pipeline.near_the_main_piece(labels, kept, 1 + np.argmax(strong))]
    keep = np.isin(labels, kept)
    return fit_digit(pieces.ink, (0, 0) + keep.shape, keep, keep, max(1, round(max(keep.shape) / 50)))


def fit_digit(ink, box, keep, every, grow):
    """One digit's ink (its mask `keep` at `box` in the ink, widened by `grow`, without other digits' strokes
    in `every`) cropped, thickened to MNIST's strokes, fitted into 20x20 and centred by mass in 28x28."""
    top, left, bottom, right = box
    region = slice(max(0, top - grow), bottom + grow), slice(max(0, left - grow), right + grow)
    mask = np.zeros(ink[region].shape, bool)
    mask[top - region[0].start:bottom - region[0].start, left - region[1].start:right - region[1].start] = keep
    others = every[region] & ~mask
    ink = ink[region] * (ndimage.binary_dilation(mask, iterations=grow) & ~others)
    ink = np.clip((ink - 0.15) / 0.85, 0, 1)
    ys, xs = np.nonzero(mask)
    ink, keep = ink[ys.min():ys.max() + 1, xs.min():xs.max() + 1], mask[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    long_side = max(ink.shape)
    target, width = pipeline.MNIST_STROKE_RATIO * long_side, pipeline.stroke_width(keep)
    if width < 0.7 * target:
        radius = (target - width) / 2
        r = int(np.ceil(radius))
        yy, xx = np.mgrid[-r:r + 1, -r:r + 1]
        ink = ndimage.grey_dilation(ink, footprint=yy ** 2 + xx ** 2 <= radius ** 2 + 0.5)
    bh, bw = ink.shape
    size = (max(1, round(bw * 20 / long_side)), max(1, round(bh * 20 / long_side)))
    box = np.asarray(Image.fromarray(ink.astype(np.float32), "F").resize(size, Image.LANCZOS), np.float64)
    box = np.clip(box / max(box.max(), 1e-6), 0, 1)
    cy, cx = ndimage.center_of_mass(box)
    top = int(np.clip(round(13.5 - cy), 0, 28 - box.shape[0]))
    left = int(np.clip(round(13.5 - cx), 0, 28 - box.shape[1]))
    digit = np.zeros((28, 28), np.float32)
    digit[top:top + box.shape[0], left:left + box.shape[1]] = box
    return digit
