"""A grayscale image of a handwritten digit -> a 28x28 image that looks like an MNIST digit.

MNIST's digits are white ink on black, their longest side fitted into 20x20 pixels and
centred by mass in 28x28. to_mnist() makes any image look like one, in the steps that
docs/own_images.md describes, each a function below, in this order:

    find_sheet           in a photo, the sheet of paper lying on a darker desk; paper_only: the sheet alone
    at_work_size         photos reduced, small drawings enlarged
    flatten_the_light    ink light on dark; the light's fall-off, the paper's shade and shadows taken away
    remove_ruled_lines   the lines of ruled or squared paper
    find_the_ink         the pieces of ink that stand out of the paper and its grain
    keep_the_strokes     the digit's pieces among them; crop_to_strokes: cropped to them, the halo dropped
    thicken              strokes much thinner than MNIST's made as thick
    fit_into_20x20       the longest side into 20 pixels
    centre_by_mass       into 28x28, the centre of mass at the centre

What kind of image it is (a drawing, a photo, a sheet found on a desk) is decided once, in
ink_pieces(), and selects that kind's parameters (a Kind); every tuning number is a field of
Params. ink_pieces() runs the steps up to find_the_ink, fit_digit() the last three.
"""
import dataclasses
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from PIL import Image
from scipy import ndimage, stats
from skimage import draw, filters, measure, morphology, transform

from plumbing.cli import UserError

MNIST_SIZE, MNIST_BOX = 28, 20  # MNIST's format: digits fitted into 20x20, centred by mass in 28x28


class NoDigit(UserError):
    """No digit in the image (a blank page, a blank sheet): reported as "no digit found", not guessed."""


@dataclass(frozen=True)
class Kind:
    """How one kind of image is cleaned: what differs between a drawing, a photo and a sheet on a desk."""
    name: str
    # fit the light's fall-off across the image (a quadratic surface) and take it away
    flatten_falloff: bool
    # width of the grey opening that estimates the paper's shade, as a share of the (padded) image's long side
    shade_window: Fraction
    # the shade estimate is never above the paper seen on the border (so a thick stroke is not taken for shade)
    shade_below_paper: bool
    # the shortest ruled line, as a share of the image's shorter side
    ruled_line_length: float
    # sigma of the Gaussian that averages pencil grain, as a share of the long side (0: none)
    grain_blur: Fraction
    # the hysteresis thresholds are raised to at least these multiples of the paper's grain ((0, 0): never)
    above_grain: tuple
    # keep only the pieces near the main stroke (what lies far from it is shadow or dirt)
    near_main_stroke: bool


