"""Training speed: the project's fit path against the tutorial's plain model.fit.

    python -m bench.bench                      # full run: 48,000 train + 12,000 validation images
    python -m bench.bench --quick              # 6,000 + 1,500, for a fast check
    python -m bench.bench --images 256 --models baseline --repeats 3

For each architecture (baseline, batchnorm, deeper) it trains ONE epoch at
batch size 32 on the first N training images of MNIST (N = 48,000 by default),
validating on the next N/4 (12,000: the tutorial's validation split), along
two paths, interleaved a, b, a, b, ... for --repeats R:

  (a) project:  the stage script's define_model() (compiled by
      harness.compile_model, with steps_per_execution) trained by
      harness.train (larger validation batch);
  (b) tutorial: the same layers, cloned with keras.models.clone_model and
      compiled plainly (SGD(0.01, momentum 0.9), categorical cross-entropy,
      accuracy, everything else default), trained with
      model.fit(x, y, epochs=1, batch_size=32, validation_data=..., verbose=0).

Only the fit call is timed (time.perf_counter); building and compiling the
model are not. Each timed epoch is a fresh model's first, so both paths pay
their graph tracing / compilation inside the timing alike (a later epoch of
the same model would skip it). Before timing an architecture,
one untimed fit per path on a small slice pays the process's one-time start-up,
which would otherwise fall on whichever path ran first. The time reported
per path is the median over the repeats (all times are kept in the JSON).
harness.train takes its verbosity from plumbing.progress.fit_verbosity(): 0 when stdout
is not a terminal, else a progress bar; the tutorial path is always silent.

Throughput is training images / fit seconds (the validation pass is inside
the fit, so it is part of the cost of both). The project path's achieved
GFLOP/s uses the analytic count of model_flops() and is compared with the
machine's float32 matmul rate measured with numpy.

Writes bench/results.json (or --out) and prints a Markdown table.
Other work running on the machine slows both paths; run it on an idle machine.
"""
import argparse
import datetime
import logging
import os
import platform
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

import numpy as np
import keras

import harness
from plumbing.cli import UserError
from plumbing import cli, files
from plumbing.progress import cpu_name, fit_verbosity
from plumbing.scores import versions
import baseline_cv
import batchnorm_cv
import deeper_cv

# Every timed fit builds a fresh model, so TensorFlow warns about "retracing"; that is the point here.
logging.getLogger("tensorflow").setLevel(logging.ERROR)

ARCHITECTURES = {"baseline": baseline_cv, "batchnorm": batchnorm_cv, "deeper": deeper_cv}
FULL_TRAIN_IMAGES = 48_000
QUICK_TRAIN_IMAGES = 6_000
BATCH_SIZE = 32
SEED = 1


def model_flops(model):
    """Forward-pass FLOPs for ONE image, counted analytically from the layers.

    A multiply-add counts as 2 FLOPs; a bias add as 1 per output value:
      Conv2D: 2 * H_out * W_out * k_h * k_w * C_in * C_out  +  H_out * W_out * C_out
      Dense:  2 * n_in * n_out  +  n_out   (times the positions, if applied to >2-D input)
    Pooling, activations, BatchNormalization and the loss are not counted:
    they are a few FLOPs per value, well under 1% of these models' totals.

    Training one image costs about 3x forward (the forward pass, then the
    backward pass: gradients for the activations and for the weights, each
    about one forward's worth); validating one costs 1x. So one epoch is
        3 * F * n_train + F * n_val.
    """
    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            k_h, k_w, c_in, c_out = layer.kernel.shape
            _, h_out, w_out, _ = layer.output.shape  # channels_last, as the stage scripts build them
            total += 2 * h_out * w_out * k_h * k_w * c_in * c_out
            if layer.use_bias:
                total += h_out * w_out * c_out
        elif isinstance(layer, keras.layers.Dense):
            n_in, n_out = layer.kernel.shape
            positions = int(np.prod(layer.output.shape[1:-1]))  # 1 for the usual flat input
            total += positions * (2 * n_in * n_out + (n_out if layer.use_bias else 0))
    return int(total)


