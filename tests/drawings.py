"""Test images drawn with Pillow: a 7 with a pen, a sheet with a 7 on it, the sheet on a desk.

Shared by tests/test_predict.py and tests/pinned_digits.py (which also runs in a checkout
without the handwriting package, to pin what an older version gives): Pillow, NumPy and
bench/sheet_digits.py only.
"""
import importlib.util
import os

import numpy as np
from PIL import Image, ImageDraw

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_sheet_digits():
    """bench/sheet_digits.py, loaded by its path (whether or not bench/ is a package)."""
    spec = importlib.util.spec_from_file_location("sheet_digits", os.path.join(REPO, "bench", "sheet_digits.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


sheet_digits = load_sheet_digits()


def draw_seven(size=(200, 200), box=(40, 30, 160, 170), width=12, ink=0, paper=255, mode="L"):
    """A '7' drawn with a pen: a top bar and a slanted stem."""
    img = Image.new(mode, size, paper)
    x0, y0, x1, y1 = box
    ImageDraw.Draw(img).line([(x0, y0), (x1, y0), (x0 + (x1 - x0) // 3, y1)], fill=ink, width=width)
    return img


SHEET_CORNERS = [(170, 60), (450, 90), (430, 440), (150, 400)]  # where on_desk lays the sheet's corners


def on_desk(sheet, size=(640, 480), desk=70):
    """A grayscale sheet (PIL "L") laid in perspective on a darker desk; returns the photo."""
    w, h = sheet.size
    coefficients = sheet_digits.perspective_coefficients([(0, 0), (w, 0), (w, h), (0, h)], SHEET_CORNERS)
    rng = np.random.default_rng(0)
    grain = np.clip(desk + rng.normal(0, 6, size[::-1]), 0, 255).astype(np.uint8)
    warped = sheet.transform(size, Image.PERSPECTIVE, coefficients, Image.BILINEAR)
    mask = Image.new("L", sheet.size, 255).transform(size, Image.PERSPECTIVE, coefficients, Image.BILINEAR)
    return Image.composite(warped, Image.fromarray(grain), mask)


def seven_sheet(ink=30, paper=225, width=8, ruled=None):
    """A 300x400 sheet with a small 7 on it (box 110..190 x 150..260), and ruled lines of shade `ruled`."""
    sheet = Image.new("L", (300, 400), paper)
    draw = ImageDraw.Draw(sheet)
    if ruled is not None:
        for y in range(30, 400, 28):
            draw.line([(0, y), (300, y)], fill=ruled, width=2)
    draw.line([(110, 150), (190, 150), (137, 260)], fill=ink, width=width)
    return sheet


def grainy_pencil_seven(paper=170):
    """seven_sheet's 7 in faint, grainy pencil: graphite covers 60-100% of each pixel of the stroke."""
    rng = np.random.default_rng(2)
    stroke = np.asarray(seven_sheet(ink=0, paper=255, width=6), np.float64) < 128
    strength = 0.35 * rng.uniform(0.6, 1.0, stroke.shape)  # a light hand: 35% of the way to graphite grey
    return Image.fromarray(np.uint8(paper * (1 - 0.65 * strength * stroke)))


def under_uneven_light(photo):
    """A photo (PIL) as grayscale in [0, 1], 40% darker towards one corner, with a little sensor noise."""
    photo = np.asarray(photo, np.float64) / 255
    yy, xx = np.mgrid[0:1:photo.shape[0] * 1j, 0:1:photo.shape[1] * 1j]
    return np.clip(photo * (1 - 0.4 * (xx + yy) / 2) + np.random.default_rng(3).normal(0, 0.01, photo.shape), 0, 1)