@dataclass(frozen=True)
class Params:
    """Every tuning number of the pipeline; PARAMS below is the one used. "real_digits" is
    ../shared/real_digits (33 phone photos and drawings), "the sheet set" bench/sheet_digits.py's
    seed-0 set of 500, "by eye" means tried by hand on those and the tests' drawings, not searched."""
    # Long side at work: photos reduced to 300 (fast), small drawings enlarged to 112 (so strokes can be
    # thickened by fractions of a 28x28 pixel); set by eye on real_digits.
    work_size: tuple = (112, 300)
    # Ink less than this share of full scale from the paper is no digit (blank images; set by eye).
    min_contrast: float = 0.08
    # The ink is the tail of the histogram farther from the paper, once the light's slow changes are blurred
    # away (sigma this share of the long side): dark ink when this low percentile lies farther below than the
    # mirrored high one lies above. (Was: the border's median over half of full scale is light paper; grey
    # paper in a vignetted photo read as light ink then.) bench.real_sets, three members of the recommended
    # model: single digits 0.05 read real_digits' thick white-on-black paint drawings as dark ink; 0.1 and 0.25
    # read alike (tuning 161 of 169, confirming 70 of 72); 0.25 leaves thick drawings the larger margin.
    ink_tail: float = 0.5
    ink_tail_blur: float = 0.25
    # A margin of paper round the work image, a share of its long side, so a stroke touching the image's
    # edge is a stroke like any other (not doubled by the filters' reflection); set by eye.
    margin: Fraction = Fraction(1, 8)
    # The narrowest grey opening (pixels): an opening of 1 or 2 would take away strokes of 1 or 2 pixels.
    min_shade_window: int = 3

    # -- find the sheet
    # Images under this long side are drawings or crops of one digit, never searched for a sheet (set by eye:
    # the web page's 280-pixel pad is searched, MNIST's 28 is not).
    min_photo_size: int = 200
    # Sizes the sheet is searched at: its outline needs no more (it was searched at the 300-pixel work size
    # until 128 was chosen, for speed; set by eye).
    sheet_search_size: tuple = (64, 128)
    # Gaussian sigma (search pixels) before Otsu's threshold, so paper grain does not break the sheet up; set by eye.
    sheet_smoothing: float = 1
    # Radius of the opening that cuts a pen or a mug touching the sheet at its narrow neck, a share of the
    # long side; set by eye on the sheet set's cluttered desks.
    sheet_neck: Fraction = Fraction(1, 50)
    # The sheet covers this share of the image: under 5% it is not told from clutter (docs/own_images.md's
    # limit), over 97% the photo is all paper (a close-up, read as a whole).
    sheet_area: tuple = (0.05, 0.97)
    # Mostly light inside (the ink is a small part of a sheet; a shadow may be larger), mostly dark outside;
    # set by eye on the sheet set.
    sheet_light_inside: float = 0.8
    sheet_light_outside: float = 0.4
    # A surround with a median absolute deviation under this is a drawing's flat black, not a desk in a
    # photo (a photo's desk has grain and noise); set by eye.
    flat_surround: float = 0.001
    # Width (a share of the long side, at least 2 pixels) of the bands just inside and outside the sheet's
    # edge that are compared, and (twice it) of the edge trimmed off the sheet.
    sheet_edge_width: Fraction = Fraction(1, 100)
    # Paper at least this much lighter than the desk just outside it: a sheet's sharp edge, not a shadow's
    # soft one; set by eye on the sheet set and the tests' soft shadows.
    sheet_edge: float = 0.06
    # Darker than this percentile of the desk, at the sheet's edge, is a bay of desk (beside a mug); set by eye.
    desk_percentile: float = 75
    # A sheet at least this share of the photo with no ink on it is a blank sheet; a smaller light region
    # with nothing on it is a light digit on a dark ground (MNIST's polarity); set by eye.
    blank_sheet_area: float = 0.2
    # Off the sheet goes the paper's shade nearby: a blur of the sheet's pixels, sigma this share of the long
    # side; where the blurred mask is under paper_far (far from the sheet), the sheet's median; set by eye.
    paper_blur: Fraction = Fraction(1, 10)
    paper_far: float = 1e-3

    # -- flatten the light
    # The light's fall-off is fitted to the pixels under this quantile of the ink: the digit is a small
    # part of a sheet, the rest is paper; set by eye.
    paper_quantile: float = 0.8

    # -- remove ruled lines
    # Candidate line pixels: over this share of the brightest ink, and thin (not kept by an opening of
    # ruled_opening iterations: printed lines are thin, the digit's strokes may not be); set by eye.
    ruled_ink: float = 0.25
    ruled_opening: int = 2
    # skimage's probabilistic Hough transform: votes, and the gap (a share of the long side) a line may jump
    # (1/30 until ruled lines were joined across wider gaps); both set by eye on the sheet set.
    hough_threshold: int = 10
    ruled_gap: Fraction = Fraction(1, 15)
    # A ruled line is inked along at least this share of its Hough segment (within a pixel): segments the
    # transform joined across paper grain or a row of digits are not (half: not tuned; python -m bench.real_sets,
    # model hw_v2: numbers read exactly, tuning 46 -> 47 of 64, confirming 42 -> 46 of 70)
    ruled_inked: float = 0.5
    # At least this many parallel lines (within ruled_angle degrees) are ruling, not a digit's strokes; set by eye.
    min_ruled_lines: int = 3
    ruled_angle: float = 4
    # Half the width of a ruled line, a share of the long side (at least 1 pixel); set by eye on the sheet set.
    ruled_half_width: Fraction = Fraction(1, 150)

    # -- find the ink
    # Gaussian sigma (pixels) before taking the ink's peak, so one bright pixel of noise is not the peak; set by eye.
    peak_smoothing: float = 0.7
    # Hysteresis, as in edge detection: connected pieces (8-neighbours) over `low` of the peak that hold
    # pixels over `high`; a quarter and a half of the darkest ink, set by eye on real_digits.
    low: float = 0.25
    high: float = 0.5

    # -- keep the digit's strokes
    # Pieces with at least this share of the strongest piece's pixels over `high`: the rest is texture; set by eye.
    strong_share: float = 0.1
    # Near the main piece: touching its bounding box widened by this share of its longer side; set by eye on the
    # sheet set.
    near_main: Fraction = Fraction(1, 2)
    # The kept ink reaches this share of the long side (at least 1 pixel) round the kept pieces, and loses
    # the faint halo of texture under `halo` of the peak; set by eye.
    halo_reach: Fraction = Fraction(1, 50)
    halo: float = 0.15

    # -- thicken
    # MNIST strokes are about a tenth of the digit's longest side (median 0.097 over 2,000 training digits,
    # with stroke_width on pixels over 0.5); much thinner strokes (pen on paper, 1-pixel drawings), under
    # thicken_below of it (set by eye), are thickened to it.
    mnist_stroke_ratio: float = 0.10
    thicken_below: float = 0.7

    # -- the kinds of image, each chosen once per image by ink_pieces()
    # A drawing (under min_photo_size) has even light and no grain; the wide opening spares its strokes.
    drawing: Kind = Kind("drawing", flatten_falloff=False, shade_window=Fraction(1, 3), shade_below_paper=True,
                         ruled_line_length=0.6, grain_blur=Fraction(0), above_grain=(0, 0), near_main_stroke=False)
    # A photo with no sheet found (a close-up that is all paper): its light falls off across it (the tests'
    # uneven light); pencil grain is averaged over under a pixel of 28x28 (1/450, not 1/300, so a pen's 7
    # stays as sharp; the pencil rows of docs/own_images.md measure the change).
    photo: Kind = Kind("photo", flatten_falloff=True, shade_window=Fraction(1, 3), shade_below_paper=True,
                       ruled_line_length=0.6, grain_blur=Fraction(1, 450), above_grain=(0, 0), near_main_stroke=False)
    # A sheet found on a desk: the digit is a fraction of it, so a narrower opening still spares its strokes
    # and takes smaller shadows (darker than the border too); shorter ruled lines; thresholds over 3x and 5x
    # the paper's grain; set by eye on the sheet set.
    sheet: Kind = Kind("sheet", flatten_falloff=True, shade_window=Fraction(1, 8), shade_below_paper=False,
                       ruled_line_length=0.4, grain_blur=Fraction(1, 450), above_grain=(3, 5), near_main_stroke=True)


