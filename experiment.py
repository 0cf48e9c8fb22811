"""One description of a cross-validation experiment, and the command line of the CV scripts.

An Experiment (a stage script, its --variant, and the settings it trains
with) gives its results folder name, its scores.json configuration, its
model builder, its fold tasks and its command line. The CV scripts
(cv_main), study.py, compare.py, bench.scaling and --resume all use it.
"""
import dataclasses
import functools
import importlib
import math
import os
import sys

import harness
import workers
from extensions import AUGMENT_ROTATION, AUGMENT_TRANSLATION, AUGMENT_ZOOM, SCALINGS
from plumbing import cli, files
from plumbing.scores import ScoresFile


@dataclasses.dataclass(frozen=True)
class Experiment:
    script: str                  # the stage script whose define_model is trained, e.g. "baseline_cv.py"
    epochs: int = 10
    batch_size: int = 32
    folds: int = 5
    seed: int = 1
    limit: int | None = None     # the first N training images only
    reuse_model: bool = False    # the original tutorial's one model trained across all folds
    scaling: str = "normalize"
    learning_rate: float = 0.01
    variant: str | None = None   # depth_cv.py's --variant
    augment: bool = False

    def __post_init__(self):
        problems = settings_problems(dataclasses.asdict(self))
        if problems:
            raise ValueError("; ".join(problems))

    @property
    def name(self):
        """results/<name>: the script, plus a suffix for each setting off its default, so runs with other
        settings never overwrite each other (a quick --limit 6000 --epochs 2 goes to ...-epochs2-limit6000)."""
        return self.script[:-3] + settings_suffix(dataclasses.asdict(self))

    def title(self):
        """What the plots say they show: the experiment and how it was trained."""
        model = {k: v for k, v in dataclasses.asdict(self).items() if k not in RUN_SETTINGS}
        return (f"{self.script[:-3]}{settings_suffix(model)}: {self.folds} folds x {self.epochs} "
                f"epoch{'s' if self.epochs > 1 else ''}, "
                f"batch {self.batch_size}, SGD lr {self.learning_rate:g}, seed {self.seed}")

    def config(self):
        """The settings as scores.json records them; --resume continues only a run with the same."""
        return dataclasses.asdict(self)

    def define_model(self):
        """The script's define_model (or its --variant's) with the learning rate: picklable, for workers."""
        module = importlib.import_module(self.script[:-3])
        define_model = module.VARIANTS[self.variant] if self.variant else module.define_model
        return functools.partial(define_model, self.learning_rate)

    def argv(self):
        """The script's flags for the settings off their defaults."""
        flags = []
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if field.name == "script" or value == field.default:
                continue
            flag = "--" + field.name.replace("_", "-")
            flags += [flag] if value is True else [flag, f"{value:g}" if isinstance(value, float) else str(value)]
        return flags

    def command(self):
        return " ".join(["python", self.script, *self.argv()])

    def fold_tasks(self, dataX, dataY, folds, todo):
        """(fold, harness.evaluate_fold's arguments) for each fold in `todo`."""
        return harness.fold_tasks(self.define_model(), dataX, dataY, folds, todo, self.seed, epochs=self.epochs,
                                  batch_size=self.batch_size, scaling=self.scaling, augment=self.augment)


DEFAULTS = {f.name: f.default for f in dataclasses.fields(Experiment) if f.name != "script"}

# Each setting's flag: help text (its default is added from the dataclass) and argparse options; --epochs
# and --seed, which other scripts take too, are plumbing.cli.FLAGS'.
FLAGS = {
    "batch_size": ("batch size", dict(type=int, metavar="N")),
    "learning_rate": ("SGD learning rate ({default}; extension: try 0.001, 0.0001)", dict(type=float, metavar="LR")),
    "scaling": ("pixel scaling (default: normalize to [0, 1]; extension: center, standardize)",
                dict(choices=SCALINGS)),
    "augment": (f"randomly rotate (up to {AUGMENT_ROTATION * 360:g} degrees), shift (up to "
                f"{AUGMENT_TRANSLATION * 100:g}%% of the side) and zoom (up to {AUGMENT_ZOOM * 100:g}%%) the "
                "training images; inference unchanged (default: off, the tutorial's way)",
                dict(action="store_true")),
    "folds": ("cross-validation folds", dict(type=int, metavar="K")),
    "reuse_model": ("the original tutorial's way: ONE model, trained on fold after fold, so folds 2..k are "
                    "scored on images it has trained on (for comparison only)", dict(action="store_true")),
}
TRAINING = ("epochs", "batch_size", "learning_rate", "scaling", "augment", "seed")


