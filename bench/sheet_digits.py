"""A synthetic set of photos of handwritten digits on a sheet of paper lying on a desk.

    python -m bench.sheet_digits OUT_DIR [--count 600] [--seed 0] [--size 800]

Writes OUT_DIR/*.jpg and OUT_DIR/labels.csv (file,label,source), the layout
bench/digits_accuracy.py --set reads. Each digit is drawn with Pillow from
stroke templates (not taken from MNIST or any data set), jittered, slanted
and rotated, with a ballpoint, a marker or a faint pencil; 1s are drawn plain,
with a flag, or with a flag and a base, 7s with or without a cross bar. The
sheet (white or grey, some ruled, with texture) lies in perspective on a
darker desk, plain or cluttered, under a shadow; some photos are close-ups of
the sheet alone, and some are stored sideways with an EXIF orientation tag.
The same seed gives the same files.

This is a synthetic stand-in for real photos: it shows the cases, it does not
measure how people write.
"""
import argparse
import csv
import io
import os

import numpy as np
from PIL import Image, ImageDraw, ImageFilter
from scipy import ndimage

from plumbing import cli

EXIF_ORIENTATION = 0x0112


def arc(cx, cy, rx, ry, start, end, steps=24):
    """Points along an ellipse from angle start to end (degrees, y down: 270 is the top)."""
    a = np.radians(np.linspace(start, end, steps))
    return list(zip(cx + rx * np.cos(a), cy + ry * np.sin(a)))


# Each digit's styles, each a list of pen strokes in a box 1 wide and 1 high (x right, y down).
TEMPLATES = {
    0: [[arc(0.5, 0.5, 0.32, 0.5, 0, 360)]],
    1: [[[(0.55, 0), (0.5, 1)]],                                        # plain
        [[(0.2, 0.3), (0.55, 0), (0.5, 1)]],                            # with a flag
        [[(0.2, 0.3), (0.55, 0), (0.5, 1)], [(0.2, 1), (0.8, 1)]]],     # flag and base
    2: [[arc(0.5, 0.3, 0.33, 0.3, 200, 390) + [(0.12, 1), (0.9, 1)]]],
    3: [[arc(0.5, 0.26, 0.3, 0.26, 200, 450) + arc(0.5, 0.74, 0.34, 0.26, 270, 520)]],
    4: [[[(0.6, 0), (0.08, 0.66), (0.92, 0.66)], [(0.68, 0.3), (0.68, 1)]]],
    5: [[[(0.82, 0), (0.3, 0), (0.25, 0.46)] + arc(0.5, 0.69, 0.33, 0.31, 220, 500)]],
    6: [[[(0.78, 0.02), (0.5, 0.1), (0.3, 0.33), (0.19, 0.66)] + arc(0.5, 0.72, 0.31, 0.28, 180, 540)]],
    7: [[[(0.1, 0), (0.9, 0), (0.38, 1)]],
        [[(0.1, 0), (0.9, 0), (0.38, 1)], [(0.4, 0.5), (0.82, 0.5)]]],  # with a cross bar
    8: [[arc(0.5, 0.25, 0.26, 0.25, 90, 450), arc(0.5, 0.73, 0.32, 0.27, 270, 630)]],
    9: [[arc(0.48, 0.28, 0.3, 0.28, 0, 360), [(0.78, 0.28), (0.72, 1)]]],
}


def style_name(digit, style):
    names = {1: ["plain", "flag", "flag and base"], 7: ["plain", "cross bar"]}
    return names.get(digit, [""])[style]


def draw_digit(digit, rng, height=200, style=None, pen_ratio=None):
    """A handwritten-looking digit as ink coverage in [0, 1] (float array), and its style index."""
    styles = TEMPLATES[digit]
    style = int(rng.integers(len(styles))) if style is None else style
    return draw_strokes(styles[style], rng, height, pen_ratio), style


