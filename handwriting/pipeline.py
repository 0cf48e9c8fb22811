"""A grayscale image of a handwritten digit -> a 28x28 image that looks like an MNIST digit.

docs/own_images.md describes the steps.
"""
import numpy as np
from PIL import Image
from scipy import ndimage
from skimage import draw, filters, measure, morphology, transform

from plumbing.cli import UserError

# MNIST strokes are about a tenth of the digit's longest side (median 0.097
# over 2,000 training digits, with stroke_width below on pixels over 0.5);
# much thinner strokes (pen on paper, 1-pixel drawings) are thickened to that.
MNIST_STROKE_RATIO = 0.10
# Work at 112 to 300 pixels on the long side: photos are reduced (fast), small
# drawings enlarged (so strokes can be thickened by fractions of a 28x28 pixel).
WORK_SIZE = (112, 300)
MIN_CONTRAST = 0.08  # ink less than 8% of full scale from the paper is "no digit"
# A sheet's edge on a desk: paper at least this much lighter than what lies just outside it.
SHEET_EDGE = 0.06
# Images smaller than this on their long side are not searched for a sheet of paper;
# larger ones are searched at this size (the sheet's outline needs no more).
MIN_PHOTO_SIZE = 200
SHEET_SEARCH_SIZE = (64, 128)
# A light region at least this share of the image with no ink on it is a blank sheet.
BLANK_SHEET_AREA = 0.2


def stroke_width(mask):
    """Mean stroke width of a binary mask: its area over half its perimeter (a w x L bar gives w)."""
    m = np.pad(mask, 1)
    perimeter = (m[:, 1:] != m[:, :-1]).sum() + (m[1:] != m[:-1]).sum()
    return 2.0 * mask.sum() / max(perimeter, 1)


def at_work_size(gray, sizes=WORK_SIZE):
    """Reduce photos by area averaging (thin strokes stay as grey), enlarge small drawings bilinearly."""
    h, w = gray.shape
    scale = np.clip(max(h, w), *sizes) / max(h, w)
    if scale == 1:
        return gray
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    method = Image.BOX if scale < 1 else Image.BILINEAR
    return np.asarray(Image.fromarray(gray.astype(np.float32), "F").resize(size, method), np.float64)


def find_sheet(gray):
    """The sheet of paper in a photo of one lying on a darker surface, as a mask, or None.

    The sheet is the largest light region (Otsu's threshold) with its convex
    hull: at least 5% of the image, mostly light inside (the ink is a small
    part of a sheet, a shadow may be larger), mostly dark outside, on a
    surface that is not a drawing's flat black, and with a sharp edge where
    it meets the surface (a shadow's edge is soft). An image that is all
    paper has no such edge.
    """
    smooth = ndimage.gaussian_filter(gray, 1)
    light = smooth > filters.threshold_otsu(smooth) if np.ptp(smooth) > MIN_CONTRAST else None
    if light is None or not light.any():
        return None
    regions = measure.label(light)
    largest = regions == 1 + np.argmax(np.bincount(regions.ravel())[1:])
    # a pen or a mug touching the sheet stays joined by a narrow neck, which an opening cuts
    largest = morphology.opening(largest, morphology.disk(max(1, round(max(gray.shape) / 50))))
    regions = measure.label(largest)
    if regions.max() == 0:
        return None
    sheet = morphology.convex_hull_image(regions == 1 + np.argmax(np.bincount(regions.ravel())[1:]))
    if not 0.05 <= sheet.mean() <= 0.97 or light[sheet].mean() < 0.8 or light[~sheet].mean() > 0.4:
        return None
    surround = gray[~sheet & ~light]
    if np.median(np.abs(surround - np.median(surround))) < 0.001:
        return None  # a drawing's flat black, not a desk in a photo: light strokes on it are the digit
    # across the sheet's edge inside the image (not where it runs off the frame)
    width = max(2, round(max(gray.shape) / 100))
    inside = sheet & ~ndimage.binary_erosion(sheet, iterations=width, border_value=1)
    outside = ndimage.binary_dilation(sheet, iterations=width) & ~sheet
    if not outside.any() or np.median(smooth[inside]) - np.median(smooth[outside]) < SHEET_EDGE:
        return None
    # inside the edge only (the sheet's outline is half paper, half desk), and
    # without bays of desk reaching in from the edge (beside a mug that touches it)
    desk = np.percentile(smooth[~sheet], 75)
    sheet = ndimage.binary_erosion(sheet, iterations=2 * width, border_value=1)
    bays = measure.label(sheet & (smooth < desk))
    edge = np.unique(bays[sheet & ~ndimage.binary_erosion(sheet, border_value=1)])
    return sheet & ~np.isin(bays, edge[edge > 0])