def add_flags(parser, names):
    """Add the flags of these settings, with the dataclass's defaults; --data and --limit after "seed"."""
    for name in names:
        if name in cli.FLAGS:
            cli.add_flag(parser, name, default=DEFAULTS[name])
        else:
            text, options = FLAGS[name]
            default = DEFAULTS[name]
            if "{default}" in text:
                text = text.format(default=f"default: {default}")
            elif options.get("action") != "store_true" and "(default" not in text:
                text += f" (default: {default})"
            parser.add_argument("--" + name.replace("_", "-"), default=default, help=text, **options)
        if name == "seed":
            cli.add_data_args(parser)


def from_args(args, script):
    """The Experiment that parsed command-line arguments describe."""
    return Experiment(script, **{name: getattr(args, name) for name in DEFAULTS if hasattr(args, name)})


# What makes a setting meaningful: Experiment refuses anything else, and so does every script's command line.
RULES = {
    "epochs": (lambda v: v >= 1, "must be at least 1"),
    "batch_size": (lambda v: v >= 1, "must be at least 1"),
    "folds": (lambda v: v >= 2, "must be at least 2"),
    "limit": (lambda v: v is None or v >= 1, "must be at least 1"),
    "learning_rate": (lambda v: math.isfinite(v) and v > 0, "must be a positive number"),
}
# The settings that only change how long or on what a run trains: each names itself in results/<name>
# (and in train_final.py's model file), after the suffixes of the settings that change the model.
RUN_SETTINGS = {"epochs": "epochs", "batch_size": "batch", "folds": "folds", "seed": "seed", "limit": "limit"}


def settings_problems(settings):
    """'--flag must be ...' for each setting in `settings` that breaks its rule."""
    return [f"--{name.replace('_', '-')} {settings[name]:g} {message}"
            for name, (ok, message) in RULES.items() if name in settings and not ok(settings[name])]


def settings_suffix(settings):
    """'-center-lr0.001-epochs2-limit6000': a suffix for each setting off its default, those that change the
    model first ('' for the tutorial's run)."""
    suffix = ""
    if settings.get("variant"):
        suffix += f"-{settings['variant']}"
    if settings.get("scaling", "normalize") != "normalize":
        suffix += f"-{settings['scaling']}"
    if settings.get("learning_rate", 0.01) != 0.01:
        suffix += f"-lr{settings['learning_rate']:g}"
    if settings.get("reuse_model"):
        suffix += "-reuse"
    if settings.get("augment"):
        suffix += "-augment"
    return suffix + "".join(f"-{label}{settings[name]}" for name, label in RUN_SETTINGS.items()
                            if name in settings and settings[name] != DEFAULTS[name])


def check_args(parser, args):
    """A setting that cannot mean anything (0 epochs, a negative learning rate, ...): one line, exit status 2."""
    problems = settings_problems(vars(args))
    if problems:
        parser.exit(2, f"{parser.prog}: error: {problems[0]}\n")
    cli.positive(parser, args, "jobs")


# ---------------------------------------------------------------- train_final.py's model file

def final_model_path(settings, default="final_model.h5"):
    """final_model.h5 at the tutorial's settings, else a name that says the others: final_model-epochs1-limit6000.h5."""
    stem, ext = os.path.splitext(default)
    return stem + settings_suffix(settings) + ext


def final_model_file(args, default="final_model.h5"):
    """(path, settings) for train_final.py: --model, else final_model_path, so a quick try never replaces the
    tutorial's model. Refused, before training, if that file holds a model saved with other settings."""
    settings = {name: getattr(args, name) for name in DEFAULTS if hasattr(args, name)}
    path = args.model or final_model_path(settings, default)
    saved = files.saved_settings(path)
    if saved is not None and saved != settings:
        diff = ", ".join(f"{k.replace('_', '-')} {saved.get(k)}" for k in sorted(set(saved) | set(settings))
                         if saved.get(k) != settings.get(k))
        raise cli.UserError(f"{path}: holds a model trained with other settings ({diff}); "
                            "name another file with --model PATH, or delete it to replace it")
    return path, settings


