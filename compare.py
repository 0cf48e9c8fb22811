"""Compare cross-validated models: which one is really better?

    python compare.py results/*                     # table on stdout, plots in results/compare/
    python compare.py results/* --reference results/deeper_cv

Reads the scores.json that each CV stage script writes and prints a Markdown
table: mean fold accuracy with its 95% confidence interval, and for every
experiment scored on the same folds as the reference, the mean per-fold
difference and the p-value of Nadeau and Bengio's corrected resampled t-test.
Also writes comparison.md (the table) and comparison.png (box plots of the fold
accuracies and mean validation-accuracy learning curves).
"""
import argparse
import json
import math
import os
import sys

import numpy as np

from plumbing.cli import UserError
from plumbing import cli, files

# Keys every scores.json must have for its experiment to be summarised, plotted and paired.
REQUIRED_KEYS = ("scores", "complete", "histories", "config", "n_samples", "split")


# ---------------------------------------------------------------- statistics

def mean_ci(scores, confidence=0.95):
    """Mean, sample std (ddof=1) and the t confidence interval of the mean: (mean, std, low, high).

    With one score there is no spread to measure, so std and the interval are NaN.
    """
    from scipy import stats  # here, not at the top: its second of importing is not --help's

    x = np.asarray(scores, dtype=float)
    mean = float(x.mean())
    if len(x) < 2:
        return mean, math.nan, math.nan, math.nan
    std = float(x.std(ddof=1))
    half = stats.t.ppf((1 + confidence) / 2, len(x) - 1) * std / math.sqrt(len(x))
    return mean, std, mean - half, mean + half


def corrected_paired_ttest(a, b, test_train_ratio):
    """Nadeau and Bengio's (2003) corrected resampled t-test of a - b: (mean difference, t, two-sided p).

    a[j] and b[j] are two models' scores on the same fold j. In k-fold
    cross-validation the folds' training sets overlap, so the per-fold
    differences are not independent and a plain paired t-test underestimates
    their variance, calling differences significant too often. The correction
    inflates the variance of the mean difference from s²/k to
    (1/k + n_test/n_train)·s²; for k-fold CV n_test/n_train = 1/(k-1).
    With test_train_ratio=0 this is the plain paired t-test (scipy's ttest_rel).
    """
    from scipy import stats

    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    k = len(d)
    if k < 2:
        raise ValueError("a paired test needs at least 2 pairs")
    mean = float(d.mean())
    se = math.sqrt((1 / k + test_train_ratio) * d.var(ddof=1))
    if se == 0:  # every fold differs by the same amount: no spread to weigh it against
        t = 0.0 if mean == 0 else math.copysign(math.inf, mean)
    else:
        t = mean / se
    p = float(2 * stats.t.sf(abs(t), k - 1))
    return mean, t, p


# ---------------------------------------------------------------- reading results

def find_scores(arg):
    """The scores.json named by `arg`: the file itself, or the one in the directory (None if it has none)."""
    if os.path.isdir(arg):
        path = os.path.join(arg, "scores.json")
        return path if os.path.isfile(path) else None
    if not os.path.exists(arg):
        raise UserError(f"{arg}: no such file or directory")
    return arg