def draw_strokes(strokes, rng, height=200, pen_ratio=None):
    """Pen strokes in a box 1 wide and 1 high (TEMPLATES' layout) as ink coverage in [0, 1], cropped to the ink.

    The strokes are jittered, the glyph slanted, rotated and narrowed at random,
    drawn with a pen between 3% and 14% of its height wide (or pen_ratio of it).
    """
    width_ratio = rng.uniform(0.55, 0.85)
    slant, angle = rng.uniform(-0.3, 0.2), np.radians(rng.uniform(-8, 8))
    pen = max(1, round(height * (rng.uniform(0.03, 0.14) if pen_ratio is None else pen_ratio)))
    rotate = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    margin = pen + height // 4
    size = height + 2 * margin
    canvas = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(canvas)
    for stroke in strokes:
        wobble = rng.normal(0, 0.025, (len(stroke), 2))
        if len(stroke) > 4:  # curves wobble smoothly, not point by point
            wobble = ndimage.gaussian_filter1d(wobble, 3, axis=0, mode="nearest") * 2.5
        p = np.asarray(stroke, float) + wobble
        p = np.stack([(p[:, 0] - 0.5) * width_ratio - slant * (p[:, 1] - 0.5), p[:, 1] - 0.5], axis=1)
        p = p @ rotate.T * height + size / 2
        draw.line([tuple(q) for q in p], fill=255, width=pen, joint="curve")
    ink = np.asarray(canvas, np.float64) / 255
    ys, xs = np.nonzero(ink)
    return ink[ys.min():ys.max() + 1, xs.min():xs.max() + 1]


def perspective_coefficients(src, dst):
    """Pillow's PERSPECTIVE coefficients mapping output points dst to input points src."""
    rows, rhs = [], []
    for (x, y), (u, v) in zip(dst, src):
        rows += [[x, y, 1, 0, 0, 0, -u * x, -u * y], [0, 0, 0, x, y, 1, -v * x, -v * y]]
        rhs += [u, v]
    return np.linalg.solve(np.asarray(rows, float), np.asarray(rhs, float))