def fold_runner(executor):
    """How the fold tasks run: in turn here, or on the executor's workers."""
    return harness.in_turn if executor is None else functools.partial(workers.run_folds, executor)


# ---------------------------------------------------------------- the CV scripts' command line

def cv_parser(script, description, variants=None, threads_per_fold=1):
    """The CV scripts' flags. `variants` (name -> define_model) adds --variant, choosing among them.
    `threads_per_fold`: how many cores one fold of this model uses well; the
    default --jobs is the number of cores over that (at most the folds)."""
    parser = cli.parser_for(script, description)
    add_flags(parser, TRAINING)
    if variants:
        parser.add_argument("--variant", choices=list(variants), default=next(iter(variants)),
                            help=f"which model (default: {next(iter(variants))})")
    add_flags(parser, ["folds"])
    cli.add_flag(parser, "out", default_text=f"results/{script[:-3]}, with a suffix per setting changed, "
                                             "e.g. -center, -lr0.001, -epochs2-limit6000")
    parser.add_argument("--show", action="store_true", help="also open the plots in windows")
    add_flags(parser, ["reuse_model"])
    parser.add_argument("--resume", action="store_true",
                        help="continue an interrupted run from its scores.json (same configuration only)")
    cli.add_parallel_args(parser, default_jobs=workers.default_jobs(5, threads_per_fold))
    return parser


def cv_main(script, description, variants=None, threads_per_fold=1, argv=None):
    """Everything a CV stage script does: parse its flags (cv_parser), then the tutorial's
    run_test_harness on the script's define_model (or its --variant's), writing scores.json
    after every fold and the plots at the end."""
    parser = cv_parser(script, description, variants, threads_per_fold)
    argv = sys.argv[1:] if argv is None else [str(a) for a in argv]
    args = parser.parse_args(argv)
    check_args(parser, args)
    cli.headless(args.show)
    experiment = from_args(args, script)
    jobs = args.jobs or workers.default_jobs(args.folds, threads_per_fold)
    if args.reuse_model and (jobs > 1 or args.cluster):
        if args.jobs or args.cluster:
            print(f"{script}: --reuse-model trains one model across the folds, so they run one after another "
                  "in this process", file=sys.stderr)
        jobs, args.cluster = 1, None
    out = args.out or files.run_folder(experiment.name)
    record = ScoresFile(os.path.join(out, "scores.json"), experiment.config(), args.data, resume=args.resume)
    remaining = args.folds - (record.folds_kept() if args.resume else 0)
    again = " ".join([os.path.basename(sys.executable), script] + [a for a in argv if a != "--resume"])

    def run_test_harness():
        try:
            # no more workers than folds to run (each then gets a bigger share of the cores)
            with workers.make_executor(max(1, min(jobs, remaining)), args.cluster) as executor:
                harness.run_test_harness(experiment.define_model(), out, args.data, args.limit, args.folds, args.show,
                                         folds_run=workers.describe_executor(executor),
                                         title=experiment.title(),
                                         epochs=args.epochs, batch_size=args.batch_size, seed=args.seed,
                                         reuse_model=args.reuse_model, scaling=args.scaling, augment=args.augment,
                                         record=record, run_folds=fold_runner(executor))
            print(f"wrote {out}/: scores.json, learning_curves.png, boxplot.png")
        except (KeyboardInterrupt, workers.BrokenProcessPool) as stop:
            stopped(script, stop, f"{record.folds_kept()} of {args.folds} folds kept in {record.path}",
                    f"continue with: {again} --resume")

    cli.run(run_test_harness, script)


def stopped(prog, stop, kept, then):
    """Ctrl-C (exit status 130) or a dead worker process (1): what was kept and how to go on, in one line."""
    if isinstance(stop, KeyboardInterrupt):
        print(f"\n{prog}: interrupted: {kept}; {then}", file=sys.stderr)
        sys.exit(130)
    raise cli.UserError(f"a worker process died mid-fold; {kept}; {then}")
