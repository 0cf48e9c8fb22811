"""A pinned set of images and the 28x28 digits the reading pipeline gave for them at commit caa491e
(before it became the handwriting package), so that a change meant to keep results can show it does.

tests/pinned_digits.npz was written by caa491e's predict_image.py, from a checkout of that commit, with
this folder on the path:

    cd CAA491E_CHECKOUT && python -c 'import sys; sys.path.insert(0, "THIS_REPO/tests"); import predict_image, \
        pinned_digits; pinned_digits.write_pins(predict_image.load_image_bytes, predict_image.to_mnist)'

Every input is made here from Pillow drawings, bench/sheet_digits.py (seeded) and scikit-learn's
load_digits, so nothing but the small .npz is committed. Each input's SHA-256 is pinned beside its
digit: when an input changes (a new Pillow or libjpeg encodes a JPEG differently, sheet_digits
draws differently), the test says so rather than blaming the pipeline.

Changed on purpose since: "grainy pencil on a desk, uneven light", re-pinned when a ruled line had to be
inked along half its length (the Hough transform had joined the paper's grain into "lines" and erased them).
"""
import hashlib
import io
import os

import numpy as np
from PIL import Image

from drawings import (REPO, draw_seven, grainy_pencil_seven, on_desk, seven_sheet, sheet_digits,
                      under_uneven_light)

PINS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pinned_digits.npz")

# bench/sheet_digits.py photos (800 pixels, as in its set) by seed: which kinds each covers
SHEET_SEEDS = {
    0: "marker on white ruled paper, sheet on a desk",
    2: "ballpoint on white paper, close-up of the sheet, stored sideways (EXIF 6)",
    3: "ballpoint on white paper, sheet on a desk, stored sideways (EXIF 6)",
    4: "pencil on grey ruled paper, sheet on a cluttered desk, stored sideways (EXIF 8)",
    7: "marker on white paper, sheet on a cluttered desk, cross bar",
    9: "pencil on grey paper, sheet on a desk",
    28: "pencil on white ruled paper, close-up of the sheet",
    33: "ballpoint on white paper, sheet on a desk",
}
LOAD_DIGITS = [0, 1, 7, 11, 42]  # indices into scikit-learn's load_digits, drawn at 112x112 bilinear


def png(img):
    buffer = io.BytesIO()
    img.save(buffer, "PNG")
    return buffer.getvalue()


def sheet_photo_jpeg(seed):
    """One photo as bench/sheet_digits.write_set makes them (digit = seed % 10), as JPEG file bytes."""
    rng = np.random.default_rng(seed)
    img, _ = sheet_digits.sheet_photo(seed % 10, rng)
    return sheet_digits.jpeg_bytes(img, int(rng.choice([1, 6, 8], p=[0.7, 0.15, 0.15])))


def load_digits_render(index, size=112):
    """As bench/digits_accuracy.py draws them: dark on white, resized bilinearly, grayscale in [0, 1]."""
    from sklearn.datasets import load_digits
    d = load_digits().images[index]
    img = Image.fromarray(np.uint8(255 - d * 255 / 16), "L").resize((size, size), Image.BILINEAR)
    return np.asarray(img, np.float64) / 255


def inputs():
    """{name: image file bytes, or a grayscale float array in [0, 1]}: the images with a digit in them."""
    with open(os.path.join(REPO, "sample_image.png"), "rb") as f:
        images = {"sample_image.png": f.read()}
    images.update({
        "drawn 7": png(draw_seven()),
        "drawn 7, white on black": png(draw_seven(ink=255, paper=0)),
        "drawn 7, tiny 1-pixel pen": png(draw_seven(size=(12, 12), box=(2, 2, 9, 10), width=1)),
        "drawn 7, thin pen, 600 px": png(draw_seven(size=(600, 600), box=(100, 100, 500, 500), width=2)),
        "drawn 7, off-centre, small": png(draw_seven(size=(400, 300), box=(300, 200, 360, 280), width=6)),
        "sheet on a desk": png(on_desk(seven_sheet())),
        "faint pencil on ruled paper on a desk": png(on_desk(seven_sheet(ink=120, paper=200, width=4, ruled=140))),
        "grainy pencil on a desk, uneven light": under_uneven_light(on_desk(grainy_pencil_seven())),
        "grainy pencil close-up, uneven light": under_uneven_light(grainy_pencil_seven().resize((480, 640))),
    })
    images.update({f"sheet_digits seed {seed}: {kind}": sheet_photo_jpeg(seed) for seed, kind in SHEET_SEEDS.items()})
    images.update({f"load_digits[{i}] 112 bilinear": load_digits_render(i) for i in LOAD_DIGITS})
    return images


def blank_inputs():
    """{name: image file bytes} with no digit in them: "no digit found"."""
    return {"blank white": png(Image.new("L", (64, 64), 255)), "blank grey": png(Image.new("L", (64, 64), 128)),
            "blank black": png(Image.new("L", (300, 300), 0)),
            "blank sheet on a desk": png(on_desk(seven_sheet(ink=225)))}


def sha256(image):
    return hashlib.sha256(image if isinstance(image, bytes) else image.tobytes()).hexdigest()


def read(image, read_bytes, to_mnist):
    """The (28, 28) float32 digit for file bytes (read_bytes) or a grayscale array (to_mnist)."""
    digit = read_bytes(image, "pinned") if isinstance(image, bytes) else to_mnist(image)
    return np.asarray(digit, np.float32).reshape(28, 28)


def write_pins(read_bytes, to_mnist, path=PINS):
    images = inputs()
    digits = np.stack([read(image, read_bytes, to_mnist) for image in images.values()])
    np.savez_compressed(path, names=np.array(list(images)), sha256=np.array([sha256(i) for i in images.values()]),
                        digits=digits, blank_names=np.array(list(blank_inputs())))
    print(f"wrote {len(images)} digits to {path}")
