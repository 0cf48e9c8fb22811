"""Tests of compare.py: its statistics on known inputs, its pairing rule, its errors, and a tiny real run."""
import json
import math
import os
import re

import numpy as np
import pytest
from scipy import stats

import compare
from plumbing.cli import UserError
from conftest import mnist_path, run_script


def write_scores(folder, scores, split="aaaa", n_samples=1000, folds=None, complete=True, epochs=2, **extra):
    """A scores.json as the CV scripts write it, with made-up numbers."""
    folds = folds or len(scores)
    data = {"scores": scores, "mean": float(np.mean(scores)), "std": float(np.std(scores)), "n": len(scores),
            "complete": complete,
            "histories": [{"loss": [1.0] * epochs, "accuracy": [0.5] * epochs, "val_loss": [1.0] * epochs,
                           "val_accuracy": list(np.linspace(0.5, s, epochs))} for s in scores],
            "config": {"script": "x_cv.py", "epochs": epochs, "folds": folds, "seed": 1},
            "n_samples": n_samples, "split": split, **extra}
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "scores.json"), "w") as f:
        json.dump(data, f)
    return str(folder)


def table_rows(text):
    """The table's body rows as lists of cells, keyed by experiment name."""
    rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in text.splitlines()
            if line.startswith("| ") and not line.startswith("| experiment")]
    return {r[0]: r for r in rows}


# ---------------------------------------------------------------- statistics

def test_mean_ci_matches_a_hand_computed_t_interval():
    # mean 0.98, sample std 0.01, n=3; t(0.975, df=2) = 4.302653 from a t table
    mean, std, low, high = compare.mean_ci([0.97, 0.98, 0.99])
    half = 4.302653 * 0.01 / math.sqrt(3)
    assert mean == pytest.approx(0.98)
    assert std == pytest.approx(0.01)
    assert low == pytest.approx(0.98 - half, abs=1e-7)
    assert high == pytest.approx(0.98 + half, abs=1e-7)


def test_mean_ci_of_one_score_has_no_interval():
    mean, std, low, high = compare.mean_ci([0.9])
    assert mean == 0.9 and math.isnan(std) and math.isnan(low) and math.isnan(high)


# Student's sleep data (Cushny & Peebles), the textbook paired example: R's
# t.test(group1, group2, paired=TRUE) gives t = -4.0621, df = 9, p = 0.002833.
SLEEP_1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
SLEEP_2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]


def test_uncorrected_test_is_the_textbook_paired_t_test():
    d, t, p = compare.corrected_paired_ttest(SLEEP_1, SLEEP_2, test_train_ratio=0)
    assert d == pytest.approx(-1.58)
    assert t == pytest.approx(-4.0621, abs=1e-4)
    assert p == pytest.approx(0.002833, abs=1e-6)
    plain = stats.ttest_rel(SLEEP_1, SLEEP_2)
    assert t == pytest.approx(plain.statistic) and p == pytest.approx(plain.pvalue)


def test_corrected_test_inflates_the_variance_as_nadeau_and_bengio_say():
    a = [0.90, 0.92, 0.91, 0.93, 0.94]
    b = [0.89, 0.90, 0.91, 0.90, 0.92]
    # by hand: d = [.01 .02 0 .03 .02], mean .016, s² = 0.00052/4 = 0.00013, k = 5, n_test/n_train = 1/4
    t_expected = 0.016 / math.sqrt((1 / 5 + 1 / 4) * 0.00013)
    d, t, p = compare.corrected_paired_ttest(a, b, test_train_ratio=1 / 4)
    assert d == pytest.approx(0.016)
    assert t == pytest.approx(t_expected) and t == pytest.approx(2.0919, abs=1e-4)
    assert p == pytest.approx(2 * stats.t.sf(t_expected, df=4))
    # the plain test on the same data is more confident (smaller p): that is what the correction undoes
    plain_p = stats.ttest_rel(a, b).pvalue
    assert plain_p < 0.05 < p


def test_corrected_test_without_spread():
    assert compare.corrected_paired_ttest([0.9, 0.8], [0.9, 0.8], 1.0) == (0.0, 0.0, 1.0)
    # binary fractions, so the differences are exactly equal and their variance exactly 0
    assert compare.corrected_paired_ttest([0.75, 0.5], [0.5, 0.25], 1.0) == (0.25, math.inf, 0.0)
    assert compare.corrected_paired_ttest([0.5, 0.25], [0.75, 0.5], 1.0) == (-0.25, -math.inf, 0.0)


# ---------------------------------------------------------------- the command

def test_same_folds_are_paired_and_tested(tmp_path, capsys):
    ref = write_scores(tmp_path / "baseline_cv", [0.90, 0.92, 0.91, 0.93, 0.94])
    other = write_scores(tmp_path / "better_cv", [0.91, 0.94, 0.91, 0.96, 0.96])
    # baseline_cv is the reference even when it is not named first
    compare.compare_results([other, ref, "--out", str(tmp_path / "out")])
    out, err = capsys.readouterr()
    rows = table_rows(out)
    assert rows["baseline_cv"][1:] == ["5", "92.000", "1.581", "90.037 – 93.963", "reference", "reference"]
    _, _, p = compare.corrected_paired_ttest([0.91, 0.94, 0.91, 0.96, 0.96], [0.90, 0.92, 0.91, 0.93, 0.94], 1 / 4)
    assert rows["better_cv"][5:] == ["+1.600", f"{p:.3f}"]
    assert "not paired" not in out + err
    assert "corrected resampled t-test" in out
    assert open(tmp_path / "out" / "comparison.md").read() == out
    assert os.path.getsize(tmp_path / "out" / "comparison.png") > 0