PARAMS = Params()


@dataclass(frozen=True)
class Frame:
    """Where a work-size image lies in the image as given: its pixel (x, y) is there at
    (left + (x - margin) / scale_x, top + (y - margin) / scale_y)."""
    left: int
    top: int
    scale_x: float  # work-size pixels per pixel of the image as given
    scale_y: float
    margin: int  # pixels of paper added round the work-size image
    image_shape: tuple  # (height, width) of the image as given

    def box_in_image(self, left, top, right, bottom):
        """A box of work-size pixels (right and bottom exclusive) -> (left, top, right, bottom) in the image."""
        h, w = self.image_shape
        x0, x1 = (self.left + (x - self.margin) / self.scale_x for x in (left, right))
        y0, y1 = (self.top + (y - self.margin) / self.scale_y for y in (top, bottom))
        return (int(np.clip(np.floor(x0), 0, w)), int(np.clip(np.floor(y0), 0, h)),
                int(np.clip(np.ceil(x1), 0, w)), int(np.clip(np.ceil(y1), 0, h)))


@dataclass(frozen=True)
class Ink:
    """The ink found in an image, before the digit's strokes are chosen (what ink_pieces() returns)."""
    image: np.ndarray  # float in [0, 1], light ink on black, at work size with a margin of paper
    pieces: np.ndarray  # int labels of its connected pieces (8-neighbours) over Params.low; 0 is none
    strong: np.ndarray  # for pieces 1..n, how many of their pixels are over Params.high
    kind: Kind  # what kind of image it came from
    frame: Frame  # where image's pixels are in the image as given
    sheet: np.ndarray | None = None  # on a sheet, find_sheet's mask of it (at Params.sheet_search_size)


