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
import functools
import importlib
import os
import sys
import time

import harness
import workers
import compare

# (stage script, settings off the tutorial's). The results folder is named as the script would name it.
GRID = [
    ("baseline_cv.py", {}),
    ("batchnorm_cv.py", {}),
    ("deeper_cv.py", {}),
    ("baseline_cv.py", {"scaling": "center"}),           # Extension: tune pixel scaling
    ("baseline_cv.py", {"scaling": "standardize"}),
    ("baseline_cv.py", {"learning_rate": 0.001}),        # Extension: tune the learning rate
    ("baseline_cv.py", {"learning_rate": 0.0001}),
    ("depth_cv.py", {"variant": "conv"}),                # Extension: tune model depth
    ("depth_cv.py", {"variant": "dense"}),
    ("deeper_cv.py", {"augment": True}),                 # --augment
]
# Seconds per epoch relative to the baseline's, to start the longest folds first: the three models'
# from the README's Results (one process, 2026-11-22); depth_cv.py's and --augment's are estimates.
# They only order the queue.
EPOCH_COST = {"baseline_cv.py": 1.0, "batchnorm_cv.py": 2.1, "deeper_cv.py": 3.1, "depth_cv.py": 1.4}
AUGMENT_COST = 1.3


def settings(script, changes, args):
    """The namespace a CV script would have parsed for these settings (so names and configs match)."""
    return argparse.Namespace(**{"epochs": args.epochs, "batch_size": 32, "folds": args.folds, "seed": args.seed,
                                 "limit": args.limit, "reuse_model": False, "scaling": "normalize",
                                 "learning_rate": 0.01, "variant": None, "augment": False, **changes})


def experiment_name(script, changes, args=None):
    return os.path.basename(harness.default_out(settings(script, changes, args or DEFAULTS), script))


DEFAULTS = argparse.Namespace(epochs=10, folds=5, seed=1, limit=None)
NAMES = [experiment_name(script, changes) for script, changes in GRID]


def define_model_for(script, s):
    """The script's define_model (or --variant's), with the learning rate: picklable for workers."""
    module = importlib.import_module(script[:-3])
    define_model = module.VARIANTS[s.variant] if s.variant else module.define_model
    return functools.partial(define_model, s.learning_rate)


def parse_args():
    parser = argparse.ArgumentParser(
        prog="study.py", description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="experiments (default: all; choose with --only NAME ...):\n" + "\n".join(
            f"  {name:<26} python {script} {' '.join(cli_flags(changes))}".rstrip()
            for name, (script, changes) in zip(NAMES, GRID)))
    parser.add_argument("--only", nargs="+", choices=NAMES, metavar="NAME", help="run only these experiments")
    parser.add_argument("--epochs", type=int, default=10, metavar="N", help="training epochs (default: 10)")
    parser.add_argument("--folds", type=int, default=5, metavar="K", help="cross-validation folds (default: 5)")
    parser.add_argument("--seed", type=int, default=1, metavar="S", help="seed, as in the CV scripts (default: 1)")
    harness.add_data_args(parser)
    parser.add_argument("--results", default="results", metavar="DIR",
                        help="where each experiment's folder goes (default: results)")
    harness.add_parallel_args(parser, default_jobs=workers.default_jobs(len(NAMES) * 5))
    args = parser.parse_args()
    harness.positive(parser, args, "epochs", "limit", "jobs")
    if args.folds < 2:
        parser.error("--folds must be at least 2")
    return args


def cli_flags(changes):
    flags = {"scaling": "--scaling {}", "learning_rate": "--learning-rate {:g}", "variant": "--variant {}"}
    return [flags[k].format(v) if k in flags else f"--{k}" for k, v in changes.items()]