def is_number(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def load_experiment(path):
    """Read and check one scores.json; the experiment is named after the directory holding it."""
    try:
        with open(path) as f:
            data = json.load(f)
    except OSError as e:
        raise UserError(f"{path}: cannot read it ({e.strerror or e})")
    except ValueError as e:  # bad JSON, or bytes that are not text
        raise UserError(f"{path}: not valid JSON ({e})")
    if not isinstance(data, dict):
        raise UserError(f"{path}: not a scores.json from a *_cv.py script (not a JSON object)")
    missing = [k for k in REQUIRED_KEYS if k not in data]
    if not isinstance(data.get("config"), dict) or "folds" not in data.get("config", {}):
        missing.append("config.folds")
    if missing:
        raise UserError(f"{path}: not a scores.json from a *_cv.py script, missing key(s) {', '.join(missing)}")
    scores = data["scores"]
    if not isinstance(scores, list) or not scores or not all(is_number(s) for s in scores):
        raise UserError(f"{path}: 'scores' should be a non-empty list of numbers")
    histories = data["histories"]
    if not isinstance(histories, list) or not all(
            isinstance(h, dict) and isinstance(h.get("val_accuracy"), list) and h["val_accuracy"]
            and all(is_number(v) for v in h["val_accuracy"]) for h in histories):
        raise UserError(f"{path}: 'histories' should be a list of per-fold dicts with 'val_accuracy' lists")
    name = os.path.basename(os.path.dirname(os.path.abspath(path)))
    return {"name": name, "path": path, **data}


def load_experiments(args, skip_dir=None):
    """Load every experiment named on the command line, once each; `skip_dir` (the output folder,
    which `results/*` also matches) is passed over quietly."""
    experiments, seen = [], set()
    for arg in args:
        if skip_dir and os.path.isdir(arg) and os.path.realpath(arg) == os.path.realpath(skip_dir):
            continue
        path = find_scores(arg)
        if path is None:  # e.g. results/evaluate_final, which results/* also matches
            print(f"compare.py: skipping {arg}: no scores.json in this directory", file=sys.stderr)
            continue
        if os.path.realpath(path) in seen:
            continue
        seen.add(os.path.realpath(path))
        experiments.append(load_experiment(path))
    # Two folders with the same name (runs1/baseline_cv, runs2/baseline_cv): tell them apart by path.
    names = [e["name"] for e in experiments]
    for e in experiments:
        if names.count(e["name"]) > 1:
            e["name"] = os.path.dirname(e["path"]) or "."
    return experiments


def pick_reference(experiments, reference_arg):
    """The experiment named by --reference (a path or a name); by default baseline_cv, else the first."""
    if reference_arg is None:
        return next((e for e in experiments if e["name"] == "baseline_cv"), experiments[0])
    for e in experiments:
        if reference_arg == e["name"]:
            return e
    path = find_scores(reference_arg)
    for e in experiments:
        if os.path.realpath(e["path"]) == os.path.realpath(path):
            return e
    # A reference not among the experiments joins the table, first.
    reference = load_experiment(path)
    experiments.insert(0, reference)
    return reference


def why_not_paired(exp, ref):
    """Why `exp` cannot be compared fold by fold with `ref`, or None if it can."""
    reasons = []
    for e in (exp, ref):
        if not e["complete"]:
            reasons.append(f"{e['name']} is incomplete ({len(e['scores'])} of {e['config']['folds']} folds)")
    if exp["config"]["folds"] != ref["config"]["folds"]:
        reasons.append(f"different number of folds ({exp['config']['folds']} vs {ref['config']['folds']})")
    elif exp["n_samples"] != ref["n_samples"]:
        reasons.append(f"different folds (n_samples {exp['n_samples']} vs {ref['n_samples']})")
    elif exp["split"] != ref["split"]:
        reasons.append(f"different folds (split {exp['split']} vs {ref['split']}, e.g. another --seed)")
    elif not reasons and len(exp["scores"]) != len(ref["scores"]):
        reasons.append(f"different numbers of scores ({len(exp['scores'])} vs {len(ref['scores'])})")
    return "; ".join(reasons) or None


# ---------------------------------------------------------------- table and figure

def pct(x):
    return "–" if math.isnan(x) else f"{100 * x:.3f}"


def format_p(p):
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def comparison_table(experiments, reference):
    """The Markdown table and the notes under it, plus one line per experiment that could not be paired."""
    rows, warnings = [], []
    for e in experiments:
        mean, std, low, high = mean_ci(e["scores"])
        name = e["name"] if e["complete"] else \
            f"{e['name']} (incomplete: {len(e['scores'])} of {e['config']['folds']} folds)"
        ci = "–" if math.isnan(low) else f"{pct(low)} – {pct(high)}"
        if e is reference:
            diff, p = "reference", "reference"
        elif why_not_paired(e, reference):
            diff, p = "not paired", "not paired"
            warnings.append(f"{e['name']}: not paired with {reference['name']}: {why_not_paired(e, reference)}")
        else:
            k = len(e["scores"])
            d, _, pvalue = corrected_paired_ttest(e["scores"], reference["scores"], test_train_ratio=1 / (k - 1))
            diff, p = f"{100 * d:+.3f}", format_p(pvalue)
        rows.append([name, str(len(e["scores"])), pct(mean), pct(std), ci, diff, p])
    header = ["experiment", "n (folds)", "mean accuracy %", "sample std %", "95% CI of mean %",
              f"diff vs {reference['name']} (pp)", "p-value"]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    notes = [
        "",
        "std: sample standard deviation of the fold accuracies (n-1); CI: t interval of the mean.",
        f"diff: mean of the per-fold differences from {reference['name']}, in percentage points.",
        "p-value: Nadeau & Bengio's corrected resampled t-test (two-sided, df = k-1). The folds share training "
        "data, so per-fold scores are not independent and a plain paired t-test is over-confident; "
        "the correction inflates the variance by (1/k + n_test/n_train), n_test/n_train = 1/(k-1).",
    ]
    if any(not e["complete"] for e in experiments):
        notes.append("incomplete: the run was interrupted or is still going; its numbers cover the folds done so far.")
    return "\n".join(lines + notes) + "\n", warnings


def mean_learning_curve(histories):
    """Mean validation accuracy per epoch across folds (cut to the shortest fold, should they differ)."""
    epochs = min(len(h["val_accuracy"]) for h in histories)
    return np.mean([h["val_accuracy"][:epochs] for h in histories], axis=0)


def comparison_figure(experiments):
    import matplotlib.pyplot as plt
    fig, (ax_box, ax_curve) = plt.subplots(1, 2, figsize=(max(10, 2 + 1.6 * len(experiments)), 5))
    names = [e["name"] if e["complete"] else f"{e['name']} (incomplete)" for e in experiments]
    ax_box.boxplot([np.asarray(e["scores"]) * 100 for e in experiments])
    for i, e in enumerate(experiments, start=1):  # with 5 folds the points say more than the box
        ax_box.plot([i] * len(e["scores"]), np.asarray(e["scores"]) * 100, "o", color="gray", alpha=0.6)
    ax_box.set_xticks(range(1, len(names) + 1), names, rotation=20, ha="right")
    ax_box.set_ylabel("fold accuracy (%)")
    ax_box.set_title("Accuracy per fold")
    longest = 1
    for name, e in zip(names, experiments):
        if e["histories"]:
            curve = mean_learning_curve(e["histories"]) * 100
            ax_curve.plot(range(1, len(curve) + 1), curve, marker="o", label=name)
            longest = max(longest, len(curve))
    ax_curve.set_xticks(range(1, longest + 1, -(-longest // 10)))  # whole epochs, ten ticks at most
    ax_curve.set_xlim(0.5, longest + 0.5)
    ax_curve.set_xlabel("epoch")
    ax_curve.set_ylabel("validation accuracy (%), mean over folds")
    ax_curve.set_title("Learning curves")
    ax_curve.legend()
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- command line

def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="compare.py", description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="+", metavar="RESULT",
                        help="result directories holding scores.json (e.g. results/*), or scores.json files")
    parser.add_argument("--reference", metavar="DIR_OR_JSON",
                        help="the experiment the others are tested against (default: baseline_cv if given, "
                             "else the first)")
    cli.add_flag(parser, "out", default=os.path.join("results", "compare"))
    parser.add_argument("--show", action="store_true", help="also open the figure in a window")
    return parser.parse_args(argv)


def compare_results(argv=None):
    """compare.py's work, for callers that handle its UserError themselves (study.py)."""
    args = parse_args(argv)
    cli.headless(args.show)
    experiments = load_experiments(args.results, skip_dir=args.out)
    if not experiments:
        raise UserError(f"{' '.join(args.results)}: no scores.json to compare (run a *_cv.py script first)")
    reference = pick_reference(experiments, args.reference)
    table, warnings = comparison_table(experiments, reference)
    for line in warnings:
        print(line, file=sys.stderr)
    print(table, end="", flush=True)
    md_path = os.path.join(args.out, "comparison.md")
    with files.atomic_path(md_path) as tmp:
        with open(tmp, "w") as f:
            f.write(table)
    png_path = os.path.join(args.out, "comparison.png")
    files.save_figure(comparison_figure(experiments), png_path, args.show)
    print(f"wrote {md_path} and {png_path}", file=sys.stderr)


def main(argv=None):
    cli.run(lambda: compare_results(argv), "compare.py")


if __name__ == "__main__":
    main()