def to_mnist(gray, name="image", params=PARAMS):
    """A grayscale digit image (float, [0, 1]) -> 28x28 float32 that looks like an MNIST digit.

    Raises NoDigit ("NAME: no digit found (blank image)") when there is no ink to speak of.
    """
    ink = ink_pieces(gray, params)
    if ink is None:
        raise NoDigit(f"{name}: no digit found (blank image)")
    return fit_digit(*crop_to_strokes(ink.image, keep_the_strokes(ink, params), params), params)


def ink_pieces(gray, params=PARAMS):
    """The ink in a grayscale image (float, [0, 1]) as an Ink, or None when there is none.

    The kind of image is chosen here: a small image is a drawing; in a larger one (a photo) a sheet
    found on a desk is read alone, and a photo without one is read whole.
    """
    p = params
    if max(gray.shape) < p.min_photo_size:  # a drawing or an MNIST digit: light strokes on black are no sheet
        return ink_of_the_whole(gray, p.drawing, p)
    sheet = find_sheet(at_work_size(gray, p.sheet_search_size), p)
    if sheet is not None:
        work, region = paper_only(gray, sheet, p)
        ink = ink_at_work_size(work, region, gray.shape, p.sheet, p)
        if ink is not None:
            return dataclasses.replace(ink, sheet=sheet)
        if sheet.mean() >= p.blank_sheet_area:
            return None  # a blank sheet is no digit; a small light region with nothing on it is a light digit
    return ink_of_the_whole(gray, p.photo, p)


def ink_of_the_whole(gray, kind, params=PARAMS):
    whole = (0, 0, gray.shape[1], gray.shape[0])
    return ink_at_work_size(at_work_size(gray, params.work_size), whole, gray.shape, kind, params)


def ink_at_work_size(work, region, image_shape, kind, params=PARAMS):
    """The ink in `work`, the `region` (left, top, right, bottom) of the image brought to work size."""
    margin = int(max(work.shape) * params.margin)
    ink = flatten_the_light(work, kind, margin, params)
    ink = remove_ruled_lines(ink, kind.ruled_line_length, params)
    found = find_the_ink(ink, kind, params)
    if found is None:
        return None
    left, top, right, bottom = region
    frame = Frame(left, top, work.shape[1] / (right - left), work.shape[0] / (bottom - top), margin, image_shape)
    return Ink(*found, kind, frame)


# ---------------------------------------------------------------- find the sheet


def find_sheet(gray, params=PARAMS):
    """The sheet of paper in a photo of one lying on a darker surface, as a mask, or None.

    The sheet is the largest light region (Otsu's threshold) with its convex hull, if it looks
    like a sheet (looks_like_a_sheet), without its edge and the bays of desk reaching into it.
    An image that is all paper has no sheet.
    """
    smooth = ndimage.gaussian_filter(gray, params.sheet_smoothing)
    if np.ptp(smooth) <= params.min_contrast:
        return None
    light = smooth > filters.threshold_otsu(smooth)
    if not light.any():
        return None
    largest = largest_region(light)
    # a pen or a mug touching the sheet stays joined by a narrow neck, which an opening cuts
    neck = max(1, round(max(gray.shape) * params.sheet_neck))
    largest = largest_region(morphology.opening(largest, morphology.disk(neck)))
    if largest is None:
        return None
    sheet = morphology.convex_hull_image(largest)
    if not looks_like_a_sheet(gray, smooth, light, sheet, params):
        return None
    sheet = inside_the_edge(smooth, sheet, params)
    return sheet if sheet.any() else None  # (a sliver of a sheet has nothing inside its edge)


