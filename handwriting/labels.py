"""Folders of labelled images: a labels.csv beside them (columns file,label; others ignored), or else each
file's name, <label>_anything.png. A label is what a person reads: the digits of a number, its lines joined by
one space ("45 78"), or empty for an image with no digit (none_anything.png). Read by evaluate_final.py --images
and the benchmarks; score() lines a number read up with its label."""
import csv
import difflib
import os
import re

from handwriting.decode import IMAGE_EXTENSIONS
from plumbing.cli import UserError

LABELS_CSV = "labels.csv"
LABEL_IN_NAME = re.compile(r"^([0-9]+|none)_")  # 7_mine.png is a 7, 2026_door.jpg 2026, none_cat.jpg no digit
LABEL = re.compile(r"([0-9]+( [0-9]+)*)?")  # digits, lines joined by one space; empty: no digit


def label_in_name(name):
    """The label a file's name gives ("7", "2026", "" for none_...), or None when it gives none."""
    match = LABEL_IN_NAME.match(name)
    return None if match is None else "" if match.group(1) == "none" else match.group(1)


def score(label, number):
    """(digits read right, digits answered "?" or no digit) of a number read against its label: lined up digit
    by digit (difflib, spaces left out), a digit is right where the two match."""
    truth, read = label.replace(" ", ""), number.replace(" ", "")
    if not read:
        return 0, len(truth)
    right = unsure = 0
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, truth, read, autojunk=False).get_opcodes():
        if op == "equal":
            right += i2 - i1
        elif op == "replace":
            unsure += min(i2 - i1, read[j1:j2].count("?"))
    return right, unsure


def labelled_images(folder):
    """([(path, label)], [unlabelled paths]) of the images in `folder`: from its labels.csv (file,label), else
    from the file names (then the images named otherwise are the unlabelled ones)."""
    if not os.path.isdir(folder):
        raise UserError(f"{folder}: no such folder")
    labels_csv = os.path.join(folder, LABELS_CSV)
    if os.path.isfile(labels_csv):
        return read_labels_csv(labels_csv), []
    images = sorted(name for name in os.listdir(folder) if name.lower().endswith(IMAGE_EXTENSIONS))
    labelled = [(os.path.join(folder, name), label_in_name(name)) for name in images
                if label_in_name(name) is not None]
    if not labelled:
        raise UserError(f"{folder}: no labels: no {LABELS_CSV} (columns file,label) and no image named "
                        "<label>_anything.png")
    return labelled, [os.path.join(folder, name) for name in images if label_in_name(name) is None]


def read_labels_csv(path):
    """[(path, label)] of a labels.csv, each file beside it (label a string, as LABEL); a one-line UserError
    for what is wrong in it."""
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
        if not LABEL.fullmatch(label):
            raise UserError(f"{path}: line {line}: label {label!r} is not digits (lines joined by one space) "
                            "or empty")
        if not os.path.isfile(os.path.join(folder, name)):
            raise UserError(f"{path}: line {line}: {name!r} not found in {folder}")
        labelled.append((os.path.join(folder, name), label))
    return labelled
