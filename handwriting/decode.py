"""Decoding image files: the first frame, in full, within Pillow's size limit, every failure a one-line
UserError naming the file; then grayscale in [0, 1], EXIF orientation applied, 16-bit kept 16-bit."""
import io
import os
import threading
import warnings

import numpy as np
from PIL import Image, ImageOps
from skimage.util import img_as_float

from plumbing.cli import TooLarge, UserError

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp")


def open_image(path):
    """Open an image file fully (first frame of an animation) or raise a one-line UserError."""
    if not os.path.exists(path):
        raise UserError(f"{path}: no such file")
    if os.path.getsize(path) == 0:
        raise UserError(f"{path}: empty file")
    return decode_image(path, path)


def open_image_bytes(data, name="image"):
    """open_image() for an image file's bytes (predict_web.py's request bodies)."""
    if not data:
        raise UserError(f"{name}: empty file")
    return decode_image(io.BytesIO(data), name)


# warnings.catch_warnings() changes global state: one decode at a time, so a
# server's threads cannot undo each other's decompression-bomb check.
decode_lock = threading.Lock()


def decode_image(source, name):
    """Image.open(source) decoded in full, every failure a one-line UserError naming `name`."""
    try:
        with decode_lock, warnings.catch_warnings():
            # Pillow only warns between its limit and twice its limit; refuse both.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(source)
            img.seek(0)
            img.load()  # decode now, so a truncated file fails here and not later
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise TooLarge(f"{name}: image too large (over Pillow's limit of "
                        f"{Image.MAX_IMAGE_PIXELS} pixels, a possible decompression bomb)")
    except Image.UnidentifiedImageError:
        raise UserError(f"{name}: not an image file Pillow can read")
    except Exception as e:  # truncated data, broken chunks, bad headers...
        raise UserError(f"{name}: broken or truncated image ({e})".replace("\n", " "))
    return img


def grayscale(img):
    """Any Pillow image as a float array in [0, 1]; transparency is composited onto white paper."""
    img = ImageOps.exif_transpose(img)  # phone photos are often stored sideways
    if img.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        a = np.asarray(img, dtype=np.float64)  # 16-bit and float images: scale by their own range
        if img.mode == "F":
            top = max(a.max(), 1.0)
        else:
            top = 65535.0 if a.max() > 255 else 255.0
        return np.clip(a / top, 0, 1)
    if img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info:
        rgba = img.convert("RGBA")
        img = Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba)
    return img_as_float(np.asarray(img.convert("RGB").convert("L")))


def expand_paths(paths):
    """Files as given; directories as the image files in them. Returns (files, errors)."""
    files, errors = [], []
    for path in paths:
        if os.path.isdir(path):
            found = sorted(os.path.join(path, f) for f in os.listdir(path)
                           if f.lower().endswith(IMAGE_EXTENSIONS) and os.path.isfile(os.path.join(path, f)))
            files += found
            if not found:
                errors.append(f"{path}: no images in this directory ({' '.join(IMAGE_EXTENSIONS)})")
        else:
            files.append(path)
    return files, errors


def plain_resize(img):
    """The tutorial's load_image(): grayscale, resize to 28x28, scale to [0, 1] (predict_image.py --raw)."""
    return np.asarray(img.convert("L").resize((28, 28), Image.NEAREST), np.float32) / 255.0