def largest_region(mask):
    """The largest connected region of a mask, or None when it is empty."""
    regions = measure.label(mask)
    if regions.max() == 0:
        return None
    return regions == 1 + np.argmax(np.bincount(regions.ravel())[1:])


def edge_width(shape, params=PARAMS):
    return max(2, round(max(shape) * params.sheet_edge_width))


def looks_like_a_sheet(gray, smooth, light, sheet, params=PARAMS):
    """A sheet covers part of the image, is mostly light inside (the ink is a small part of it, a
    shadow may be larger), mostly dark outside, lies on a surface that is not a drawing's flat
    black, and has a sharp edge where it meets the surface (a shadow's edge is soft)."""
    p = params
    if not (p.sheet_area[0] <= sheet.mean() <= p.sheet_area[1] and light[sheet].mean() >= p.sheet_light_inside
            and light[~sheet].mean() <= p.sheet_light_outside):
        return False
    if stats.median_abs_deviation(gray[~sheet & ~light], axis=None) < p.flat_surround:
        return False  # a drawing's flat black, not a desk in a photo: light strokes on it are the digit
    # across the sheet's edge inside the image (not where it runs off the frame)
    width = edge_width(gray.shape, p)
    inside = sheet & ~ndimage.binary_erosion(sheet, iterations=width, border_value=1)
    outside = ndimage.binary_dilation(sheet, iterations=width) & ~sheet
    return bool(outside.any() and np.median(smooth[inside]) - np.median(smooth[outside]) >= p.sheet_edge)


def inside_the_edge(smooth, sheet, params=PARAMS):
    """The sheet inside its edge (its outline is half paper, half desk), without bays of desk
    reaching in from the edge (beside a mug that touches it)."""
    desk = np.percentile(smooth[~sheet], params.desk_percentile)
    sheet = ndimage.binary_erosion(sheet, iterations=2 * edge_width(smooth.shape, params), border_value=1)
    bays = measure.label(sheet & (smooth < desk))
    edge = np.unique(bays[sheet & ~ndimage.binary_erosion(sheet, border_value=1)])
    return sheet & ~np.isin(bays, edge[edge > 0])


def paper_only(gray, sheet, params=PARAMS):
    """The sheet's bounding box of `gray` at work size, everything off the sheet painted as paper,
    and that box (left, top, right, bottom) in `gray`'s pixels.

    Off the sheet goes the paper's shade nearby (a blur of the sheet's own pixels, weighted by
    the mask), so no edge is left to be taken for ink.
    """
    rows, cols = np.nonzero(sheet)
    fy, fx = gray.shape[0] / sheet.shape[0], gray.shape[1] / sheet.shape[1]
    region = (int(cols.min() * fx), int(rows.min() * fy),
              int(np.ceil((cols.max() + 1) * fx)), int(np.ceil((rows.max() + 1) * fy)))
    crop = at_work_size(gray[region[1]:region[3], region[0]:region[2]], params.work_size)
    sheet = sheet[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    sheet = np.asarray(Image.fromarray(sheet).resize(crop.shape[::-1], Image.NEAREST))
    sigma = float(max(crop.shape) * params.paper_blur)
    weight = ndimage.gaussian_filter(sheet.astype(np.float64), sigma, mode="constant")
    shade = ndimage.gaussian_filter(np.where(sheet, crop, 0), sigma, mode="constant") / np.maximum(weight, 1e-9)
    shade = np.where(weight > params.paper_far, shade, np.median(crop[sheet]))
    return np.where(sheet, crop, shade), region


def at_work_size(gray, sizes=PARAMS.work_size):
    """Reduce photos by area averaging (thin strokes stay as grey), enlarge small drawings bilinearly,
    to a long side within `sizes` (smallest, largest)."""
    h, w = gray.shape
    scale = np.clip(max(h, w), *sizes) / max(h, w)
    if scale == 1:
        return gray
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    method = Image.BOX if scale < 1 else Image.BILINEAR
    return np.asarray(Image.fromarray(gray.astype(np.float32), "F").resize(size, method), np.float64)


# ---------------------------------------------------------------- flatten the light


def border(image):
    return np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])


