"""How well the reader does on every real set in ../shared, on the part tuned on and the part only confirmed on.

    python -m bench.real_sets --model final_model_handwriting.h5 [--model other.h5] [--rapidocr] [--out F.json]

Reads every image as predict_image.py does (handwriting.find_digits, then
handwriting.read_numbers) and prints, per model, one table with the tuning
part and the confirming part side by side: numbers read exactly (photos,
drawings, scans), single digits read right, real digits answered "no digit"
or "?", non-digits answered "no digit" (letters, doodles, photos); then the
worst sources of each part. --rapidocr reads the same images with RapidOCR
(`pip install rapidocr onnxruntime`: PaddleOCR's text detection and
recognition as ONNX, a general OCR engine), keeping the digits of each text
line it finds, lines top to bottom joined by a space, for comparison.

The split is fixed, by source, before any figure was looked at: the first
development sets (real_digits, real_numbers: tuned on for rounds, they have
no source column) are tuning; every other image goes by its source tag (the
repository, without its commit and path): confirming when the SHA-256 of
the tag is odd, tuning when even. A setting is kept only if it holds on the
confirming part (docs/own_images.md).
"""
import argparse
import collections
import csv
import datetime
import hashlib
import os

import plumbing.quiet  # noqa: F401  (before Keras: TensorFlow starts without its C++ notes)

import handwriting
from network import saved_model
from plumbing import cli, files
from plumbing.progress import cpu_name

SHARED = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared"))
# (folder, what its images show): "number" (label: digits, lines joined by a space), "digit" (one digit), "none"
SETS = [("real_numbers", "number"), ("real_numbers_2", "number"), ("real_digits", "digit"),
        ("real_digits_2", "digit"), ("real_nondigits", "none")]
PARTS = ("tune", "confirm")
FIRST_SETS = ("real_numbers", "real_digits")  # tuned on for rounds: all tuning


def source_tag(folder, row):
    """The source an image comes from: its repository (owner/name, or the set's short tag); the folder's name for
    the first development sets, whose "source" column (if any) describes the image instead."""
    return folder if folder in FIRST_SETS else row["source"].split("@")[0].strip()


def part_of(tag, folder):
    """"tune" or "confirm": the first development sets are tuning; others by the SHA-256 of their source tag."""
    if folder in FIRST_SETS:
        return "tune"
    return "confirm" if int(hashlib.sha256(tag.encode()).hexdigest(), 16) % 2 else "tune"


def real_images(shared):
    """Every labelled real image: dicts of path, set, shows, label ("" for none), kind, source, part."""
    images = []
    for folder, shows in SETS:
        labels = os.path.join(shared, folder, "labels.csv")
        if not os.path.isfile(labels):
            continue
        with open(labels, newline="") as f:
            for row in csv.DictReader(f):
                tag = source_tag(folder, row)
                images.append(dict(path=os.path.join(shared, folder, row["file"]), set=folder, shows=shows,
                                   label=row.get("label", "") if shows != "none" else "",
                                   kind=row.get("kind", ""),
                                   source=tag, part=part_of(tag, folder)))
    return images


def read_all(model, images):
    """predict_image.py's answer for each image (the number read: "2026", "20?6", "" for no digit)."""
    grays = [handwriting.grayscale(handwriting.open_image(image["path"])) for image in images]
    return [a["number"] for a in handwriting.read_numbers(model, grays)]


def read_with_rapidocr(images):
    """RapidOCR's reading of each image: the digits of each text line found, lines joined by a space."""
    from rapidocr import RapidOCR  # (not a requirement of the project: for this comparison only)

    engine, read = RapidOCR(params={"Global.log_level": "critical"}), []
    for image in images:
        found = engine(image["path"])
        lines = [("".join(ch for ch in text if ch.isdigit()), box) for text, box in
                 zip(found.txts or (), found.boxes if found.boxes is not None else ())]
        lines = sorted((box[:, 1].mean(), digits) for digits, box in lines if digits)
        read.append(" ".join(digits for _, digits in lines))
    return read


