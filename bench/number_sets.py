"""Synthetic sets for reading whole numbers and answering "no digit": numbers, and images with no digit in them.

    python -m bench.number_sets [OUT_DIR] [--numbers 200] [--non-digits 120] [--seed 0]

Writes OUT_DIR/numbers/ and OUT_DIR/non_digits/ (a temporary folder when
OUT_DIR is left out), each with its images and labels.csv (file,label,kind):
the digits in reading order, lines joined by one space, for a number; ""
for a non-digit.

Numbers: 2 to 10 digits (a fifth of them on two lines), each digit drawn by
bench/sheet_digits.py's templates with one pen per number, at varied heights,
baselines and spacing; kinds: a drawing (dark on white, thin to thick pen),
touching digits, a digit with a broken stroke, a crop of ruled paper, and a
photo of a sheet on a desk (sheet_digits' photograph()).
Non-digits: scikit-image's sample photos, blank and ruled sheets (drawn and
photographed), scribbles, and letters that do not look like digits (A, E, F,
H, K, M, N, R, W, X), drawn and photographed the same ways.
other_photos(): more photos, from other packages, whole and cropped, as a
set of its own (bench/numbers_accuracy.py reads it).
The same seed gives the same files. A stand-in for real images: it shows the
cases, it does not measure how people write.
"""
import argparse
import csv
import os
import tempfile

import numpy as np
from PIL import Image
from skimage import data

from bench import sheet_digits
from bench.sheet_digits import arc

# Letters with no digit's shape, as pen strokes in a box 1 wide and 1 high (x right, y down).
LETTERS = {
    "A": [[(0.0, 1), (0.5, 0), (1.0, 1)], [(0.22, 0.6), (0.78, 0.6)]],
    "E": [[(0.85, 0), (0.1, 0), (0.1, 1), (0.85, 1)], [(0.1, 0.5), (0.7, 0.5)]],
    "F": [[(0.85, 0), (0.1, 0), (0.1, 1)], [(0.1, 0.5), (0.7, 0.5)]],
    "H": [[(0.1, 0), (0.1, 1)], [(0.9, 0), (0.9, 1)], [(0.1, 0.5), (0.9, 0.5)]],
    "K": [[(0.1, 0), (0.1, 1)], [(0.85, 0), (0.1, 0.55)], [(0.35, 0.4), (0.9, 1)]],
    "M": [[(0.0, 1), (0.1, 0), (0.5, 0.6), (0.9, 0), (1.0, 1)]],
    "N": [[(0.1, 1), (0.1, 0), (0.9, 1), (0.9, 0)]],
    "R": [[(0.1, 1), (0.1, 0), (0.55, 0)] + arc(0.55, 0.25, 0.3, 0.25, 270, 450) + [(0.1, 0.5)],
          [(0.45, 0.5), (0.9, 1)]],
    "W": [[(0.0, 0), (0.25, 1), (0.5, 0.4), (0.75, 1), (1.0, 0)]],
    "X": [[(0.1, 0), (0.9, 1)], [(0.9, 0), (0.1, 1)]],
}
# scikit-image's sample photos (none shows a digit): the nine a user tried first, then more.
PHOTOS = ["astronaut", "coffee", "camera", "chelsea", "rocket", "text", "brick", "moon", "page",
          "coins", "horse", "grass", "gravel", "hubble_deep_field", "retina", "cell", "immunohistochemistry",
          "logo", "checkerboard", "colorwheel"]
# Photos that are neither in the set above nor anything the reader was tuned on: the sample images that come
# with scikit-learn and matplotlib, and the rest of scikit-image's that need no download (its cat is chelsea).
OTHER_PHOTOS = ["sklearn:china.jpg", "sklearn:flower.jpg", "matplotlib:grace_hopper.jpg",
                "matplotlib:Minduka_Present_Blue_Pack.png", "matplotlib:logo2.png", "skimage:clock",
                "skimage:microaneurysms", "skimage:shepp_logan_phantom", "skimage:binary_blobs"]
FACES = 5  # of scikit-image's lfw_subset: 25x25 faces