def flatten_the_light(gray, kind, margin, params=PARAMS):
    """Ink, light on dark, with `margin` pixels of paper all round, and the paper's shade taken away.

    The light's fall-off across a photo is a smooth surface (light_falloff). The paper's shade
    and shadows vary slowly too: a grey opening wider than any stroke estimates them.
    """
    ink = 1.0 - gray if dark_ink(gray, params) else gray.copy()
    if kind.flatten_falloff:
        ink = ink - light_falloff(ink, params)
    paper = np.median(border(ink))
    ink = np.pad(ink, margin, constant_values=paper)
    shade = ndimage.grey_opening(ink, size=max(params.min_shade_window, int(max(ink.shape) * kind.shade_window)))
    # (skimage.morphology.white_tophat is ink - shade, without the cap at the paper's level)
    return ink - (np.minimum(shade, paper) if kind.shade_below_paper else shade)


def dark_ink(gray, params=PARAMS):
    """Whether the ink is darker than the paper: once the light's slow changes are taken away (a wide blur,
    done at a long side of 64 pixels: as smooth, and fast), the darkest pixels lie farther below the paper
    than the lightest lie above it."""
    small = at_work_size(gray, (64, 64))
    light = ndimage.gaussian_filter(small, max(small.shape) * params.ink_tail_blur)
    light = np.asarray(Image.fromarray(light.astype(np.float32), "F").resize(gray.shape[::-1], Image.BILINEAR))
    darkest, lightest = np.percentile(gray - light, [params.ink_tail, 100 - params.ink_tail])
    return -darkest > lightest


def light_falloff(ink, params=PARAMS):
    """A smooth fit of the paper's shade (a quadratic surface): light falling off across a sheet."""
    yy, xx = np.mgrid[0:1:ink.shape[0] * 1j, 0:1:ink.shape[1] * 1j]
    terms = np.stack([np.ones_like(xx), xx, yy, xx * xx, xx * yy, yy * yy], axis=-1).reshape(-1, 6)
    values = ink.ravel()
    paper = values <= np.quantile(values, params.paper_quantile)  # the digit is a small part of a sheet
    fit = np.linalg.lstsq(terms[paper], values[paper], rcond=None)[0]
    return (terms @ fit).reshape(ink.shape)


# ---------------------------------------------------------------- remove ruled lines


def remove_ruled_lines(ink, shortest=0.6, params=PARAMS):
    """Ink (light on dark) without the lines of ruled or squared paper.

    They are long straight lines (Hough transform; `shortest` as a share of the image's shorter
    side), at least three parallel ones, in one direction and (squared paper) across it.
    """
    p = params
    h, w = ink.shape
    thin = ink > p.ruled_ink * ink.max()
    thin &= ~ndimage.binary_opening(thin, iterations=p.ruled_opening)  # printed lines are thin, strokes may not be
    lines = transform.probabilistic_hough_line(thin, threshold=p.hough_threshold, line_length=int(shortest * min(h, w)),
                                               line_gap=int(max(h, w) * p.ruled_gap), rng=0)
    near_thin = ndimage.binary_dilation(thin)
    lines = [line for line in lines if near_thin[draw.line(*line[0][::-1], *line[1][::-1])].mean() >= p.ruled_inked]
    if len(lines) < p.min_ruled_lines:
        return ink
    angles = np.array([np.degrees(np.arctan2(y1 - y0, x1 - x0)) % 180 for (x0, y0), (x1, y1) in lines])
    lines = np.asarray(lines, float)
    for angle in (np.median(angles), (np.median(angles) + 90) % 180):  # ruled, and squared paper's other lines
        near = np.abs((angles - angle + 90) % 180 - 90) < p.ruled_angle
        if distinct_lines(lines[near], angle, 2 * ruled_half_width(ink.shape, p) + 1) >= p.min_ruled_lines:
            ink = erase_lines(ink, lines[near], angle, p)
    return ink


