"""How well whole numbers are read, and how often "no digit" is answered, right and wrong.

    python -m bench.numbers_accuracy --model final_model_ensemble.h5 --model final_model.h5 \
        [--real-numbers ../shared/real_numbers] [--real-digits ../shared/real_digits] [--numbers 200] [--non-digits 120]

Reads every image as predict_image.py does (handwriting.find_digits, then
handwriting.read_numbers) and prints, per set and model, a Markdown table:
numbers read exactly; digits read right; digits wrongly answered "?" or
"no digit"; non-digits answered "no digit". The sets: the real numbers (with
a line per kind: photo, scan, drawing), the real single digits,
bench/number_sets.py's synthetic numbers and non-digits (seed 0, written to a
temporary folder, a line per kind), its other photos (sample images of
scikit-learn, matplotlib and scikit-image that no other set has, whole,
cropped and small faces), and scikit-learn's load_digits drawn at 112x112
bilinear (as bench/digits_accuracy.py draws it).

A read number is lined up with its label digit by digit (difflib, spaces
left out): a digit is read right where the two match, and wrongly unsure
where the label's digit is met by a "?" (all of them for "no digit").
"""
import argparse
import csv
import dataclasses
import datetime
import os
import tempfile

import numpy as np
from PIL import Image
from sklearn.datasets import load_digits

import handwriting
from bench import number_sets
from handwriting import reading
from handwriting.labels import score
from network import saved_model
from plumbing import cli
from plumbing.progress import cpu_name

# The decision as it is, and with one of its settings changed: what each costs and buys.
DECISIONS = [("as it is", reading.DECISION)] + [
    (label, dataclasses.replace(reading.DECISION, **change)) for label, change in [
        ("no decision: every candidate is a digit", dict(min_probability=0, max_holes=99, max_stroke_width=99,
                                                          no_digit_unsure_share=2, max_candidates=10 ** 6,
                                                          max_not_a_digit=2)),
        ("no ink-shape checks", dict(max_holes=99, max_stroke_width=99)),
        ("no judge of not a digit (11th output)", dict(max_not_a_digit=2)),
        ("max_not_a_digit 0.5", dict(max_not_a_digit=0.5)),
        ("max_not_a_digit 0.9", dict(max_not_a_digit=0.9)),
        ("max_not_a_digit 0.999", dict(max_not_a_digit=0.999)),
        ("min_probability 0.5", dict(min_probability=0.5)),
        ("min_probability 0.8", dict(min_probability=0.8)),
        ("min_probability 0.9", dict(min_probability=0.9)),
        ("members_agree", dict(members_agree=True)),
        ("no_digit_unsure_share 1e-9 (any ? is no digit)", dict(no_digit_unsure_share=1e-9)),
        ("no_digit_unsure_share 0.51 (more than half ? is no digit)", dict(no_digit_unsure_share=0.51)),
    ]]
SHARED = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared"))


def labelled_folder(folder):
    """[(path, label, kind)] from a folder's labels.csv (file,label[,kind or source])."""
    with open(os.path.join(folder, "labels.csv"), newline="") as f:
        return [(os.path.join(folder, r["file"]), r["label"], r.get("kind") or "") for r in csv.DictReader(f)]


def candidates_of_files(rows):
    return [handwriting.find_digits(handwriting.grayscale(handwriting.open_image(path))) for path, _, _ in rows]


def load_digits_rows():
    """scikit-learn's 1,797 8x8 digits drawn dark on white at 112x112, bilinear: [(None, label, "")] and candidates."""
    digits = load_digits()
    grays = [np.asarray(Image.fromarray(np.uint8(255 - d * 255 / 16), "L").resize((112, 112), Image.BILINEAR),
                        np.float64) / 255 for d in digits.images]
    return [(None, str(t), "") for t in digits.target], [handwriting.find_digits(g) for g in grays]


def kind_of(kind):
    """The kind's first word: "photo", "touching", "letters", ... (number_sets' kinds say more after it)."""
    return kind.replace(":", ",").split(",")[0].split(" ")[0] if kind else ""


def tally(rows, answers):
    """Counts over a set: images, numbers exactly read, digits, right, unsure; non-digit images and no digit."""
    t = dict(images=len(rows), exact=0, digits=0, right=0, unsure=0, non_digits=0, no_digit=0)
    for (_, label, _), a in zip(rows, answers):
        if label:
            right, unsure = score(label, a["number"])
            t["exact"] += a["number"] == label
            t["digits"] += len(label.replace(" ", ""))
            t["right"] += right
            t["unsure"] += unsure
        else:
            t["non_digits"] += 1
            t["no_digit"] += a["number"] == ""
    return t