def compose(glyphs, rng, touching=False):
    """Glyph inks (each cropped, any size) side by side as one line of ink, the height of a glyph about 200.

    Heights, baselines and gaps vary; touching glyphs overlap a little, so their strokes meet.
    """
    placed, x = [], 0
    for ink in glyphs:
        scale = 200 * rng.uniform(0.85, 1.1) / ink.shape[0]
        size = (max(1, round(ink.shape[1] * scale)), max(1, round(ink.shape[0] * scale)))
        ink = np.asarray(Image.fromarray((ink * 255).astype(np.uint8)).resize(size, Image.BILINEAR), np.float64) / 255
        top = int(rng.uniform(-12, 12)) + 200 - ink.shape[0]  # on a common baseline, give or take
        if placed:
            x += int(200 * (rng.uniform(-0.1, -0.03) if touching else rng.uniform(0.08, 0.45)))
        placed.append((ink, max(0, x), top))
        x = max(0, x) + ink.shape[1]
    low = min(top for _, _, top in placed)
    line = np.zeros((max(top - low + ink.shape[0] for ink, _, top in placed),
                     max(left + ink.shape[1] for ink, left, _ in placed)))
    for ink, left, top in placed:
        region = line[top - low:top - low + ink.shape[0], left:left + ink.shape[1]]
        np.maximum(region, ink, out=region)
    return line


def stack_lines(lines, rng):
    """Lines of ink one above the other, each shifted a little to the right or left."""
    gap = int(200 * rng.uniform(0.25, 0.7))
    shifts = [int(rng.uniform(0, 150)) for _ in lines]
    out = np.zeros((sum(line.shape[0] for line in lines) + gap * (len(lines) - 1),
                    max(line.shape[1] + s for line, s in zip(lines, shifts))))
    y = 0
    for line, shift in zip(lines, shifts):
        out[y:y + line.shape[0], shift:shift + line.shape[1]] = line
        y += line.shape[0] + gap
    return out


def break_a_stroke(ink, rng, pen):
    """The ink with a gap cut across one of its strokes (a pen that skipped): a disc about a pen wide."""
    ys, xs = np.nonzero(ink > 0.5)
    i = rng.integers(len(ys))
    yy, xx = np.ogrid[:ink.shape[0], :ink.shape[1]]
    return np.where((yy - ys[i]) ** 2 + (xx - xs[i]) ** 2 <= (0.8 * pen) ** 2, 0, ink)


def as_drawing(ink, rng):
    """Ink drawn dark on a white or off-white canvas with a margin, the glyphs 20 to 120 pixels high."""
    height = rng.uniform(20, 120)
    scale = height / 200
    margin = int(rng.uniform(0.1, 0.6) * height) + 2
    size = (max(1, round(ink.shape[1] * scale)), max(1, round(ink.shape[0] * scale)))
    small = np.asarray(Image.fromarray((ink * 255).astype(np.uint8)).resize(size, Image.BILINEAR), np.float64) / 255
    small = np.pad(small, margin)
    paper, pen = rng.uniform(0.9, 1.0), rng.uniform(0.0, 0.25)
    gray = paper - (paper - pen) * small
    return Image.fromarray((np.clip(gray, 0, 1) * 255).astype(np.uint8))


def on_sheet(ink, rng, ruled):
    """make_sheet()'s sheet with the ink written on it, a sheet wide enough for it; and the ink's box."""
    pen = ["ballpoint", "marker", "pencil"][int(rng.choice(3, p=[0.5, 0.3, 0.2]))]
    shade = rng.uniform(0.8, 0.97)
    h = 990
    # make_sheet writes the ink 12% to 30% of the sheet's height tall; the sheet is as wide as that needs
    w = max(700, int(0.3 * h * ink.shape[1] / max(ink.shape[0], 1) / 0.7) + 1)
    return sheet_digits.make_sheet(ink, rng, pen, shade, ruled, size=(w, h))