def main():
    import matplotlib
    matplotlib.use("Agg")  # plots go to files
    args = parse_args()
    chosen = [(name, script, changes) for name, (script, changes) in zip(NAMES, GRID)
              if not args.only or name in args.only]

    def study():
        dataX, dataY, _, _ = harness.load_dataset(args.data, args.limit)
        dataX, _ = harness.prep_pixels(dataX, dataX[:0])
        folds = harness.kfold_splits(len(dataX), args.folds, args.seed)
        split = harness.split_fingerprint(folds)
        experiments, tasks = {}, []
        for name, script, changes in chosen:
            s = settings(script, changes, args)
            config = harness.cv_config(s, script)
            out = os.path.join(args.results, name)
            finished = earlier_folds(os.path.join(out, "scores.json"), config, split)
            experiments[name] = {"config": config, "out": out, "finished": finished, "started": time.monotonic()}
            define_model = define_model_for(script, s)
            cost = EPOCH_COST[script] * (AUGMENT_COST if s.augment else 1.0)
            for fold in range(args.folds):
                if fold not in finished:
                    train_ix, test_ix = folds[fold]
                    tasks.append((cost, (name, fold), dict(
                        define_model=define_model, dataX=dataX, dataY=dataY, train_ix=train_ix, test_ix=test_ix,
                        seed=harness.fold_seed(args.seed, fold), epochs=args.epochs, batch_size=32,
                        scaling=s.scaling, augment=s.augment)))
        tasks.sort(key=lambda t: -t[0])  # longest first: the last round of the queue is then short
        skipped = sum(len(e["finished"]) for e in experiments.values())
        print(f"study: {len(experiments)} experiments, {len(tasks)} folds to train"
              + (f" ({skipped} already done)" if skipped else ""), file=sys.stderr, flush=True)
        progress = harness.Progress(args.epochs * len(tasks))

        def report_epoch(key, epoch, logs):
            progress.label = f"{key[0]} fold {key[1] + 1}/{args.folds} "
            progress.on_epoch_end(epoch, logs)

        jobs = max(1, min(args.jobs or workers.default_jobs(len(tasks)), len(tasks)))
        try:
            with workers.make_executor(jobs, args.cluster) as executor:
                results = workers.run_folds(executor, [(key, kwargs) for _, key, kwargs in tasks], report_epoch)
                for (name, fold), accuracy, history in results:
                    e = experiments[name]
                    e["finished"][fold] = (accuracy, history)
                    harness.write_scores(os.path.join(e["out"], "scores.json"), e["finished"], e["config"],
                                         len(dataX), split, args.data, time.monotonic() - e["started"])
                    if len(e["finished"]) == args.folds:
                        summarize(name, e)
        except (KeyboardInterrupt, workers.BrokenProcessPool) as stop:
            kept = sum(len(e["finished"]) for e in experiments.values())
            why = "interrupted" if isinstance(stop, KeyboardInterrupt) else "a worker process died mid-fold"
            print(f"\nstudy.py: {why}: {kept} folds kept in their scores.json; run the same command again "
                  "to continue", file=sys.stderr)
            sys.exit(130 if isinstance(stop, KeyboardInterrupt) else 1)
        for name, e in experiments.items():
            if name not in {n for _, (n, _), _ in tasks}:
                summarize(name, e)  # finished on an earlier run
        compare.main([e["out"] for e in experiments.values()]
                     + ["--out", os.path.join(args.results, "compare")])

    harness.run(study)


def summarize(name, e):
    """The CV script's ending: learning curves, box plot, and the Accuracy line (here with the name)."""
    scores = [e["finished"][f][0] for f in sorted(e["finished"])]
    histories = [e["finished"][f][1] for f in sorted(e["finished"])]
    print(f"{name}: ", end="")
    harness.summarize_diagnostics(histories, os.path.join(e["out"], "learning_curves.png"))
    harness.summarize_performance(scores, os.path.join(e["out"], "boxplot.png"))


def earlier_folds(scores_path, config, split):
    """The folds an earlier run with the same settings and data finished (none if the settings differ)."""
    if not os.path.exists(scores_path):
        return {}
    try:
        finished, earlier_split = harness.resume_folds(scores_path, config)
    except harness.UserError as e:
        print(f"study.py: {e}; starting it afresh", file=sys.stderr)
        return {}
    if earlier_split != split:
        print(f"study.py: {scores_path}: other data was split into folds; starting it afresh", file=sys.stderr)
        return {}
    return finished


if __name__ == "__main__":
    main()
