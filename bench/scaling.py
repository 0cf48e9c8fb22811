"""Fold throughput: folds in turn in one process, in 2 local worker processes, and on a Dask LocalCluster of 2.

    python -m bench.scaling                       # deeper model, 4 folds of 9,600 + 2,400 images, 2 epochs
    python -m bench.scaling --models baseline batchnorm deeper --repeats 2

Each mode runs the same fold tasks (workers.run_folds, as the CV scripts and
study.py do) and is timed from the start of its pool to the last fold's
result, so worker start-up and data transfer count. The modes run
interleaved (in turn, local pool, Dask, in turn, ...) so a busy machine
slows them alike; the figures are ratios to "in turn" from one run.

It also measures what a Dask cluster adds per task (a trivial task's round
trip through the scheduler) and per worker (start-up, and receiving the
data), and from those and the measured fold times it works out, on paper,
the wall time of the full study (python study.py: 10 experiments x 5 folds
x 10 epochs on 48,000 images) on 8, 32 and 64 single-core workers:
longest-first scheduling of the 50 fold times, plus the overheads.

Writes bench/scaling.json and bench/scaling.md (or --out) and prints the tables.
"""
import argparse
import datetime
import heapq
import os
import platform
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

import harness
from plumbing import cli, files
from plumbing.progress import format_seconds
from plumbing.scores import versions
import study
from experiments import workers
from experiments.experiment import Experiment

MODELS = {"baseline": "baseline_cv.py", "batchnorm": "batchnorm_cv.py", "deeper": "deeper_cv.py"}
MODES = ("in turn", "2 local workers", "Dask LocalCluster, 2 workers")
FULL_FOLD_IMAGES, FULL_EPOCHS = 48_000, 10  # one fold of the tutorial's CV


def fold_tasks(script, dataX, dataY, n_folds, epochs):
    folds = harness.kfold_splits(len(dataX), n_folds)
    tasks = harness.experiment_folds(Experiment(script, epochs=epochs, folds=n_folds), dataX, dataY, folds,
                                     range(n_folds))
    return [((script, fold), task) for fold, task in tasks]


def time_mode(mode, tasks):
    """Seconds from starting the workers to the last fold's result, and each fold's score."""
    start = time.perf_counter()
    jobs, cluster = {"in turn": (1, None), "2 local workers": (2, None),
                     "Dask LocalCluster, 2 workers": (2, "local")}[mode]
    with workers.make_executor(jobs, cluster) as executor:
        results = harness.fold_runner(executor)(harness.evaluate_fold, tasks, lambda *a: None)
        scores = {key: acc for key, acc, _ in results}
    return time.perf_counter() - start, [scores[key] for key, _ in tasks]


def dask_overheads(dataX, dataY):
    """Per-task round trip, worker start-up, and sending the data to every worker, on a LocalCluster of 2."""
    from dask.distributed import Client, LocalCluster, wait
    start = time.perf_counter()
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None, silence_logs=40) as cluster, \
            Client(cluster) as client:
        client.submit(abs, -1).result()  # the workers are up and answering
        startup = time.perf_counter() - start
        n = 200
        start = time.perf_counter()
        for i in range(n):
            client.submit(abs, -i, pure=False).result()
        per_task = (time.perf_counter() - start) / n
        start = time.perf_counter()
        wait(client.scatter([dataX, dataY], broadcast=True, hash=False))
        scatter = time.perf_counter() - start
    return {"task_round_trip_s": per_task, "cluster_start_s": startup, "data_to_every_worker_s": scatter}


