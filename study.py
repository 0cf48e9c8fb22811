"""The whole study in one command: the tutorial's three models and every Extension, 5-fold CV each.

    python study.py                          # every experiment below, on every core here
    python study.py --only baseline_cv deeper_cv --jobs 2
    python study.py --cluster tcp://scheduler:8786

All the folds of all the experiments are tasks for one pool of workers
(local processes, or a Dask cluster), longest first. Each experiment writes
its usual results/<name>/scores.json (after every fold) and plots, exactly as
its CV script would; folds already in a scores.json with the same settings
are skipped, so running the same command again finishes an interrupted
study. It ends by printing compare.py's table.
"""
import argparse
import dataclasses
import os
import sys

import compare
import harness
from experiments import experiment, workers
from experiments.experiment import Experiment
from plumbing import cli
from plumbing.scores import ScoresFile

GRID = [
    Experiment("baseline_cv.py"),
    Experiment("batchnorm_cv.py"),
    Experiment("deeper_cv.py"),
    Experiment("baseline_cv.py", scaling="center"),           # Extension: tune pixel scaling
    Experiment("baseline_cv.py", scaling="standardize"),
    Experiment("baseline_cv.py", learning_rate=0.001),        # Extension: tune the learning rate
    Experiment("baseline_cv.py", learning_rate=0.0001),
    Experiment("depth_cv.py", variant="conv"),                # Extension: tune model depth
    Experiment("depth_cv.py", variant="dense"),
    Experiment("deeper_cv.py", augment=True),                 # --augment
]
NAMES = [e.name for e in GRID]
# Seconds per epoch relative to the baseline's, to start the longest folds first: the three models'
# measured in one process on 2026-11-22 (docs/speed.md); depth_cv.py's and --augment's are estimates.
# They only order the queue.
EPOCH_COST = {"baseline_cv.py": 1.0, "batchnorm_cv.py": 2.1, "deeper_cv.py": 3.1, "depth_cv.py": 1.4}
AUGMENT_COST = 1.3


def fold_cost(e):
    return EPOCH_COST[e.script] * (AUGMENT_COST if e.augment else 1.0)


def parse_args(argv=None):
    parser = cli.parser_for(
        "study.py", __doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="experiments (default: all; choose with --only NAME ...):\n"
               + "\n".join(f"  {e.name:<26} {e.command()}" for e in GRID))
    parser.add_argument("--only", nargs="+", choices=NAMES, metavar="NAME", help="run only these experiments")
    experiment.add_flags(parser, ["epochs", "folds", "seed"])
    cli.add_flag(parser, "out", default="results")
    cli.add_parallel_args(parser, default_jobs=workers.default_jobs(len(NAMES) * 5))
    args = parser.parse_args(argv)
    experiment.check_args(parser, args)
    return args


def queue_folds(chosen, dataX, dataY, folds, out, data):
    """Each experiment's record (its scores.json, with the folds an earlier run with the same settings
    finished) and the fold tasks left, longest first: the last round of the queue is then short."""
    records, finished, tasks = {}, {}, []
    for e in chosen:
        records[e.name] = ScoresFile(os.path.join(out, e.name, "scores.json"), e.config(), data,
                                     resume="lenient", say=lambda line: print(f"study.py: {line}", file=sys.stderr))
        finished[e.name] = records[e.name].start(folds)
        todo = [fold for fold in range(len(folds)) if fold not in finished[e.name]]
        tasks += [(fold_cost(e), (e.name, fold), task)
                  for fold, task in harness.experiment_folds(e, dataX, dataY, folds, todo)]
    tasks.sort(key=lambda t: -t[0])
    return records, finished, [(key, task) for _, key, task in tasks]


def train_folds(tasks, jobs, cluster, on_fold, on_epoch):
    """Train the fold tasks on `jobs` workers (or the cluster); on_fold(key, accuracy, history) as each ends."""
    from plumbing.progress import describe_device  # (Keras: imported once there is work)

    with workers.make_executor(jobs, cluster) as executor:
        if tasks:  # what it trains on, before the first epoch
            print(f"{describe_device()}; folds {workers.describe_executor(executor)}", file=sys.stderr, flush=True)
        for key, accuracy, history in harness.fold_runner(executor)(harness.evaluate_fold, tasks, on_epoch):
            on_fold(key, accuracy, history)


def main(argv=None):
    args = parse_args(argv)
    cli.headless()
    chosen = [dataclasses.replace(e, epochs=args.epochs, folds=args.folds, seed=args.seed, limit=args.limit)
              for e in GRID if not args.only or e.name in args.only]
    by_name = {e.name: e for e in chosen}

    def study():
        from plumbing.progress import Progress

        dataX, dataY, _, _ = harness.load_dataset(args.data, args.limit)
        harness.check_folds(dataY.argmax(axis=1), args.folds, args.seed, args.data, args.limit)
        dataX = harness.scale_pixels(dataX)
        folds = harness.kfold_splits(len(dataX), args.folds, args.seed)
        records, finished, tasks = queue_folds(chosen, dataX, dataY, folds, args.out, args.data)
        skipped = sum(len(f) for f in finished.values())
        print(f"study: {len(chosen)} experiments, {len(tasks)} folds to train"
              + (f" ({skipped} already done)" if skipped else ""), file=sys.stderr, flush=True)
        progress = Progress(args.epochs * len(tasks))

        def on_epoch(key, epoch, logs):
            progress.label = f"{key[0]} fold {key[1] + 1}/{args.folds} "
            progress.on_epoch_end(epoch, logs)

        def on_fold(key, accuracy, history):
            name, fold = key
            finished[name][fold] = (accuracy, history)
            records[name].save(finished[name])
            if len(finished[name]) == args.folds:
                summarize(by_name[name], finished[name], args.out, len(dataX))

        try:
            train_folds(tasks, max(1, min(args.jobs or workers.default_jobs(len(tasks)), len(tasks))), args.cluster,
                        on_fold, on_epoch)
        except (KeyboardInterrupt, workers.BrokenProcessPool) as stop:
            experiment.stopped("study.py", stop, f"{sum(len(f) for f in finished.values())} folds kept in their "
                               "scores.json", "run the same command again to continue")
        trained = {name for (name, _), _ in tasks}
        for e in chosen:
            if e.name not in trained:  # finished on an earlier run
                summarize(e, finished[e.name], args.out, len(dataX))
        compare.compare_results([os.path.join(args.out, e.name) for e in chosen]
                                + ["--out", os.path.join(args.out, "compare")])

    cli.run(study, "study.py")


def summarize(e, finished, out, images):
    """The CV script's ending, harness.summarize: learning curves, box plot (titled as the script titles
    them) and the Accuracy line, here after the experiment's name."""
    print(f"{e.name}: ", end="")
    harness.summarize([finished[f][0] for f in sorted(finished)], [finished[f][1] for f in sorted(finished)],
                      os.path.join(out, e.name), title=f"{e.title()}, {images:,} images")


if __name__ == "__main__":
    main()