def ruled_half_width(shape, params=PARAMS):
    """Half the width of a ruled line in an image of this shape, in pixels (at least 1)."""
    return max(1, round(max(shape) * params.ruled_half_width))


def distinct_lines(lines, angle, width):
    """How many lines these Hough segments (parallel, at `angle` degrees) lie on: a thick line gives several
    segments side by side, within `width` pixels of one another."""
    if not len(lines):
        return 0
    a = np.radians(angle)
    middles = lines.mean(axis=1)  # (x, y) of each segment's middle
    offsets = np.sort(middles[:, 1] * np.cos(a) - middles[:, 0] * np.sin(a))  # across the lines
    return 1 + int((np.diff(offsets) > width).sum())


def erase_lines(ink, lines, angle, params=PARAMS):
    """Ink without these parallel lines, each drawn edge to edge (the Hough segment may stop short).

    A line's pixels take the fainter of the pixels just either side of it: paper where the line
    runs alone, the stroke where a stroke crosses it.
    """
    h, w = ink.shape
    across = 0 if abs(angle - 90) > 45 else 1  # the axis that crosses the lines
    mask = np.zeros(ink.shape, bool)
    for (x0, y0), (x1, y1) in lines:
        if across == 0:
            ends = [(y0 + (x - x0) * (y1 - y0) / (x1 - x0), x) for x in (0, w - 1)]
        else:
            ends = [(y, x0 + (y - y0) * (x1 - x0) / (y1 - y0)) for y in (0, h - 1)]
        (r0, c0), (r1, c1) = np.round(ends).astype(int)
        rr, cc = draw.line(r0, c0, r1, c1)
        inside = (rr >= 0) & (rr < h) & (cc >= 0) & (cc < w)
        mask[rr[inside], cc[inside]] = True
    half_width = ruled_half_width(ink.shape, params)
    mask = ndimage.binary_dilation(mask, iterations=half_width)
    step = 2 * half_width + 1
    # a slanted stroke is found a little along the line on either side
    along = ndimage.grey_dilation(ink, size=(1, 2 * step + 1) if across == 0 else (2 * step + 1, 1))
    either_side = np.minimum(np.roll(along, step, across), np.roll(along, -step, across))
    return np.where(mask, either_side, ink)


# ---------------------------------------------------------------- find the ink, keep the digit's strokes


def find_the_ink(ink, kind, params=PARAMS):
    """(ink scaled so its peak is 1, labelled pieces, their strong pixels), or None if there is no ink.

    The pieces are connected regions over the low threshold; their strong pixels those over the
    high one (hysteresis, as in edge detection). On a sheet the thresholds are raised above the
    paper's grain, measured robustly as the median absolute deviation.
    """
    p = params
    if kind.grain_blur:  # pencil's graphite is grainy: average it before thresholding
        ink = ndimage.gaussian_filter(ink, float(max(ink.shape) * kind.grain_blur))
    peak = ndimage.gaussian_filter(ink, p.peak_smoothing).max()
    if peak < p.min_contrast:
        return None
    grain = stats.median_abs_deviation(ink, axis=None, scale="normal") / peak
    ink = np.clip(ink / peak, 0, 1)
    low, high = max(p.low, kind.above_grain[0] * grain), max(p.high, kind.above_grain[1] * grain)
    # (not skimage's apply_hysteresis_threshold: that keeps 4-connected pieces with any strong pixel;
    # keep_the_strokes asks for a share of the strongest piece's)
    pieces, n = ndimage.label(ink > low, structure=np.ones((3, 3)))
    strong = ndimage.sum_labels(ink > high, pieces, index=np.arange(1, n + 1))
    if not strong.any():  # nothing stands out of the paper's grain
        return None
    return ink, pieces, strong