def study_on_paper(fold_seconds, overheads, n_workers):
    """Longest-first schedule of the study's 50 folds on n single-core workers, plus Dask's overheads."""
    durations = sorted((fold_seconds[e.script] * (study.AUGMENT_COST if e.augment else 1.0)
                        for e in study.GRID for _ in range(5)), reverse=True)
    finish = [0.0] * min(n_workers, len(durations))
    for d in durations:
        heapq.heapreplace(finish, finish[0] + d + overheads["task_round_trip_s"])
    return max(finish) + overheads["cluster_start_s"] + overheads["data_to_every_worker_s"]


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.scaling", description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", choices=list(MODELS), default=["deeper"])
    parser.add_argument("--images", type=int, default=12_000, metavar="N",
                        help="images split into the folds (default: 12,000: 9,600 train + 2,400 test per fold)")
    parser.add_argument("--folds", type=int, default=4, metavar="K", help="folds (tasks) per mode (default: 4)")
    cli.add_flag(parser, "epochs", default=2)
    parser.add_argument("--repeats", type=int, default=1, metavar="R", help="interleaved repeats (default: 1)")
    cli.add_data_args(parser, limit=False)
    cli.add_flag(parser, "out", default=os.path.join(ROOT, "bench", "scaling.json"), metavar="PATH",
                 default_text="bench/scaling.json")
    args = parser.parse_args(argv)

    def measure():
        dataX, dataY, _, _ = harness.load_dataset(args.data, args.images)
        dataX = harness.scale_pixels(dataX)
        runs = {}
        for name in args.models:
            tasks = fold_tasks(MODELS[name], dataX, dataY, args.folds, args.epochs)
            times = {mode: [] for mode in MODES}
            for _ in range(args.repeats):
                for mode in MODES:
                    seconds, scores = time_mode(mode, tasks)
                    times[mode].append(seconds)
                    print(f"{name}: {mode}: {seconds:.1f} s, scores {[round(s, 4) for s in scores]}",
                          file=sys.stderr, flush=True)
            runs[name] = {mode: min(t) for mode, t in times.items()}
        overheads = dask_overheads(dataX, dataY)
        # One single-core worker's fold at full size, scaled from the 2-worker runs here (2 folds at a time).
        fold_images = args.images * (args.folds - 1) / args.folds
        scale = (FULL_FOLD_IMAGES * FULL_EPOCHS) / (fold_images * args.epochs)
        full_fold = {MODELS[name]: runs[name]["2 local workers"] * 2 / args.folds * scale for name in runs}
        for script, cost in study.EPOCH_COST.items():  # models not timed: scaled by their measured epoch cost
            if script not in full_fold:
                some = next(iter(full_fold))
                full_fold[script] = full_fold[some] * cost / study.EPOCH_COST[some]
        paper = {n: study_on_paper(full_fold, overheads, n) for n in (1, 2, 8, 32, 64)}
        write_report(args, runs, overheads, full_fold, paper)

    cli.run(measure, "python -m bench.scaling")


def write_report(args, runs, overheads, full_fold, paper):
    lines = ["# Fold throughput: in turn, 2 local workers, Dask LocalCluster of 2",
             "",
             f"Measured {datetime.date.today().isoformat()} on {os.cpu_count()} cores "
             f"({platform.processor() or platform.machine()}), `python -m bench.scaling "
             f"--models {' '.join(args.models)} --folds {args.folds} --images {args.images} --epochs {args.epochs}`: "
             f"{args.folds} folds of {args.images:,} images, {args.epochs} epochs each; wall seconds from starting "
             "the workers to the last fold's result (start-up and data transfer included); the ratio is folds "
             "per second relative to 'in turn' (one process, all cores).",
             "",
             "| model | " + " | ".join(MODES) + " |", "|---|" + "---:|" * len(MODES)]
    for name, t in runs.items():
        base = t["in turn"]
        lines.append(f"| {name} | " + " | ".join(f"{t[m]:.1f} s ({base / t[m]:.2f}x)" for m in MODES) + " |")
    lines += ["", f"Dask: {overheads['task_round_trip_s'] * 1000:.1f} ms per task round trip, "
                  f"{overheads['cluster_start_s']:.1f} s to start a LocalCluster of 2, "
                  f"{overheads['data_to_every_worker_s']:.2f} s to send the data to every worker.",
              "", "On paper: the full study (`python study.py`: 10 experiments x 5 folds x 10 epochs, 48,000 "
                  "training images per fold) on N single-core workers, longest folds first, from one "
                  "single-core fold's time (scaled from the 2-worker runs above: "
                  + ", ".join(f"{script} {format_seconds(sec)}" for script, sec in full_fold.items())
                  + ") plus the Dask overheads:", "",
              "| workers | wall time |", "|---:|---:|"]
    lines += [f"| {n} | {format_seconds(seconds)} |" for n, seconds in paper.items()]
    text = "\n".join(lines) + "\n"
    print("\n" + text)
    md = os.path.splitext(args.out)[0] + ".md"
    with files.atomic_path(md) as tmp:
        with open(tmp, "w") as f:
            f.write(text)
    report = {"date": datetime.date.today().isoformat(), "machine": platform.processor() or platform.machine(),
              "cores": os.cpu_count(), "versions": versions(), "args": vars(args), "wall_seconds": runs,
              "dask_overheads": overheads, "full_fold_seconds_one_core": full_fold,
              "study_on_paper_seconds": paper}
    files.write_json(report, args.out)
    print(f"wrote {args.out} and {md}", file=sys.stderr)


if __name__ == "__main__":
    main()
