"""Images that are not digits, made as the reader sees a digit candidate (28x28, fitted as a digit is): what the
"not a digit" model (train_final.py --handwriting) learns to tell from MNIST's digits.

    images = not_digits.make(10_000, np.random.default_rng(0))    # (10000, 28, 28) float32 in [0, 1]

Kinds, in equal shares: printed letters and signs that have no digit's shape
(matplotlib's own fonts, slanted, rotated, stretched and thickened at random),
the same capitals written with a pen (strokes through jittered points),
short words of them run together as one piece of ink (cursive), scribbles
(smooth random paths, squiggles of a random walk, zigzags, spirals, hatching),
shapes (stars, arrows, hearts, faces, ticks), blobs and textures. Each is drawn large, then fitted
into 20x20 and centred by mass with the pipeline's own fit_digit, as a
candidate found in a photo is. Beside them, a share of what the reader itself
cuts out of photos with no digit (cut_outs: crops of scikit-image's sample
scenes), as it cuts them. bench/number_sets.py draws its letters and
scribbles with its own code (its own stroke templates, pen and walk), but of
the same kinds as the pen letters and squiggles here: on those kinds it
measures less whether this carries over to what it never saw.
"""
import glob
import os

import matplotlib
import numpy as np
from PIL import Image, ImageDraw, ImageFont
from scipy import ndimage

from handwriting import pipeline

# Letters and signs with no digit's shape. Left out as too like a digit in someone's hand: O o Q D C G b e
# (0, 6), I l i j J L T t 1 7 r (1, 7), S s (5), Z z (2), B & (8), g q a P p y Y u h (9, 4), and ? ! $.
LETTERS = "AEFHKMNRVWXkmnvwx#%@*+=<>"
FONTS = sorted(f for f in glob.glob(os.path.join(matplotlib.get_data_path(), "fonts", "ttf", "*.ttf"))
               if os.path.basename(f).startswith(("DejaVuSans", "DejaVuSerif", "STIXGeneral", "cmr10", "cmss10",
                                                   "cmtt10", "cmb10")))
# The capitals of LETTERS as a hand writes them: strokes through points in a box 1 wide and 1 high (x right,
# y down); pen_letter() moves every point a little.
PEN_LETTERS = {
    "A": [[(0, 1), (0.5, 0), (1, 1)], [(0.25, 0.6), (0.75, 0.6)]],
    "E": [[(0.9, 0), (0.1, 0), (0.1, 1), (0.9, 1)], [(0.1, 0.5), (0.7, 0.5)]],
    "F": [[(0.9, 0), (0.1, 0), (0.1, 1)], [(0.1, 0.45), (0.7, 0.45)]],
    "H": [[(0.1, 0), (0.1, 1)], [(0.9, 0), (0.9, 1)], [(0.1, 0.5), (0.9, 0.5)]],
    "K": [[(0.15, 0), (0.15, 1)], [(0.85, 0), (0.15, 0.6)], [(0.4, 0.4), (0.9, 1)]],
    "M": [[(0, 1), (0.1, 0), (0.5, 0.65), (0.9, 0), (1, 1)]],
    "N": [[(0.1, 1), (0.1, 0), (0.9, 1), (0.9, 0)]],
    "R": [[(0.15, 1), (0.15, 0), (0.6, 0), (0.85, 0.12), (0.85, 0.38), (0.6, 0.5), (0.15, 0.5)],
          [(0.45, 0.5), (0.9, 1)]],
    "V": [[(0, 0), (0.5, 1), (1, 0)]],
    "W": [[(0, 0), (0.25, 1), (0.5, 0.35), (0.75, 1), (1, 0)]],
    "X": [[(0.1, 0), (0.9, 1)], [(0.9, 0), (0.1, 1)]],
    "#": [[(0.35, 0), (0.25, 1)], [(0.75, 0), (0.65, 1)], [(0, 0.35), (1, 0.35)], [(0, 0.65), (1, 0.65)]],
    "+": [[(0.5, 0), (0.5, 1)], [(0, 0.5), (1, 0.5)]],
}
# scikit-image's sample photos that come with it and show no digit or text, for cut_outs(). (Its text and
# page show text; clock, microaneurysms, shepp_logan_phantom and binary_blobs are bench/number_sets.py's
# other_photos, a set of photos the judge never learns from.)
SCENES = ["astronaut", "coffee", "camera", "chelsea", "rocket", "brick", "moon", "coins", "horse", "grass", "gravel",
          "hubble_deep_field", "retina", "cell", "immunohistochemistry", "logo", "colorwheel", "checkerboard"]
