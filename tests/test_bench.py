"""bench/bench.py: the analytic FLOP count, and a tiny run end to end (no timings are checked)."""
import importlib.util
import json
import os

import baseline_cv
import batchnorm_cv
import deeper_cv
from conftest import REPO, assert_one_line_error, run_script

BENCH = os.path.join("bench", "bench.py")


def load_bench():
    """bench/ is a folder of scripts, not a package: load bench.py by its path."""
    spec = importlib.util.spec_from_file_location("bench_script", os.path.join(REPO, BENCH))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench = load_bench()
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
    assert_one_line_error(run_script(BENCH, "--models", "baseline,nope"), "--models")


def test_tiny_run_writes_results(mnist, tmp_path):
    out = tmp_path / "results.json"
    result = run_script(BENCH, "--quick", "--images", 256, "--models", "baseline", "--data", mnist, "--out", out,
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