def share(part, whole):
    return f"{100 * part / whole:.1f}% ({part}/{whole})" if whole else "–"


def table_row(name, model_name, t):
    numbers = t["images"] - t["non_digits"]
    cells = [share(t["exact"], numbers), share(t["right"], t["digits"]), share(t["unsure"], t["digits"]),
             share(t["no_digit"], t["non_digits"])]
    return f"| {name} | {model_name} | {t['images']} | " + " | ".join(cells) + " |"


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.numbers_accuracy", description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", metavar="PATH",
                        help="a model to measure; repeat for several (default: final_model.h5)")
    parser.add_argument("--real-numbers", default=os.path.join(SHARED, "real_numbers"), metavar="DIR")
    parser.add_argument("--real-digits", default=os.path.join(SHARED, "real_digits"), metavar="DIR")
    parser.add_argument("--numbers", type=int, default=200, help="synthetic numbers (default: 200)")
    parser.add_argument("--non-digits", type=int, default=120, help="synthetic non-digits (default: 120)")
    parser.add_argument("--seed", type=int, default=0, help="of the synthetic sets (default: 0)")
    args = parser.parse_args(argv)
    paths = args.model or ["final_model.h5"]

    def measure():
        models = {p: saved_model.load(p) for p in paths}
        sets = []  # (name, rows, candidates, break down by kind)
        for name, folder in (("real numbers", args.real_numbers), ("real single digits", args.real_digits)):
            if os.path.isfile(os.path.join(folder, "labels.csv")):
                rows = labelled_folder(folder)
                sets.append((f"{name} ({folder})", rows, candidates_of_files(rows), name == "real numbers"))
        with tempfile.TemporaryDirectory() as folder:
            for sub in number_sets.write_sets(folder, args.numbers, args.non_digits, args.seed):
                rows = labelled_folder(sub)
                sets.append((f"synthetic {os.path.basename(sub).replace('_', '-')} (bench/number_sets.py, seed "
                             f"{args.seed})", rows, candidates_of_files(rows), True))
        photos = number_sets.other_photos(np.random.default_rng(args.seed))
        sets.append((f"other photos (bench/number_sets.py's other_photos, seed {args.seed})",
                     [(None, "", kind) for _, kind in photos],
                     [handwriting.find_digits(handwriting.grayscale(img)) for img, _ in photos], True))
        sets.append(("load_digits at 112x112 bilinear", *load_digits_rows(), False))
        print(f"{cpu_name()}, {os.cpu_count()} cores; {datetime.date.today().isoformat()}\n")
        print("| images | model | count | numbers read exactly | digits read right | digits wrongly ? or no digit "
              "| non-digits answered no digit |\n| --- | --- | ---: | ---: | ---: | ---: | ---: |")
        predicted = {}  # (model, set) -> probabilities of all the set's candidates
        for name, rows, candidates, by_kind in sets:
            for path, model in models.items():
                predicted[path, name] = reading.predict_candidates(model, candidates, members=True)
                answers = reading.answers(candidates, *predicted[path, name])
                print(table_row(name, os.path.basename(path), tally(rows, answers)), flush=True)
                kinds = sorted({kind_of(k) for _, _, k in rows}) if by_kind else []
                for kind in kinds if len(kinds) > 1 else []:
                    picked = [i for i, (_, _, k) in enumerate(rows) if kind_of(k) == kind]
                    t = tally([rows[i] for i in picked], [answers[i] for i in picked])
                    print(table_row(f"… {kind}", os.path.basename(path), t))
        print("\nThe decision's trade-off (handwriting/reading.py's Decision, one setting changed at a time):\n")
        print("| model | decision | " + " | ".join(name.split(" (")[0] for name, *_ in sets) + " |\n| --- | --- |"
              + " ---: |" * len(sets))
        for path in models:
            for label, decision in DECISIONS:
                cells = []
                for name, rows, candidates, _ in sets:
                    t = tally(rows, reading.answers(candidates, *predicted[path, name], decision=decision))
                    cells.append(share(t["no_digit"], t["non_digits"]) if t["non_digits"] else
                                 f"{share(t['exact'], t['images'])}, ? {t['unsure']}")
                print(f"| {os.path.basename(path)} | {label} | " + " | ".join(cells) + " |", flush=True)

    cli.run(measure, "python -m bench.numbers_accuracy")


if __name__ == "__main__":
    main()
