"""Folders of labelled images of digits: a labels.csv beside them (columns file,label; others ignored), or
else each file's name, <label>_anything.png. Read by evaluate_final.py --images and bench.digits_accuracy."""
import csv
import os
import re

from handwriting.decode import IMAGE_EXTENSIONS
from plumbing.cli import UserError

LABELS_CSV = "labels.csv"
LABEL_IN_NAME = re.compile(r"^([0-9])_")  # 7_mine.png is a 7


def labelled_images(folder):
    """([(path, label)], [unlabelled paths]) of the images in `folder`: from its labels.csv (file,label), else
    from the file names (then the images named otherwise are the unlabelled ones)."""
    if not os.path.isdir(folder):
        raise UserError(f"{folder}: no such folder")
    labels_csv = os.path.join(folder, LABELS_CSV)
    if os.path.isfile(labels_csv):
        return read_labels_csv(labels_csv), []
    images = sorted(name for name in os.listdir(folder) if name.lower().endswith(IMAGE_EXTENSIONS))
    labelled = [(os.path.join(folder, name), int(LABEL_IN_NAME.match(name).group(1)))
                for name in images if LABEL_IN_NAME.match(name)]
    if not labelled:
        raise UserError(f"{folder}: no labels: no {LABELS_CSV} (columns file,label) and no image named "
                        "<label>_anything.png")
    return labelled, [os.path.join(folder, name) for name in images if not LABEL_IN_NAME.match(name)]


def read_labels_csv(path):
    """[(path, label)] of a labels.csv, each file beside it; a one-line UserError for what is wrong in it."""
    folder = os.path.dirname(path)
    try:
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise UserError(f"{path}: not a readable CSV file ({e})")
    if not rows or not {"file", "label"} <= rows[0].keys():
        raise UserError(f"{path}: needs the columns file,label and at least one row")
    labelled = []
    for line, row in enumerate(rows, start=2):
        label, name = (row["label"] or "").strip(), (row["file"] or "").strip()
        if not re.fullmatch(r"[0-9]", label):
            raise UserError(f"{path}: line {line}: label {label!r} is not a digit 0-9")
        if not os.path.isfile(os.path.join(folder, name)):
            raise UserError(f"{path}: line {line}: {name!r} not found in {folder}")
        labelled.append((os.path.join(folder, name), int(label)))
    return labelled