def test_different_folds_are_not_paired(tmp_path, capsys):
    ref = write_scores(tmp_path / "baseline_cv", [0.90, 0.92], split="aaaa")
    other = write_scores(tmp_path / "deeper_cv", [0.95, 0.97], split="bbbb")
    compare.compare_results([ref, other, "--out", str(tmp_path / "out")])
    out, err = capsys.readouterr()
    assert table_rows(out)["deeper_cv"][5:] == ["not paired", "not paired"]
    assert table_rows(out)["deeper_cv"][2] == "96.000"  # still summarised
    assert "deeper_cv: not paired with baseline_cv: different folds (split bbbb vs aaaa" in err


def test_other_sample_counts_and_incomplete_runs_are_not_paired(tmp_path, capsys):
    ref = write_scores(tmp_path / "baseline_cv", [0.90, 0.92, 0.91])
    small = write_scores(tmp_path / "small_cv", [0.80, 0.82, 0.81], n_samples=300)
    partial = write_scores(tmp_path / "partial_cv", [0.95], folds=3, complete=False)
    compare.compare_results([ref, small, partial, "--out", str(tmp_path / "out")])
    out, err = capsys.readouterr()
    rows = table_rows(out)
    assert rows["small_cv"][5] == "not paired"
    partial_row = rows["partial_cv (incomplete: 1 of 3 folds)"]
    assert partial_row[1:] == ["1", "95.000", "–", "–", "not paired", "not paired"]
    assert "small_cv: not paired with baseline_cv: different folds (n_samples 300 vs 1000)" in err
    assert "partial_cv: not paired with baseline_cv: partial_cv is incomplete (1 of 3 folds)" in err


def test_reference_can_be_chosen_and_output_folder_is_skipped(tmp_path, capsys):
    a = write_scores(tmp_path / "baseline_cv", [0.90, 0.92])
    b = write_scores(tmp_path / "deeper_cv", [0.91, 0.95])
    os.makedirs(tmp_path / "compare")  # what `compare.py results/*` also matches after a first run
    compare.compare_results([a, b, str(tmp_path / "compare"), "--reference", b, "--out", str(tmp_path / "compare")])
    rows = table_rows(capsys.readouterr().out)
    assert sorted(rows) == ["baseline_cv", "deeper_cv"]
    assert rows["deeper_cv"][5] == "reference" and rows["baseline_cv"][5] == "-2.000"


@pytest.mark.parametrize("content, words", [
    (None, ["no such file or directory"]),
    ("{not json", ["not valid JSON"]),
    ('{"scores": [0.9]}', ["missing key(s)", "split", "config.folds"]),
    ('{"scores": [], "complete": true, "histories": [], "config": {"folds": 2}, "n_samples": 1, "split": "a"}',
     ["'scores' should be a non-empty list"]),
])
def test_bad_inputs_are_one_line_errors_naming_the_file(tmp_path, content, words):
    path = tmp_path / "run" / "scores.json"
    if content is not None:
        path.parent.mkdir()
        path.write_text(content)
    with pytest.raises(UserError) as e:
        compare.compare_results([str(path), "--out", str(tmp_path / "out")])
    assert str(path) in str(e.value)
    for word in words:
        assert word in str(e.value)
    assert not (tmp_path / "out").exists()


def test_directory_without_scores_is_skipped_and_none_at_all_is_an_error(tmp_path):
    (tmp_path / "empty").mkdir()
    result = run_script("compare.py", tmp_path / "empty", "--out", tmp_path / "out")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"compare.py: skipping {tmp_path / 'empty'}: no scores.json in this directory" in result.stderr
    assert f"compare.py: error: {tmp_path / 'empty'}: no scores.json to compare" in result.stderr
    write_scores(tmp_path / "run", [0.9, 0.8])
    result = run_script("compare.py", tmp_path / "empty", tmp_path / "run", "--out", tmp_path / "out")
    assert result.returncode == 0 and "| run " in result.stdout


# ---------------------------------------------------------------- a real, tiny run

def test_compare_two_tiny_real_experiments(tmp_path):
    data = mnist_path()
    for script in ("baseline_cv.py", "batchnorm_cv.py"):
        result = run_script(script, "--data", data, "--limit", 300, "--epochs", 1, "--folds", 2,
                            "--out", tmp_path / script[:-3])
        assert result.returncode == 0, result.stderr
    out = tmp_path / "compare"
    result = run_script("compare.py", tmp_path / "baseline_cv", tmp_path / "batchnorm_cv", "--out", out)
    assert result.returncode == 0, result.stderr
    rows = table_rows(result.stdout)
    number = r"\d+\.\d{3}"
    assert rows["baseline_cv"][1] == "2" and rows["baseline_cv"][5] == "reference"
    assert rows["batchnorm_cv"][1] == "2"
    for cells in rows.values():
        assert re.fullmatch(number, cells[2]) and 0 < float(cells[2]) <= 100
        assert re.fullmatch(number, cells[3])
        # with 2 folds t(0.975, 1) = 12.7, so the interval can reach past 0..100
        assert re.fullmatch(f"-?{number} – {number}", cells[4])
    # same --limit, --folds and --seed: the same folds, so the two are paired and tested
    assert re.fullmatch(r"[+-]\d+\.\d{3}", rows["batchnorm_cv"][5])
    assert re.fullmatch(r"<0\.001|[01]\.\d{3}", rows["batchnorm_cv"][6])
    assert (out / "comparison.md").read_text() == result.stdout
    assert (out / "comparison.png").stat().st_size > 0
    from PIL import Image
    with Image.open(out / "comparison.png") as image:
        image.verify()
        assert image.format == "PNG" and image.size[0] > 0