def smooth_noise(rng, shape, scale):
    """Noise with features about `scale` pixels wide, in [-1, 1]."""
    small = rng.uniform(-1, 1, (max(2, shape[0] // scale), max(2, shape[1] // scale)))
    img = Image.fromarray(small.astype(np.float32), "F").resize(shape[::-1], Image.BICUBIC)
    return np.clip(np.asarray(img, np.float64), -1, 1)


def make_sheet(digit_ink, rng, pen, paper_shade, ruled, size=(700, 990)):
    """An RGB sheet (float, [0, 1]) with the digit written on it, small, somewhere away from the
    edges, and the digit's box (left, top, width, height)."""
    w, h = size
    paper = paper_shade * (1 + 0.015 * smooth_noise(rng, (h, w), 40)) + rng.normal(0, 0.015, (h, w))
    rgb = np.repeat(paper[..., None], 3, axis=2) * np.array([1.0, 0.99, 0.96])  # a slightly warm white
    if ruled:
        step = int(rng.integers(30, 45))
        line_colour = np.array([0.55, 0.7, 0.95]) * paper_shade
        for y in range(int(rng.integers(40, 80)), h, step):
            rgb[y:y + 2] = rgb[y:y + 2] * 0.35 + line_colour * 0.65
    # the digit: 12% to 30% of the sheet's height
    digit_h = int(h * rng.uniform(0.12, 0.3))
    ink = Image.fromarray((digit_ink * 255).astype(np.uint8)).resize(
        (max(1, round(digit_ink.shape[1] * digit_h / digit_ink.shape[0])), digit_h), Image.BILINEAR)
    ink = np.asarray(ink, np.float64) / 255
    dh, dw = ink.shape
    top = int(rng.integers(h // 8, h - h // 8 - dh))
    left = int(rng.integers(w // 8, max(w // 8 + 1, w - w // 8 - dw)))
    if pen == "pencil":  # grey graphite, grainy and faint
        colour, strength = np.array([0.35, 0.35, 0.37]), rng.uniform(0.25, 0.5)
        ink = ink * np.clip(rng.uniform(0.6, 1.0, ink.shape), 0, 1)
    elif pen == "ballpoint":
        colour, strength = [np.array([0.1, 0.12, 0.45]), np.array([0.08, 0.08, 0.1])][int(rng.integers(2))], 0.9
    else:  # marker
        colour, strength = np.array([0.05, 0.05, 0.05]), 1.0
    region = rgb[top:top + dh, left:left + dw]
    alpha = (ink * strength)[..., None]
    rgb[top:top + dh, left:left + dw] = region * (1 - alpha) + colour * paper_shade * alpha
    return np.clip(rgb, 0, 1), (left, top, dw, dh)


def make_desk(rng, shape, cluttered):
    """A desk darker than paper: wood, grey or dark blue, with grain, and objects on it if cluttered."""
    h, w = shape
    base = [np.array([0.45, 0.3, 0.18]), np.array([0.3, 0.3, 0.3]), np.array([0.15, 0.18, 0.28]),
            np.array([0.55, 0.45, 0.35])][int(rng.integers(4))]
    grain = 0.08 * smooth_noise(rng, (h, w // 8 + 1), 6).repeat(8, axis=1)[:, :w]
    desk = base * (1 + grain[..., None] + 0.05 * smooth_noise(rng, shape, 60)[..., None])
    if cluttered:
        img = Image.fromarray((np.clip(desk, 0, 1) * 255).astype(np.uint8))
        draw = ImageDraw.Draw(img)
        for _ in range(int(rng.integers(2, 6))):
            x, y = rng.integers(0, w), rng.integers(0, h)
            dx, dy = rng.integers(20, w // 3), rng.integers(10, h // 3)
            fill = tuple(int(c) for c in rng.integers(0, 256, 3))
            if rng.random() < 0.5:
                draw.ellipse([x, y, x + dx, y + dy], fill=fill)
            else:  # a pen or a ruler
                draw.line([(x, y), (x + dx, y + dy // 4)], fill=fill, width=int(rng.integers(4, 14)))
        desk = np.asarray(img, np.float64) / 255
    return np.clip(desk, 0, 1)


def sheet_photo(digit, rng, long_side=800, style=None):
    """A photo (PIL RGB image, upright) of `digit` on a sheet, and a description of how it was made."""
    pen = ["ballpoint", "marker", "pencil"][int(rng.choice(3, p=[0.45, 0.2, 0.35]))]
    paper_shade = rng.uniform(0.6, 0.8) if pen == "pencil" and rng.random() < 0.6 else rng.uniform(0.8, 0.97)
    ruled = rng.random() < 0.35
    digit_ink, style = draw_digit(digit, rng, style=style)
    sheet, box = make_sheet(digit_ink, rng, pen, paper_shade, ruled)
    img, where = photograph(sheet, box, rng, long_side)
    description = f"{pen} on {'grey' if paper_shade < 0.8 else 'white'}{' ruled' if ruled else ''} paper, {where}"
    if style_name(digit, style):
        description += f", {style_name(digit, style)}"
    return img, description


def photograph(sheet, box, rng, long_side=800):
    """A photo (PIL RGB image) of a sheet (make_sheet's) whose writing is in box (left, top, width, height):
    a close-up or the sheet in perspective on a desk, under uneven light; and where it was taken."""
    portrait = rng.random() < 0.5
    w, h = (long_side * 3 // 4, long_side) if portrait else (long_side, long_side * 3 // 4)
    sh, sw = sheet.shape[:2]
    close_up = rng.random() < 0.15 and box[2] + 100 < min(sw, sh * w / h)  # a close-up holds all the writing
    cluttered = rng.random() < 0.4
    if close_up:
        rgb, where = close_up_of(sheet, box, rng, (w, h)), "close-up of the sheet"
    else:
        rgb, where = sheet_on_a_desk(sheet, rng, (w, h), cluttered), "sheet on a " + ("cluttered desk" if cluttered
                                                                                      else "desk")
    rgb = under_uneven_light(rgb, rng)
    img = Image.fromarray((np.clip(rgb, 0, 1) * 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(0.6))
    return img, where


def close_up_of(sheet, box, rng, size):
    """The sheet filling the frame (w, h): a crop of it holding the writing, a little rotated; RGB in [0, 1]."""
    (left, top, dw, dh), (w, h), (sh, sw) = box, size, sheet.shape[:2]
    photo = Image.fromarray((sheet * 255).astype(np.uint8)).rotate(
        rng.uniform(-5, 5), Image.BICUBIC, expand=False, fillcolor=tuple(int(c) for c in sheet[sh // 2, 5] * 255))
    crop_h = min(sh, max(int(dh * 1.6) + 100, int(sh * rng.uniform(0.45, 0.75)),
                         -(-(dw + 101) * h // w)))  # wide enough for a long number
    crop_w = min(sw, int(crop_h * w / h))
    margin = 50  # the digit stays in the frame, whatever the small rotation did to it
    x0 = int(rng.uniform(max(0, left + dw + margin - crop_w), max(0, min(left - margin, sw - crop_w)) + 1))
    y0 = int(rng.uniform(max(0, top + dh + margin - crop_h), max(0, min(top - margin, sh - crop_h)) + 1))
    photo = photo.crop((x0, y0, x0 + crop_w, y0 + crop_h)).resize((w, h), Image.BILINEAR)
    return np.asarray(photo, np.float64) / 255


def sheet_on_a_desk(sheet, rng, size, cluttered):
    """The sheet in perspective on a desk, covering 25% to 70% of the frame (w, h); RGB in [0, 1]."""
    (w, h), (sh, sw) = size, sheet.shape[:2]
    sheet_img = Image.fromarray((sheet * 255).astype(np.uint8))
    cover = rng.uniform(0.5, 0.85)
    ch, cw = h * cover, h * cover * sw / sh
    if cw > w * 0.9:
        ch, cw = ch * w * 0.9 / cw, w * 0.9
    cx, cy = w / 2 + rng.uniform(-0.1, 0.1) * w, h / 2 + rng.uniform(-0.1, 0.1) * h
    corners = np.array([[-cw / 2, -ch / 2], [cw / 2, -ch / 2], [cw / 2, ch / 2], [-cw / 2, ch / 2]])
    corners *= 1 + rng.uniform(-0.12, 0.12, (4, 1))  # perspective: corners nearer and farther
    a = np.radians(rng.uniform(-25, 25))
    corners = corners @ np.array([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]]) + [cx, cy]
    coefficients = perspective_coefficients([(0, 0), (sw, 0), (sw, sh), (0, sh)], corners)
    warped = sheet_img.transform((w, h), Image.PERSPECTIVE, coefficients, Image.BILINEAR)
    mask = Image.new("L", (sw, sh), 255).transform((w, h), Image.PERSPECTIVE, coefficients, Image.BILINEAR)
    desk = Image.fromarray((make_desk(rng, (h, w), cluttered) * 255).astype(np.uint8))
    return np.asarray(Image.composite(warped, desk, mask), np.float64) / 255


def under_uneven_light(rgb, rng):
    """Light from one side: a shadow gradient, sometimes a soft shadow (a hand, a phone); and sensor noise."""
    h, w = rgb.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    d = np.radians(rng.uniform(0, 360))
    light = 1 - rng.uniform(0.1, 0.4) * (np.cos(d) * xx + np.sin(d) * yy - min(0, np.cos(d)) - min(0, np.sin(d)))
    if rng.random() < 0.3:
        light *= 1 - 0.25 * (smooth_noise(rng, (h, w), max(h, w) // 3) > 0.3)
        light = ndimage.gaussian_filter(light, 15)
    return rgb * light[..., None] + rng.normal(0, 0.012, rgb.shape)


def jpeg_bytes(img, orientation=1):
    """JPEG file bytes; with orientation 6 or 8 the pixels are stored sideways and tagged so."""
    exif = Image.Exif()
    if orientation == 6:  # a viewer turns it 90 degrees clockwise
        img = img.transpose(Image.Transpose.ROTATE_90)
    elif orientation == 8:  # a viewer turns it 90 degrees anticlockwise
        img = img.transpose(Image.Transpose.ROTATE_270)
    exif[EXIF_ORIENTATION] = orientation
    buffer = io.BytesIO()
    img.save(buffer, "JPEG", quality=88, exif=exif)
    return buffer.getvalue()


def write_set(folder, count, seed=0, long_side=800):
    """`count` photos, the ten digits in turn, and labels.csv; returns [(path, label, description)]."""
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(count):
        digit = i % 10
        img, description = sheet_photo(digit, rng, long_side)
        orientation = int(rng.choice([1, 6, 8], p=[0.7, 0.15, 0.15]))
        if orientation != 1:
            description += f", stored sideways (EXIF orientation {orientation})"
        name = f"sheet_{i:04d}_{digit}.jpg"
        with open(os.path.join(folder, name), "wb") as f:
            f.write(jpeg_bytes(img, orientation))
        rows.append((os.path.join(folder, name), digit, description))
    with open(os.path.join(folder, "labels.csv"), "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["file", "label", "source"])
        writer.writerows((os.path.basename(p), d, s) for p, d, s in rows)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.sheet_digits", description=__doc__.splitlines()[0])
    parser.add_argument("folder", metavar="OUT_DIR")
    parser.add_argument("--count", type=int, default=600, help="number of photos (default: 600)")
    cli.add_flag(parser, "seed", default=0)
    parser.add_argument("--size", type=int, default=800, help="long side of each photo in pixels (default: 800)")
    args = parser.parse_args(argv)
    rows = write_set(args.folder, args.count, args.seed, args.size)
    print(f"wrote {len(rows)} photos and labels.csv to {args.folder}")


if __name__ == "__main__":
    main()