def keep_the_strokes(ink, params=PARAMS):
    """A mask of the digit's pieces of an Ink: those with a fair share of strong pixels (paper
    texture and grid lines are fainter), on a sheet only those near the main piece."""
    kept = 1 + np.flatnonzero(ink.strong >= params.strong_share * ink.strong.max())
    if ink.kind.near_main_stroke:
        kept = kept[near_the_main_piece(ink.pieces, kept, 1 + np.argmax(ink.strong), params)]
    return np.isin(ink.pieces, kept)


def near_the_main_piece(labels, pieces, main, params=PARAMS):
    """Which of the labelled pieces touch the main piece's bounding box, widened by half its longer side."""
    boxes = ndimage.find_objects(labels)
    rows, cols = boxes[main - 1]
    dy = dx = int(max(rows.stop - rows.start, cols.stop - cols.start) * params.near_main)
    return np.array([boxes[p - 1][0].start < rows.stop + dy and boxes[p - 1][0].stop > rows.start - dy
                     and boxes[p - 1][1].start < cols.stop + dx and boxes[p - 1][1].stop > cols.start - dx
                     for p in pieces])


def crop_to_strokes(image, keep, params=PARAMS):
    """The ink image near the kept pieces, its faint halo of texture dropped, cropped to the pieces:
    (ink crop, mask crop)."""
    reach = max(1, round(max(image.shape) * params.halo_reach))
    image = image * ndimage.binary_dilation(keep, iterations=reach)
    image = np.clip((image - params.halo) / (1 - params.halo), 0, 1)
    ys, xs = np.nonzero(keep)
    box = np.s_[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    return image[box], keep[box]


# ---------------------------------------------------------------- thicken, fit into 20x20, centre by mass


def fit_digit(ink, mask, params=PARAMS):
    """An ink crop (light on black, [0, 1]) and the mask of its strokes -> the (28, 28) float32 MNIST digit."""
    return centre_by_mass(fit_into_20x20(thicken(ink, mask, params)))


def stroke_width(mask):
    """Mean stroke width of a binary mask: its area over half its perimeter (a w x L bar gives w)."""
    m = np.pad(mask, 1)
    perimeter = (m[:, 1:] != m[:, :-1]).sum() + (m[1:] != m[:-1]).sum()
    return 2.0 * mask.sum() / max(perimeter, 1)


def thicken(ink, mask, params=PARAMS):
    """Strokes much thinner than MNIST's (pen on paper, 1-pixel drawings) thickened to MNIST's width."""
    target, width = params.mnist_stroke_ratio * max(ink.shape), stroke_width(mask)
    if width >= params.thicken_below * target:
        return ink
    radius = (target - width) / 2
    r = int(np.ceil(radius))
    yy, xx = np.mgrid[-r:r + 1, -r:r + 1]
    return ndimage.grey_dilation(ink, footprint=yy ** 2 + xx ** 2 <= radius ** 2 + 0.5)  # a disk; set by eye


def fit_into_20x20(ink):
    """The longest side into 20 pixels, keeping the aspect ratio, anti-aliased (Lanczos); peak 1."""
    h, w = ink.shape
    long_side = max(h, w)
    size = (max(1, round(w * MNIST_BOX / long_side)), max(1, round(h * MNIST_BOX / long_side)))
    box = np.asarray(Image.fromarray(ink.astype(np.float32), "F").resize(size, Image.LANCZOS), np.float64)
    return np.clip(box / max(box.max(), 1e-6), 0, 1)


def centre_by_mass(box):
    """The box placed in 28x28 (float32) with its centre of mass at the centre."""
    cy, cx = ndimage.center_of_mass(box)
    centre = (MNIST_SIZE - 1) / 2
    top = int(np.clip(round(centre - cy), 0, MNIST_SIZE - box.shape[0]))
    left = int(np.clip(round(centre - cx), 0, MNIST_SIZE - box.shape[1]))
    digit = np.zeros((MNIST_SIZE, MNIST_SIZE), np.float32)
    digit[top:top + box.shape[0], left:left + box.shape[1]] = box
    return digit