def paper_only(gray, sheet):
    """The sheet's bounding box of `gray` at work size, everything off the sheet painted as paper.

    Off the sheet goes the paper's shade nearby (a blur of the sheet's own
    pixels, weighted by the mask), so no edge is left to be taken for ink.
    """
    rows, cols = np.nonzero(sheet)
    fy, fx = gray.shape[0] / sheet.shape[0], gray.shape[1] / sheet.shape[1]
    crop = at_work_size(gray[int(rows.min() * fy):int(np.ceil((rows.max() + 1) * fy)),
                             int(cols.min() * fx):int(np.ceil((cols.max() + 1) * fx))])
    sheet = sheet[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    sheet = np.asarray(Image.fromarray(sheet).resize(crop.shape[::-1], Image.NEAREST))
    sigma = max(crop.shape) / 10
    weight = ndimage.gaussian_filter(sheet.astype(np.float64), sigma, mode="constant")
    shade = ndimage.gaussian_filter(np.where(sheet, crop, 0), sigma, mode="constant") / np.maximum(weight, 1e-9)
    shade = np.where(weight > 1e-3, shade, np.median(crop[sheet]))
    return np.where(sheet, crop, shade)


def to_mnist(gray, name="image"):
    """A grayscale digit image (float, [0, 1]) -> 28x28 float32 that looks like an MNIST digit.

    Raises UserError("no digit found") when there is no ink to speak of.
    """
    # A photo of a sheet has some pixels to it; a smaller image is a drawing
    # (or an MNIST digit), and its light strokes on black are no sheet.
    sheet = find_sheet(at_work_size(gray, SHEET_SEARCH_SIZE)) if max(gray.shape) >= MIN_PHOTO_SIZE else None
    if sheet is not None:  # a sheet on a desk: look for the digit on the sheet only
        try:
            return digit_from_paper(paper_only(gray, sheet), name, on_sheet=True, photo=True)
        except UserError:
            # A blank sheet is no digit; a small light region with nothing on
            # it is a light digit on a dark ground (MNIST's polarity).
            if sheet.mean() >= BLANK_SHEET_AREA:
                raise
    return digit_from_paper(at_work_size(gray), name, photo=max(gray.shape) >= MIN_PHOTO_SIZE)


def remove_ruled_lines(ink, shortest=0.6):
    """Ink (light on dark) without the lines of ruled or squared paper.

    They are long straight lines (Hough transform; `shortest` as a share of
    the image's shorter side), at least three parallel ones. A line's pixels
    take the fainter of the pixels just either side of it: paper where the
    line runs alone, the stroke where a stroke crosses it.
    """
    h, w = ink.shape
    thin = ink > 0.25 * ink.max()
    thin &= ~ndimage.binary_opening(thin, iterations=2)  # printed lines are thin; the digit's strokes may not be
    lines = transform.probabilistic_hough_line(thin, threshold=10, line_length=int(shortest * min(h, w)),
                                               line_gap=max(h, w) // 15, rng=0)
    if len(lines) < 3:
        return ink
    angles = np.array([np.degrees(np.arctan2(y1 - y0, x1 - x0)) % 180 for (x0, y0), (x1, y1) in lines])
    half_width = max(1, round(max(h, w) / 150))
    for angle in (np.median(angles), (np.median(angles) + 90) % 180):  # ruled, and squared paper's other lines
        near = np.abs((angles - angle + 90) % 180 - 90) < 4
        if near.sum() < 3:
            continue
        mask = np.zeros(ink.shape, bool)
        across = 0 if abs(angle - 90) > 45 else 1  # the axis that crosses the lines
        for (x0, y0), (x1, y1) in np.asarray(lines, float)[near]:
            # the whole line, edge to edge: the Hough segment may stop short of its ends
            if across == 0:
                ends = [(y0 + (x - x0) * (y1 - y0) / (x1 - x0), x) for x in (0, w - 1)]
            else:
                ends = [(y, x0 + (y - y0) * (x1 - x0) / (y1 - y0)) for y in (0, h - 1)]
            (r0, c0), (r1, c1) = np.round(ends).astype(int)
            rr, cc = draw.line(r0, c0, r1, c1)
            inside = (rr >= 0) & (rr < h) & (cc >= 0) & (cc < w)
            mask[rr[inside], cc[inside]] = True
        mask = ndimage.binary_dilation(mask, iterations=half_width)
        step = 2 * half_width + 1
        # a slanted stroke is found a little along the line on either side
        along = ndimage.grey_dilation(ink, size=(1, 2 * step + 1) if across == 0 else (2 * step + 1, 1))
        either_side = np.minimum(np.roll(along, step, across), np.roll(along, -step, across))
        ink = np.where(mask, either_side, ink)
    return ink


def near_the_main_piece(labels, pieces, main):
    """Which of the labelled pieces touch the main piece's bounding box, widened by half its longer side."""
    boxes = ndimage.find_objects(labels)
    rows, cols = boxes[main - 1]
    dy = dx = max(rows.stop - rows.start, cols.stop - cols.start) // 2
    return np.array([boxes[p - 1][0].start < rows.stop + dy and boxes[p - 1][0].stop > rows.start - dy
                     and boxes[p - 1][1].start < cols.stop + dx and boxes[p - 1][1].stop > cols.start - dx
                     for p in pieces])


def flatten_shading(ink):
    """Ink minus a smooth fit of the paper's shade (a quadratic surface): light falling off across a sheet."""
    yy, xx = np.mgrid[0:1:ink.shape[0] * 1j, 0:1:ink.shape[1] * 1j]
    terms = np.stack([np.ones_like(xx), xx, yy, xx * xx, xx * yy, yy * yy], axis=-1).reshape(-1, 6)
    values = ink.ravel()
    paper = values <= np.quantile(values, 0.8)  # the digit is a small part of a sheet
    fit = np.linalg.lstsq(terms[paper], values[paper], rcond=None)[0]
    return ink - (terms @ fit).reshape(ink.shape)


def digit_from_paper(gray, name, on_sheet=False, photo=False):
    """to_mnist() for an image at work size that is all paper (or all background) round the digit.

    On a sheet found on a desk (on_sheet) the light's fall-off across the sheet is removed first.
    """
    # MNIST is white ink on black: invert when the background (the border) is light.
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    ink = 1.0 - gray if np.median(border) > 0.5 else gray.copy()
    if photo:  # a photo's light falls off across it (a close-up of a sheet too), a drawing's does not
        ink = flatten_shading(ink)
    # Paper shade and shadows vary slowly; a grey opening wider than any stroke
    # estimates them, and subtracting it leaves the ink.
    # The estimate never goes above the paper seen on the border, so a thick
    # stroke (a digit that fills its image) is not taken for shading.
    paper = np.median(np.concatenate([ink[0], ink[-1], ink[:, 0], ink[:, -1]]))
    # A margin of paper all round, so a stroke that touches the image's edge
    # is a stroke like any other (and not doubled by the filters' reflection).
    ink = np.pad(ink, max(ink.shape) // 8, constant_values=paper)
    # On a sheet the digit is a fraction of the image: a narrower opening
    # still spares its strokes, and takes smaller shadows for shading too.
    window, ceiling = (max(ink.shape) // 8, np.inf) if on_sheet else (max(ink.shape) // 3, paper)
    ink -= np.minimum(ndimage.grey_opening(ink, size=max(3, window)), ceiling)
    ink = remove_ruled_lines(ink, 0.4 if on_sheet else 0.6)  # on a sheet the digit is small
    if photo:  # pencil's graphite is grainy: average it over about a stroke's width before thresholding
        ink = ndimage.gaussian_filter(ink, max(ink.shape) / 450)
    peak = ndimage.gaussian_filter(ink, 0.7).max()
    if peak < MIN_CONTRAST:
        raise UserError(f"{name}: no digit found (blank image)")
    # the paper's grain, as a share of the ink's contrast (robust: the median absolute deviation)
    grain = 1.4826 * np.median(np.abs(ink - np.median(ink))) / peak
    ink = np.clip(ink / peak, 0, 1)
    # Keep the strokes (hysteresis, as in edge detection): connected pieces of
    # at least a quarter of the darkest ink's contrast that hold a fair share
    # of pixels at least half as dark. Paper texture and grid lines are fainter.
    low, high = (max(0.25, 3 * grain), max(0.5, 5 * grain)) if on_sheet else (0.25, 0.5)
    labels, n = ndimage.label(ink > low, structure=np.ones((3, 3)))
    strong = ndimage.sum_labels(ink > high, labels, index=np.arange(1, n + 1))
    if not strong.any():  # nothing stands out of the paper's grain
        raise UserError(f"{name}: no digit found (blank image)")
    kept = 1 + np.flatnonzero(strong >= 0.1 * strong.max())
    if on_sheet:  # the digit is small on its sheet: what lies far from its main stroke is shadow or dirt
        kept = kept[near_the_main_piece(labels, kept, 1 + np.argmax(strong))]
    keep = np.isin(labels, kept)
    ink *= ndimage.binary_dilation(keep, iterations=max(1, round(max(ink.shape) / 50)))
    ink = np.clip((ink - 0.15) / 0.85, 0, 1)  # drop the faint halo of texture round the strokes
    # Crop to the ink.
    ys, xs = np.nonzero(keep)
    ink, keep = ink[ys.min():ys.max() + 1, xs.min():xs.max() + 1], keep[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    # Pen strokes in photos and 1-pixel drawings are much thinner than MNIST's: thicken them.
    long_side = max(ink.shape)
    target, width = MNIST_STROKE_RATIO * long_side, stroke_width(keep)
    if width < 0.7 * target:
        radius = (target - width) / 2
        r = int(np.ceil(radius))
        yy, xx = np.mgrid[-r:r + 1, -r:r + 1]
        ink = ndimage.grey_dilation(ink, footprint=yy ** 2 + xx ** 2 <= radius ** 2 + 0.5)
    # Fit the longest side into 20 pixels, keeping the aspect ratio, with anti-aliasing.
    bh, bw = ink.shape
    size = (max(1, round(bw * 20 / long_side)), max(1, round(bh * 20 / long_side)))
    box = np.asarray(Image.fromarray(ink.astype(np.float32), "F").resize(size, Image.LANCZOS), np.float64)
    box = np.clip(box / max(box.max(), 1e-6), 0, 1)
    # Place it in 28x28 with its centre of mass at the centre.
    cy, cx = ndimage.center_of_mass(box)
    top = int(np.clip(round(13.5 - cy), 0, 28 - box.shape[0]))
    left = int(np.clip(round(13.5 - cx), 0, 28 - box.shape[1]))
    digit = np.zeros((28, 28), np.float32)
    digit[top:top + box.shape[0], left:left + box.shape[1]] = box
    return digit