CUT_OUT_SHARE = 0.25  # of the non-digits made, the rest drawn as above
SIZE = 96  # drawing canvas, pixels: glyphs about 60 high, as a digit in a photo is after the pipeline


def training_set(digits, rng):
    """The images and labels (1: not a digit) that train_final.py --handwriting's judge of "not a digit" learns
    from, (2n, 28, 28, 1) float32 and (2n,) float32, shuffled: the n digits (n, 28, 28) in [0, 1], half of
    them as they are and half redrawn(); and n non-digits, half made and half those turned or mirrored."""
    n = len(digits)
    order = rng.permutation(n)
    again = redrawn(digits[order[n // 2:]], rng)
    cut = int(n // 2 * CUT_OUT_SHARE)
    made = np.concatenate([make(n // 2 - cut, rng), cut_outs(cut, rng)])
    turns = rng.integers(1, 5, len(made))  # a quarter, half or three quarters of a turn, or mirrored
    turned = np.stack([np.rot90(image, k) if k < 4 else image[:, ::-1] for image, k in zip(made, turns)])
    images = np.concatenate([digits[order[:n // 2]], again, made, turned]).astype(np.float32)[..., None]
    labels = np.concatenate([np.zeros(n), np.ones(2 * len(made))]).astype(np.float32)
    order = rng.permutation(len(images))
    return images[order], labels[order]


def make(count, rng):
    """`count` non-digit images, (count, 28, 28) float32 in [0, 1], the kinds in turn."""
    kinds = [letter, pen_letter, word, scribble, squiggle, zigzag, spiral, hatching, shape, blob]
    images = []
    while len(images) < count:
        ink = kinds[len(images) % len(kinds)](rng)
        if ink.max() > 0.5:  # (a glyph can fall off the canvas: draw another)
            images.append(fitted(ink, rng))
    return np.stack(images)


def cut_outs(count, rng):
    """`count` candidates (count, 28, 28) that the reader finds in random crops of SCENES (a tenth to all of
    each side, as a phone frames part of a scene): the hard cases, made as the reader makes them."""
    from skimage import data  # (scikit-image's sample photos: read only when the judge is trained)

    from handwriting.numbers import find_digits

    scenes = [np.asarray(getattr(data, name)(), np.float64) for name in SCENES]
    scenes = [(s.mean(axis=2) if s.ndim == 3 else s) / max(s.max(), 1) for s in scenes]
    found = []
    while len(found) < count:
        scene = scenes[int(rng.integers(len(scenes)))]
        h, w = scene.shape
        ch, cw = int(h * rng.uniform(0.1, 1)), int(w * rng.uniform(0.1, 1))
        top, left = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
        found += [c.image for c in find_digits(scene[top:top + ch, left:left + cw]) if not stick(c.image)]
    return np.stack(found[:count]).astype(np.float32)


def stick(image):
    """A cut-out as narrow as a 1 (under 0.4 of its height wide): a 1 for all the judge could tell, not learnt."""
    cols, rows = np.flatnonzero((image > 0.5).any(axis=0)), np.flatnonzero((image > 0.5).any(axis=1))
    return not cols.size or cols[-1] - cols[0] + 1 < 0.4 * (rows[-1] - rows[0] + 1)


def redrawn(digits, rng):
    """MNIST digits (n, 28, 28) in [0, 1] drawn large and slanted, then fitted as the non-digits are: so
    that how an image was made tells the model nothing, only what it shows."""
    out = []
    for digit in digits:
        big = Image.fromarray(np.uint8(255 * digit)).resize((SIZE, SIZE), Image.BILINEAR)
        out.append(fitted(distorted(big, rng, gentle=True), rng))
    return np.stack(out)


def fitted(ink, rng):
    """A drawing (light on black, [0, 1]) as the reader would see it: its pen made thinner or thicker,
    sometimes seen at a low resolution, cropped to the ink, fitted into 20x20, centred by mass
    (pipeline.fit_digit)."""
    if rng.random() < 0.3:  # a small or blurred photo: 7 to 20 pixels across (load_digits' are 8)
        small = int(rng.integers(7, 21))
        image = Image.fromarray(np.float32(ink), "F").resize((small, small), Image.BOX)
        ink = np.asarray(image.resize((SIZE, SIZE), Image.BILINEAR), np.float64)
    change = int(rng.integers(-2, 7))  # pixels of pen: a fine pen to a marker (load_digits' fat 1s)
    if change > 0:
        ink = ndimage.grey_dilation(ink, size=(change + 1, change + 1))
    elif change < 0:
        ink = ndimage.grey_erosion(ink, size=(2, 2))
    ink = ndimage.gaussian_filter(ink, rng.uniform(0.3, 1.0))
    mask = ink > 0.35 * ink.max()
    ys, xs = np.nonzero(mask)
    box = np.s_[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    return pipeline.fit_digit(np.clip(ink[box] / max(ink.max(), 1e-6), 0, 1), mask[box])


def canvas():
    image = Image.new("L", (SIZE, SIZE), 0)
    return image, ImageDraw.Draw(image)


def distorted(image, rng, gentle=False):
    """The drawing slanted, rotated and stretched a little, as a hand would (a digit less: it must stay one)."""
    k = 0.4 if gentle else 1
    slant, angle, stretch = k * rng.uniform(-0.35, 0.35), k * rng.uniform(-20, 20), 1 + k * rng.uniform(-0.3, 0.3)
    matrix = (stretch, slant, -slant * SIZE / 2 + (1 - stretch) * SIZE / 2, 0, 1, 0)
    image = image.transform(image.size, Image.AFFINE, matrix, Image.BILINEAR)
    return np.asarray(image.rotate(angle, Image.BILINEAR), np.float64) / 255


def pen(rng):
    return int(rng.integers(3, 10))  # pixels, on the canvas


def text_ink(text, rng):
    font = ImageFont.truetype(str(rng.choice(FONTS)), int(rng.integers(40, 66)) // max(1, len(text) // 2))
    image, draw = canvas()
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    draw.text(((SIZE - right - left) / 2, (SIZE - bottom - top) / 2), text, fill=255, font=font,
              stroke_width=int(rng.integers(0, 4)), stroke_fill=255)
    return distorted(image, rng)


def letter(rng):
    return text_ink(str(rng.choice(list(LETTERS))), rng)


def word(rng):
    """Two to four letters run together, as one piece of ink (joined handwriting)."""
    ink = text_ink("".join(rng.choice(list(LETTERS[:20]), int(rng.integers(2, 5)))), rng)
    return ndimage.grey_dilation(ink, size=(1, int(rng.integers(2, 6))))  # letters that touch


def pen_letter(rng):
    """A capital written with a pen: each of its points moved by up to a tenth of its size."""
    strokes = PEN_LETTERS[str(rng.choice(list(PEN_LETTERS)))]
    return polyline(*[np.asarray(stroke) + rng.uniform(-0.1, 0.1, (len(stroke), 2)) for stroke in strokes], rng=rng)


def polyline(*strokes, rng, closed=False):
    """Strokes through points in the unit box, drawn with one pen on the canvas."""
    image, draw = canvas()
    width = pen(rng)
    for stroke in strokes:
        points = [tuple(p) for p in np.asarray(stroke) * SIZE * 0.7 + SIZE * 0.15]
        draw.line(points + points[:1] if closed else points, fill=255, width=width, joint="curve")
    return distorted(image, rng)


def scribble(rng):
    """A smooth random path that crosses itself: a few random sines in x and in y."""
    t = np.linspace(0, 1, 400)[:, None]
    freq, phase = rng.uniform(1, 6, (2, 4)), rng.uniform(0, 2 * np.pi, (2, 4))
    amp = rng.uniform(0.2, 1, (2, 4))
    xy = np.stack([(amp[k] * np.sin(2 * np.pi * freq[k] * t + phase[k])).sum(1) for k in (0, 1)], axis=1)
    return polyline(in_unit_box(xy), rng=rng)


def squiggle(rng):
    """A random walk, smoothed: the wandering squiggle of a pen tried out or a doodle."""
    walk = np.cumsum(rng.normal(0, 1, (int(rng.integers(40, 200)), 2)), axis=0)
    walk = ndimage.uniform_filter1d(walk, int(rng.integers(3, 9)), axis=0)
    return polyline(in_unit_box(walk), rng=rng)


def in_unit_box(xy):
    """Points (n, 2) moved and scaled, both axes alike, to fill the unit box along their longer side."""
    return (xy - xy.min(0)) / max(np.ptp(xy, axis=0).max(), 1e-9)


def zigzag(rng):
    """Back and forth, as when crossing something out."""
    n = int(rng.integers(5, 14))
    x = np.where(np.arange(n) % 2, rng.uniform(0.8, 1, n), rng.uniform(0, 0.2, n))
    y = np.sort(rng.uniform(0, 1, n))
    xy = np.stack([x, y], 1) if rng.random() < 0.5 else np.stack([y, x], 1)
    return polyline(xy, rng=rng)


def spiral(rng):
    turns = rng.uniform(2, 4)
    t = np.linspace(0, 1, 300)
    r, a = 0.5 * t, 2 * np.pi * turns * t * rng.choice([-1, 1])
    return polyline(np.stack([0.5 + r * np.cos(a), 0.5 + r * np.sin(a)], 1), rng=rng)


def hatching(rng):
    """Parallel strokes, one way or crossed."""
    image, draw = canvas()
    width, n = pen(rng), int(rng.integers(3, 7))
    for direction in range(int(rng.integers(1, 3))):
        for x in np.linspace(0.15, 0.85, n) * SIZE:
            ends = [(x, 0.15 * SIZE), (x + rng.uniform(-0.06, 0.06) * SIZE, 0.85 * SIZE)]
            draw.line([e if direction == 0 else e[::-1] for e in ends], fill=255, width=width)
    return distorted(image, rng)


def shape(rng):
    """A star, an arrow, a heart, a face, a crossed-out box or a tick."""
    which = int(rng.integers(6))
    if which == 0:  # five-pointed star, drawn in one stroke
        a = np.pi / 2 + np.arange(6) * 4 * np.pi / 5
        return polyline(np.stack([0.5 + 0.5 * np.cos(a), 0.5 - 0.5 * np.sin(a)], 1), rng=rng)
    if which == 1:  # arrow, pointing any of four ways
        xy = np.array([(0, 0.5), (1, 0.5), (0.7, 0.2), (1, 0.5), (0.7, 0.8)])
        return polyline(_turned(xy, int(rng.integers(4))), rng=rng)
    if which == 2:  # heart
        t = np.linspace(0, 2 * np.pi, 200)
        x, y = 16 * np.sin(t) ** 3, 13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t)
        return polyline(np.stack([(x + 17) / 34, (17 - y) / 34], 1), rng=rng, closed=True)
    image, draw = canvas()
    w, at = pen(rng), lambda *xy: [v * SIZE for v in xy]
    if which == 3:  # a face: a ring, two eyes, a smile
        draw.ellipse(at(0.1, 0.1, 0.9, 0.9), outline=255, width=w)
        for x in (0.34, 0.66):
            draw.ellipse(at(x - 0.05, 0.34, x + 0.05, 0.44), fill=255)
        draw.arc(at(0.28, 0.38, 0.72, 0.75), 20, 160, fill=255, width=w)
    elif which == 4:  # a box crossed out
        draw.rectangle(at(0.15, 0.15, 0.85, 0.85), outline=255, width=w)
        draw.line(at(0.15, 0.15, 0.85, 0.85), fill=255, width=w)
        draw.line(at(0.15, 0.85, 0.85, 0.15), fill=255, width=w)
    else:  # a tick
        return polyline([(0, 0.6), (0.35, 1), (1, 0)], rng=rng)
    return distorted(image, rng)


def _turned(xy, quarter_turns):
    """Points in the unit box turned by quarter turns about its centre."""
    for _ in range(quarter_turns):
        xy = np.stack([1 - xy[:, 1], xy[:, 0]], 1)
    return xy


def blob(rng):
    """A texture of specks and smudges (grain, a crumpled patch)."""
    noise = ndimage.gaussian_filter(rng.normal(size=(SIZE, SIZE)), rng.uniform(1, 3))
    return (noise > np.quantile(noise, rng.uniform(0.6, 0.85))).astype(np.float64)
