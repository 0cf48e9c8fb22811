"""bench/: a package of benchmarks run as python -m bench.NAME; bench.bench's analytic FLOP count, and a tiny
run end to end (no timings are checked)."""
import glob
import json
import os
import subprocess
import sys


import baseline_cv
import batchnorm_cv
import deeper_cv
from bench import bench
from conftest import REPO, assert_one_line_error

BENCHMARKS = sorted(os.path.basename(p)[:-3] for p in glob.glob(os.path.join(REPO, "bench", "*.py"))
                    if not p.endswith("__init__.py"))


def run_module(name, *args, timeout=600):
    """python -m bench.NAME from the repo root, as the docs say to run a benchmark."""
    return subprocess.run([sys.executable, "-m", f"bench.{name}", *map(str, args)], capture_output=True, text=True,
                          env=dict(os.environ, PYTHONUNBUFFERED="1"), timeout=timeout, cwd=REPO)


# Each benchmark as `python -m bench.NAME --help` would run it (runpy, as -m does), all in one process:
# one start of TensorFlow, not one per benchmark. Prints {name: [exit status, help, sys.path unchanged]}.
RUN_EACH_AS_MODULE = """
import contextlib, io, json, runpy, sys
out = {}
for name in sys.argv[1:]:
    path, sys.argv = list(sys.path), [name, "--help"]
    help_text = io.StringIO()
    with contextlib.redirect_stdout(help_text):
        try:
            runpy.run_module("bench." + name, run_name="__main__", alter_sys=True)
            status = 0
        except SystemExit as e:
            status = e.code
    out[name] = [status, help_text.getvalue(), sys.path == path]
print(json.dumps(out))
"""


def test_each_benchmark_runs_as_a_module_and_leaves_sys_path_alone():
    for name in BENCHMARKS:
        with open(os.path.join(REPO, "bench", f"{name}.py")) as f:
            assert "sys.path" not in f.read(), name
    result = subprocess.run([sys.executable, "-c", RUN_EACH_AS_MODULE, *BENCHMARKS], capture_output=True, text=True,
                            timeout=600, cwd=REPO)
    assert result.returncode == 0, result.stderr
    for name, (status, help_text, path_unchanged) in json.loads(result.stdout.splitlines()[-1]).items():
        assert status == 0 and path_unchanged, name
        assert help_text.startswith(f"usage: python -m bench.{name}"), name


def test_benchmarks_keep_to_measuring():
    assert {"flag_ones", "digits_accuracy", "bench", "bench_web", "scaling", "sheet_digits"} <= set(BENCHMARKS)
    from bench import flag_ones
    assert not hasattr(flag_ones, "train") and not hasattr(flag_ones, "ensemble")  # train_final.py does those
BASELINE_FORWARD_FLOPS = (2 * 26 * 26 * 3 * 3 * 1 * 32 + 26 * 26 * 32  # conv: multiply-adds + bias adds
                          + 2 * 5408 * 100 + 100                        # dense: 13*13*32 = 5408 inputs
                          + 2 * 100 * 10 + 10)                          # softmax layer


def test_model_flops_baseline_by_hand():
    assert bench.model_flops(baseline_cv.define_model()) == BASELINE_FORWARD_FLOPS == 1_494_718


def test_model_flops_orders_the_architectures():
    baseline = bench.model_flops(baseline_cv.define_model())
    assert bench.model_flops(deeper_cv.define_model()) > baseline
    # BatchNormalization is not counted: same conv and dense layers, same count.
    assert bench.model_flops(batchnorm_cv.define_model()) == baseline


def test_epoch_flops():
    assert bench.epoch_flops(10, n_train=4, n_val=2) == 3 * 10 * 4 + 10 * 2


def test_unknown_model_is_a_one_line_error():
    assert_one_line_error(run_module("bench", "--models", "baseline,nope"), "--models")


def test_tiny_run_writes_results(mnist, tmp_path):
    out = tmp_path / "results.json"
    result = run_module("bench", "--quick", "--images", 256, "--models", "baseline", "--data", mnist, "--out", out,
                        timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "| baseline |" in result.stdout
    results = json.loads(out.read_text())
    assert {"machine", "date", "settings", "results"} <= results.keys()
    assert results["settings"]["train_images"] == 256 and results["settings"]["validation_images"] == 64
    baseline = results["results"]["baseline"]
    assert baseline["forward_flops_per_image"] == BASELINE_FORWARD_FLOPS
    for key in ("project_images_per_s", "tutorial_images_per_s", "speedup", "project_gflops"):
        assert baseline[key] > 0
    assert results["machine"]["matmul_gflops"] > 0


def test_real_sets_split_by_source_and_count_each_part(tmp_path):
    """bench.real_sets: the first development sets are tuning; others go by their source's hash, the same
    source always to the same part; each measure counts its part's images only."""
    from bench import real_sets

    assert real_sets.part_of("real_digits", "real_digits") == "tune"
    parts = {real_sets.part_of(f"owner{i}/repo", "real_numbers_2") for i in range(40)}
    assert parts == {"tune", "confirm"}  # (40 sources: both parts, with near certainty of a fair hash)
    assert real_sets.part_of("abc", "real_nondigits") == real_sets.part_of("abc", "real_digits_2")
    assert real_sets.source_tag("real_digits_2", {"source": "me/digits@0123abcd:a/b.png crop(1,2,3,4)"}) == "me/digits"
    (tmp_path / "real_numbers_2").mkdir()
    (tmp_path / "real_numbers_2" / "labels.csv").write_text("file,label,kind,source\na.png,12 3,photo,x\n"
                                                             "b.png,45,drawing,y\n")
    (tmp_path / "real_nondigits").mkdir()
    (tmp_path / "real_nondigits" / "labels.csv").write_text("file,kind,what,source\nc.png,letter,A,x\n")
    images = real_sets.real_images(str(tmp_path))
    assert [(i["shows"], i["label"], i["source"]) for i in images] == [("number", "12 3", "x"),
                                                                      ("number", "45", "y"), ("none", "", "x")]
    rows = dict(real_sets.rows_of(images, ["12 3", "4?", "7"]))
    part_x, part_y = real_sets.part_of("x", "real_numbers_2"), real_sets.part_of("y", "real_numbers_2")
    exact = rows["numbers read exactly"]
    assert sum(exact[p][1] for p in real_sets.PARTS) == 2 and exact[part_x][0] == 1
    assert exact[part_y][0] == 0 and rows["non-digits answered no digit"][part_x] == (0, 1)