def rows_of(images, read):
    """The table's rows: (measure, {part: (hits, count)})."""
    def count(pick, hit):
        return {part: (sum(hit(i, r) for i, r in zip(images, read) if i["part"] == part and pick(i)),
                       sum(1 for i in images if i["part"] == part and pick(i))) for part in PARTS}

    def exact(i, r):
        return r == i["label"]

    rows = [("numbers read exactly", count(lambda i: i["shows"] == "number", exact))]
    for kind in ("photo", "drawing", "scan"):
        rows.append((f"… {kind}s", count(lambda i, k=kind: i["shows"] == "number" and i["kind"] == k, exact)))
    rows += [("single digits read right", count(lambda i: i["shows"] == "digit", exact)),
             ("real digits answered no digit or ?", count(lambda i: i["shows"] == "digit",
                                                          lambda i, r: r == "" or "?" in r)),
             ("non-digits answered no digit", count(lambda i: i["shows"] == "none", lambda i, r: r == ""))]
    for kind in ("letter", "doodle", "photo"):
        rows.append((f"… {kind}s", count(lambda i, k=kind: i["shows"] == "none" and i["kind"] == k,
                                         lambda i, r: r == "")))
    return rows


def cell(hits, count):
    return f"{100 * hits / count:.1f}% ({hits}/{count})" if count else "–"


def worst_sources(images, read, part, n=6):
    """The sources of a part with the most images read wrong, as "tag (set): wrong/all"."""
    wrong, total = collections.Counter(), collections.Counter()
    for image, number in zip(images, read):
        if image["part"] == part:
            key = f"{image['source']} ({image['set']})"
            total[key] += 1
            wrong[key] += number != image["label"]
    worst = sorted(total, key=lambda k: (-wrong[k] / total[k], -wrong[k]))[:n]
    return ", ".join(f"{k}: {wrong[k]}/{total[k]}" for k in worst if wrong[k])


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.real_sets", description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", metavar="PATH",
                        help="a model to measure; repeat for several (default: final_model_handwriting.h5)")
    parser.add_argument("--shared", default=SHARED, metavar="DIR", help=f"the real sets' folder (default: {SHARED})")
    parser.add_argument("--rapidocr", action="store_true", help="also read them with RapidOCR, for comparison")
    parser.add_argument("--out", metavar="FILE.json", help="also write every image's answer here")
    args = parser.parse_args(argv)

    def measure():
        images = real_images(args.shared)
        if not images:
            raise cli.UserError(f"{args.shared}: no real set (real_numbers/labels.csv, ...) found")
        print(f"{cpu_name()}, {os.cpu_count()} cores; {datetime.date.today().isoformat()}; split: "
              + ", ".join(f"{part} {sum(i['part'] == part for i in images)} images from "
                          f"{len({(i['set'], i['source']) for i in images if i['part'] == part})} sources"
                          for part in PARTS))
        answers = {}
        readers = [(path, lambda path=path: read_all(saved_model.load(path), images))
                   for path in args.model or ["final_model_handwriting.h5"]]
        for path, reader in readers + ([("RapidOCR", lambda: read_with_rapidocr(images))] if args.rapidocr else []):
            read = reader()
            answers[path] = read
            print(f"\n{os.path.basename(path)}\n\n| measure | tuning part | confirming part |\n| --- | ---: | ---: |")
            for measure_name, by_part in rows_of(images, read):
                print(f"| {measure_name} | {cell(*by_part['tune'])} | {cell(*by_part['confirm'])} |")
            for part in PARTS:
                print(f"\nworst sources, {part}: {worst_sources(images, read, part) or 'none'}")
        if args.out:
            files.write_json([dict(image, read={os.path.basename(p): a[k] for p, a in answers.items()})
                              for k, image in enumerate(images)], args.out)

    cli.run(measure, "python -m bench.real_sets")


if __name__ == "__main__":
    main()