def epoch_flops(forward_flops, n_train, n_val):
    return 3 * forward_flops * n_train + forward_flops * n_val


def matmul_gflops(size, repeats=5):
    """The machine's float32 matmul rate via numpy (best of a few), as the ceiling to compare with."""
    rng = np.random.default_rng(0)
    a = rng.random((size, size), dtype=np.float32)
    b = rng.random((size, size), dtype=np.float32)
    a @ b  # warm up the BLAS threads
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - start)
    return 2 * size ** 3 / best / 1e9


def tutorial_model(project_model):
    """The same layers, freshly initialised, compiled the tutorial's plain way."""
    model = keras.models.clone_model(project_model)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.01, momentum=0.9),
                  loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def time_project(module, trainX, trainY, valX, valY):
    keras.utils.set_random_seed(SEED)
    model = module.define_model()
    start = time.perf_counter()
    harness.train(model, trainX, trainY, valX, valY, epochs=1, batch_size=BATCH_SIZE)
    return time.perf_counter() - start


def time_tutorial(module, trainX, trainY, valX, valY):
    keras.utils.set_random_seed(SEED)
    model = tutorial_model(module.define_model())
    start = time.perf_counter()
    model.fit(trainX, trainY, epochs=1, batch_size=BATCH_SIZE, validation_data=(valX, valY), verbose=0)
    return time.perf_counter() - start


def warm_up(module, trainX, trainY, valX, valY):
    """One untimed fit per path on a small slice, so neither timed path pays the process's one-time
    start-up (runtime threads, kernel caches for these layer shapes) that the other then gets free."""
    n_train, n_val = min(len(trainX), 10 * BATCH_SIZE), min(len(valX), harness.EVAL_BATCH_SIZE)
    time_project(module, trainX[:n_train], trainY[:n_train], valX[:n_val], valY[:n_val])
    time_tutorial(module, trainX[:n_train], trainY[:n_train], valX[:n_val], valY[:n_val])


def bench_architecture(name, trainX, trainY, valX, valY, repeats, matmul_rate):
    module = ARCHITECTURES[name]
    warm_up(module, trainX, trainY, valX, valY)
    project_times, tutorial_times = [], []
    for r in range(repeats):  # interleaved, so drifts in machine load hit both paths alike
        project_times.append(time_project(module, trainX, trainY, valX, valY))
        tutorial_times.append(time_tutorial(module, trainX, trainY, valX, valY))
        print(f"{name} repeat {r + 1}/{repeats}: project {project_times[-1]:.2f} s, "
              f"tutorial {tutorial_times[-1]:.2f} s", file=sys.stderr, flush=True)
    project_s, tutorial_s = statistics.median(project_times), statistics.median(tutorial_times)
    keras.utils.set_random_seed(SEED)
    forward = model_flops(module.define_model())
    flops = epoch_flops(forward, len(trainX), len(valX))
    project_gflops = flops / project_s / 1e9
    return {
        "forward_flops_per_image": forward,
        "epoch_flops": flops,
        "project_seconds": project_s,
        "tutorial_seconds": tutorial_s,
        "project_seconds_all": project_times,
        "tutorial_seconds_all": tutorial_times,
        "project_images_per_s": len(trainX) / project_s,
        "tutorial_images_per_s": len(trainX) / tutorial_s,
        "speedup": tutorial_s / project_s,
        "project_gflops": project_gflops,
        "project_fraction_of_matmul": project_gflops / matmul_rate,
    }