def ruled_crop(ink, rng):
    """A crop of ruled paper round the ink, as from a scan or a photo of a notebook page."""
    sheet, (left, top, dw, dh) = on_sheet(ink, rng, ruled=True)
    margin = int(rng.uniform(0.1, 0.5) * min(dh, 200)) + 10
    h, w = sheet.shape[:2]
    crop = sheet[max(0, top - margin):min(h, top + dh + margin), max(0, left - margin):min(w, left + dw + margin)]
    img = Image.fromarray((crop * 255).astype(np.uint8))
    scale = rng.uniform(150, 500) / max(img.size)
    return img.resize((max(1, round(img.size[0] * scale)), max(1, round(img.size[1] * scale))), Image.BILINEAR)


def photographed(ink, rng, ruled=False):
    """A photo of a sheet with the ink on it, on a desk or close up (bench/sheet_digits.py's photograph())."""
    sheet, box = on_sheet(ink, rng, ruled)
    img, _ = sheet_digits.photograph(sheet, box, rng, long_side=int(rng.choice([640, 800, 1024])))
    return img


def number_image(label, kind, rng):
    """An image of the number `label` (digits, lines split by a space) drawn as `kind`."""
    pen_ratio = rng.uniform(0.04, 0.13)
    lines = []
    for digits in label.split(" "):
        glyphs = [sheet_digits.draw_digit(int(d), rng, pen_ratio=pen_ratio)[0] for d in digits]
        if kind == "broken":
            i = rng.integers(len(glyphs))
            glyphs[i] = break_a_stroke(glyphs[i], rng, pen_ratio * 200)
        lines.append(compose(glyphs, rng, touching=kind == "touching"))
    ink = stack_lines(lines, rng) if len(lines) > 1 else lines[0]
    if kind == "ruled":
        return ruled_crop(ink, rng)
    if kind == "photo":
        return photographed(ink, rng, ruled=rng.random() < 0.3)
    return as_drawing(ink, rng)


def random_number(rng):
    """2 to 10 digits, a fifth of the time on two lines of 2 to 5 digits."""
    if rng.random() < 0.2:
        return " ".join("".join(map(str, rng.integers(0, 10, rng.integers(2, 6)))) for _ in range(2))
    return "".join(map(str, rng.integers(0, 10, rng.integers(2, 11))))


def scribble(rng):
    """A scribble: a smooth random path that loops over itself, as ink about 200 pixels high."""
    steps = int(rng.integers(60, 200))
    path = np.cumsum(rng.normal(0, 1, (steps, 2)), axis=0)
    path = np.stack([np.convolve(path[:, k], np.ones(6) / 6, mode="valid") for k in (0, 1)], axis=1)
    path = (path - path.min(axis=0)) / max(np.ptp(path, axis=0).max(), 1e-9)
    return sheet_digits.draw_strokes([list(map(tuple, path))], rng, pen_ratio=rng.uniform(0.02, 0.08))


def letters(rng):
    """One to five letters that look like no digit, as one line of ink."""
    pen_ratio = rng.uniform(0.04, 0.13)
    word = rng.choice(list(LETTERS), int(rng.integers(1, 6)))
    return compose([sheet_digits.draw_strokes(LETTERS[c], rng, pen_ratio=pen_ratio) for c in word], rng), "".join(word)


def blank(rng):
    """Nothing written: empty ink, for a blank sheet."""
    return np.zeros((200, 200))


def skimage_photo(name):
    image = getattr(data, name)()
    if image.dtype != np.uint8:  # a mask (horse, binary_blobs) or floats in [0, 1] (shepp_logan_phantom)
        image = np.round(image.astype(np.float64) * 255)
    return Image.fromarray(image.astype(np.uint8))


def other_photo(source):
    package, name = source.split(":")
    if package == "sklearn":
        from sklearn.datasets import load_sample_image

        return Image.fromarray(load_sample_image(name))
    if package == "matplotlib":
        import matplotlib.cbook

        with matplotlib.cbook.get_sample_data(name) as f:  # an open file
            return Image.open(f).convert("RGB")
    return skimage_photo(name)