def markdown_table(results, matmul_rate, machine):
    lines = ["| model | tutorial img/s | project img/s | speedup | project GFLOP/s | % of matmul |",
             "|---|---:|---:|---:|---:|---:|"]
    for name, r in results.items():
        lines.append(f"| {name} | {r['tutorial_images_per_s']:,.0f} | {r['project_images_per_s']:,.0f} | "
                     f"{r['speedup']:.2f}x | {r['project_gflops']:.1f} | "
                     f"{100 * r['project_fraction_of_matmul']:.1f}% |")
    lines.append("")
    lines.append(f"float32 matmul (numpy): {matmul_rate:.1f} GFLOP/s on {machine}")
    return "\n".join(lines)


def short_path(path):
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help=f"{QUICK_TRAIN_IMAGES:,} training images and a 1024x1024 matmul, for a fast check")
    parser.add_argument("--images", type=int, metavar="N",
                        help=f"training images (default: {FULL_TRAIN_IMAGES:,}, or {QUICK_TRAIN_IMAGES:,} "
                             "with --quick); validation uses the next N/4")
    parser.add_argument("--repeats", type=int, default=1, metavar="R",
                        help="timed epochs per path, interleaved; the median is reported (default: 1)")
    parser.add_argument("--models", default=",".join(ARCHITECTURES), metavar="LIST",
                        help=f"comma-separated subset of {','.join(ARCHITECTURES)} (default: all)")
    cli.add_flag(parser, "out", default=os.path.join(ROOT, "bench", "results.json"), metavar="PATH",
                 default_text="bench/results.json")
    cli.add_data_args(parser, limit=False)
    args = parser.parse_args(argv)
    cli.positive(parser, args, "images", "repeats")
    args.models = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = [m for m in args.models if m not in ARCHITECTURES]
    if unknown or not args.models:
        parser.error(f"--models: choose from {', '.join(ARCHITECTURES)} (got {args.models})")
    args.images = args.images or (QUICK_TRAIN_IMAGES if args.quick else FULL_TRAIN_IMAGES)
    return args


def main(argv=None):
    args = parse_args(argv)
    n_train, n_val = args.images, max(1, args.images // 4)
    mnistX, mnistY, _, _ = harness.load_dataset(args.data)
    if n_train + n_val > len(mnistX):
        raise UserError(f"--images {n_train} needs {n_train + n_val} images with validation; "
                                f"the data has {len(mnistX)}")
    images = harness.scale_pixels(mnistX[:n_train + n_val])
    trainX, trainY = images[:n_train], mnistY[:n_train]
    valX, valY = images[n_train:], mnistY[n_train:n_train + n_val]

    matmul_size = 1024 if args.quick else 2048
    matmul_rate = matmul_gflops(matmul_size)
    machine = f"{cpu_name()}, {os.cpu_count()} CPUs, Keras {keras.__version__} on {keras.backend.backend()}"

    results = {name: bench_architecture(name, trainX, trainY, valX, valY, args.repeats, matmul_rate)
               for name in args.models}

    files.write_json({
        "machine": {"processor": platform.processor(), "cpu_model": cpu_name(), "machine": platform.machine(),
                    "platform": platform.platform(), "cpu_count": os.cpu_count(),
                    "backend": keras.backend.backend(), "versions": versions(),
                    "matmul_size": matmul_size, "matmul_gflops": matmul_rate},
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "settings": {"train_images": n_train, "validation_images": n_val, "epochs": 1,
                     "batch_size": BATCH_SIZE, "repeats": args.repeats, "statistic": "median",
                     "quick": args.quick, "seed": SEED,
                     "steps_per_execution": harness.STEPS_PER_EXECUTION,
                     "eval_batch_size": harness.EVAL_BATCH_SIZE,
                     "project_fit_verbose": fit_verbosity(),
                     "flops": "epoch = 3 * forward * train images + forward * validation images"},
        "results": results,
    }, args.out)
    print(markdown_table(results, matmul_rate, machine))
    print(f"\n(median of {args.repeats} timed epoch(s) per path; {n_train:,} training + {n_val:,} validation "
          f"images; first epoch of a fresh model, tracing included; written to {short_path(args.out)})")


if __name__ == "__main__":
    cli.run(main, "python -m bench.bench")