def other_photos(rng, crops=2):
    """[(image, kind)]: OTHER_PHOTOS whole, then `crops` random crops of each (a third to two thirds of each side,
    as a phone frames part of a scene), then FACES of scikit-image's small faces."""
    whole = [(other_photo(source), source) for source in OTHER_PHOTOS]
    out = [(img, f"whole: {source}") for img, source in whole]
    for img, source in whole:
        for _ in range(crops):
            w, h = img.size
            cw, ch = int(w * rng.uniform(1 / 3, 2 / 3)), int(h * rng.uniform(1 / 3, 2 / 3))
            x, y = int(rng.integers(0, w - cw)), int(rng.integers(0, h - ch))
            out.append((img.crop((x, y, x + cw, y + ch)), f"crop: {source}"))
    faces = data.lfw_subset()[:FACES]
    return out + [(Image.fromarray(np.uint8(face * 255)), "face: skimage:lfw_subset") for face in faces]


def non_digit_images(count, rng):
    """[(image, kind)]: every sample photo once, then blank and ruled sheets, scribbles and letters in turn."""
    out = [(skimage_photo(name), f"photo: skimage.data.{name}") for name in PHOTOS[:count]]
    makers = [("blank", blank), ("scribble", scribble), ("letters", letters)]
    i = 0
    while len(out) < count:
        what, make = makers[i % len(makers)]
        ink = make(rng)
        if what == "letters":
            ink, word = ink
            what = f"letters {word}"
        how = ["drawing", "ruled", "photo"][(i // len(makers)) % 3]
        if what == "blank" and how == "drawing":
            img = Image.fromarray(np.uint8(255 * np.clip(rng.uniform(0.85, 1) + rng.normal(0, 0.01, (300, 400)), 0, 1)))
        elif how == "drawing":
            img = as_drawing(ink, rng)
        elif how == "ruled":
            img = ruled_crop(ink, rng)
        else:
            img = photographed(ink, rng)
        out.append((img, f"{what}, {how}"))
        i += 1
    return out[:count]


NUMBER_KINDS = ["drawing", "touching", "broken", "ruled", "photo"]


def save(img, folder, name):
    """The image as PNG (drawings, crops) or JPEG (photos); returns the file's name."""
    img = img.convert("RGB") if img.mode not in ("L", "RGB") else img
    file = f"{name}.jpg" if img.mode == "RGB" and max(img.size) >= 640 else f"{name}.png"
    img.save(os.path.join(folder, file), quality=88)
    return file


def write_labels(folder, rows):
    with open(os.path.join(folder, "labels.csv"), "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["file", "label", "kind"])
        writer.writerows(rows)


def write_sets(folder, numbers=200, non_digits=120, seed=0):
    """Both sets under folder/numbers and folder/non_digits; returns their two folders."""
    rng = np.random.default_rng(seed)
    number_dir, non_digit_dir = os.path.join(folder, "numbers"), os.path.join(folder, "non_digits")
    os.makedirs(number_dir, exist_ok=True)
    os.makedirs(non_digit_dir, exist_ok=True)
    rows = []
    for i in range(numbers):
        label, kind = random_number(rng), NUMBER_KINDS[i % len(NUMBER_KINDS)]
        rows.append((save(number_image(label, kind, rng), number_dir, f"number_{i:04d}"), label,
                     kind + (", two lines" if " " in label else "")))
    write_labels(number_dir, rows)
    rows = [(save(img, non_digit_dir, f"non_digit_{i:04d}"), "", kind)
            for i, (img, kind) in enumerate(non_digit_images(non_digits, rng))]
    write_labels(non_digit_dir, rows)
    return number_dir, non_digit_dir


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.number_sets", description=__doc__.splitlines()[0])
    parser.add_argument("folder", metavar="OUT_DIR", nargs="?", help="where to write (default: a new temporary folder)")
    parser.add_argument("--numbers", type=int, default=200, help="images of numbers (default: 200)")
    parser.add_argument("--non-digits", type=int, default=120, help="images with no digit (default: 120)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    folder = args.folder or tempfile.mkdtemp(prefix="number_sets_")
    write_sets(folder, args.numbers, args.non_digits, args.seed)
    print(f"wrote {args.numbers} numbers and {args.non_digits} non-digits to {folder}")


if __name__ == "__main__":
    main()
