"""Stage 4: fit the deeper model on the training images (all 60,000, or --limit N) and save it as final_model.h5.

    python train_final.py
    python train_final.py --augment --epochs 15 --model final_model_augment.h5   # reads real handwriting better
    python train_final.py --handwriting     # the model for your own handwriting: final_model_handwriting.h5

--handwriting trains the members of HANDWRITING below one after another and
saves their mean as one model (docs/own_images.md says why these), with an
11th output: P(not a digit), from three judges trained on MNIST's digits and
as many images that are not digits (handwriting/not_digits.py) and
calibrated on digits they never saw (JUDGES), with which predict_image.py
answers "no digit". Each finished member is kept, with its
settings, in <model>.members/: after an interruption the same command trains
only the members not kept yet. Other flags changed from their defaults apply
to every member (--limit 1000 --epochs 1 for a quick try).
"""
import dataclasses
import os
import sys

import harness
import numpy as np
from deeper_cv import define_model
from experiments import experiment
from experiments.experiment import stopped
from experiments.extensions import with_extensions, with_flags
from network import saved_model
from plumbing import cli

# Keras (with TensorFlow) and what imports it (plumbing.progress, handwriting) are imported where they are
# used: 6-9 s that --help and a mistake do without.

HANDWRITING_MODEL = "final_model_handwriting.h5"
FLAG_ONES_MODEL = "final_model_flag_ones.h5"
# --handwriting: the members, each as train_final.py's flags would set it. Two augmented seeds and one
# with flags on 1s read real handwriting best of the models measured (docs/own_images.md, which model).
HANDWRITING = [dict(augment=True, epochs=15, seed=1),
               dict(augment=True, epochs=15, seed=2),
               dict(augment=True, epochs=15, seed=1, flag_ones=True)]
# ... and three judges of "not a digit" (seeds 1 to 3), each trained as they are but on twice the images per epoch
# (handwriting/not_digits.training_set), for two thirds of their epochs (10 for their 15), on all but a held-out
# tenth of the training digits. Their mean logit is calibrated on that tenth, drawn again as the reader sees a
# digit, so that the reader's threshold (reading.Decision.max_not_a_digit) rejects JUDGE_DIGITS_REJECTED of them:
# 1 in 200, where the first judge's 0.99 fell (0.55% of MNIST's test digits drawn again). Judges trained since
# fell at 0.05% to 0.5%, and one judge alone, even calibrated, rejected 78 to 85 of the 93 confirming non-digits
# of python -m bench.real_sets; three together 88, and the command's own three, trained twice, 86 and 89
# (docs/own_images.md).
JUDGES = [dict(augment=True, seed=seed, not_a_digit=True, held_out=0.1) for seed in (1, 2, 3)]
JUDGE_EPOCH_SHARE = 2 / 3
JUDGE_DIGITS_REJECTED = 0.005


@dataclasses.dataclass(frozen=True, kw_only=True)
class Settings(experiment.Training):
    """What one trained model depends on: the training settings a cross-validation has too, and these (a
    member is reused only with the same)."""
    flag_ones: bool = False
    data: str | None = None
    not_a_digit: bool = False
    held_out: float = 0.0  # a judge's: the share of the training digits it does not learn from (calibrate)


def settings_from(args, **changes):
    return dataclasses.replace(Settings(**{f.name: getattr(args, f.name, f.default)
                                           for f in dataclasses.fields(Settings)}), **changes)


def train(settings, progress):
    """train_final.py's model trained with these settings (flags drawn on the 1s before scaling, if asked)."""
    import keras

    from plumbing.progress import fit_verbosity

    # load dataset and prepare pixel data
    trainX, trainY, _, _ = harness.load_dataset(settings.data, settings.limit)
    if settings.not_a_digit:
        return train_not_a_digit(trainX, settings, progress)
    if settings.flag_ones:
        trainX, flagged = with_flags(trainX, trainY, settings.seed)
        print(f"flags drawn on {flagged} of {int((trainY.argmax(axis=1) == 1).sum())} training 1s",
              file=sys.stderr, flush=True)
    trainX = harness.scale_pixels(trainX)
    keras.utils.set_random_seed(settings.seed)
    model = with_extensions(define_model(settings.learning_rate), settings.scaling, settings.augment, trainX)
    model.fit(trainX, trainY, epochs=settings.epochs, batch_size=settings.batch_size,
              verbose=fit_verbosity(), callbacks=[progress])
    return model


def define_not_a_digit_model(learning_rate=0.01):
    """deeper_cv.py's model with one output, P(not a digit) (a sigmoid), in place of the ten digits'."""
    import keras

    digits = define_model(learning_rate)
    model = keras.Sequential([keras.Input((28, 28, 1)), *digits.layers[:-1],
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=learning_rate, momentum=0.9),
                  loss="binary_crossentropy", metrics=["accuracy"], steps_per_execution=digits.steps_per_execution)
    return model


def train_not_a_digit(trainX, settings, progress):
    """A judge of "not a digit", trained on the training digits but the held-out share (judges_held_out) and
    as many images that are not digits."""
    import keras

    from handwriting import not_digits
    from plumbing.progress import fit_verbosity

    digits = harness.scale_pixels(trainX[judges_held_out(trainX, settings):])[..., 0]
    print(f"drawing {len(digits) // 2:,} of the digits again and {len(digits) // 2:,} images that are not digits "
          "(handwriting/not_digits.py) for the judge of not a digit", file=sys.stderr, flush=True)
    images, labels = not_digits.training_set(digits, np.random.default_rng(settings.seed))
    keras.utils.set_random_seed(settings.seed)
    model = with_extensions(define_not_a_digit_model(settings.learning_rate), settings.scaling, settings.augment,
                            images)
    model.fit(images, labels, epochs=settings.epochs, batch_size=settings.batch_size, shuffle=True,
              verbose=fit_verbosity(), callbacks=[progress])
    return model


def judges_held_out(trainX, judge):
    """How many of the first training images a judge with these settings does not learn from."""
    return int(len(trainX) * judge.held_out)


def calibrate(model, digits, share):
    """Set the bias of the judges' last layer (saved_model.CALIBRATION, on their mean logit) so that the reader's
    threshold rejects `share` of `digits` (n, 28, 28), digits the judges never saw: the same operating point
    whatever a training run's confidence."""
    from scipy.special import logit

    from handwriting.reading import DECISION

    _, p = saved_model.predict(model, digits[..., None])
    at = np.quantile(logit(np.clip(p.astype(np.float64), 1e-7, 1 - 1e-7)), 1 - share)
    last = model.get_layer(saved_model.CALIBRATION)
    kernel, bias = last.get_weights()
    last.set_weights([kernel, bias + np.float32(logit(DECISION.max_not_a_digit) - at)])
    print(f"judges of not a digit calibrated on {len(digits):,} held-out digits: {share:.1%} rejected "
          f"(before: {np.mean(p >= DECISION.max_not_a_digit):.2%})", file=sys.stderr, flush=True)


def member_settings(parser, args):
    """The settings of each --handwriting member: the recipe's, with the flags the user changed on top; the
    judges of "not a digit" last."""
    changed = {f.name for f in dataclasses.fields(Settings)
               if hasattr(args, f.name) and getattr(args, f.name) != parser.get_default(f.name)}
    for name in changed:
        if len({member.get(name) for member in HANDWRITING}) > 1:
            parser.error(f"--{name.replace('_', '-')} differs between --handwriting's members; it cannot be set")
    members = [settings_from(args, **{k: v for k, v in member.items() if k not in changed}) for member in HANDWRITING]
    judge_epochs = max(1, round(members[0].epochs * JUDGE_EPOCH_SHARE))
    return members + [settings_from(args, **judge, epochs=judge_epochs) for judge in JUDGES]


class Members:
    """The finished members of a --handwriting run: member_<i>.h5, each with the settings it was trained
    with in its attributes (saved_model.save), so only a member trained the same way is reused."""

    def __init__(self, model_path):
        self.folder = os.path.splitext(model_path)[0] + ".members"

    def path(self, i):
        return os.path.join(self.folder, f"member_{i + 1}.h5")

    def kept(self, i, settings):
        try:  # (settings saved before a field was added have its default)
            return Settings(**saved_model.saved_settings(self.path(i))) == settings
        except (TypeError, ValueError):  # none saved, or not ours
            return False

    def save(self, i, model, settings):
        saved_model.save(model, self.path(i), dataclasses.asdict(settings))


def train_handwriting(members, out, settings):
    """Train the members not kept yet, in turn, with one progress line (and ETA) over all of them;
    then save their mean as one model at `out` (with the command's `settings`)."""
    from plumbing.progress import Progress

    store = Members(out)
    todo = [i for i, member in enumerate(members) if not store.kept(i, member)]
    for i in sorted(set(range(len(members))) - set(todo)):
        print(f"member {i + 1}/{len(members)}: kept from an earlier run ({store.path(i)})", file=sys.stderr)
    progress = Progress(sum(members[i].epochs for i in todo))
    try:
        for i in todo:
            progress.label = f"member {i + 1}/{len(members)} "
            store.save(i, train(members[i], progress), members[i])
    except KeyboardInterrupt as stop:
        kept = sum(store.kept(i, member) for i, member in enumerate(members))
        stopped("train_final.py", stop, f"{kept} of {len(members)} members kept in {store.folder}",
                "run the same command to train the rest")
    digits = [saved_model.load(store.path(i)) for i, member in enumerate(members) if not member.not_a_digit]
    judges = [saved_model.load(store.path(i), outputs=(1,)) for i, member in enumerate(members) if member.not_a_digit]
    model = saved_model.average(digits, judges)
    if judges:
        from handwriting import not_digits

        judge = next(member for member in members if member.not_a_digit)
        trainX, _, _, _ = harness.load_dataset(judge.data, judge.limit)
        held_out = trainX[:judges_held_out(trainX, judge)]
        calibrate(model, not_digits.redrawn(harness.scale_pixels(held_out)[..., 0], np.random.default_rng(0)),
                  JUDGE_DIGITS_REJECTED)
    saved_model.save(model, out, settings)
    print(f"saved {out}: the mean of {len(digits)} models, and P(not a digit) from {len(judges)} judges "
          f"(kept in {store.folder})")


def main(argv=None):
    parser = cli.parser_for("train_final.py", __doc__.splitlines()[0])
    experiment.add_flags(parser, experiment.TRAINING)
    parser.add_argument("--flag-ones", action="store_true",
                        help="draw a flag (a stroke down to the left, sometimes a base) on half the training 1s, "
                             "as many people write 1; the test set is untouched (default: off)")
    parser.add_argument("--handwriting", action="store_true",
                        help="train the model recommended for your own handwriting: the mean of "
                             + ", ".join(" ".join(f"--{k.replace('_', '-')}" if v is True else f"--{k} {v}"
                                                  for k, v in member.items()) for member in HANDWRITING)
                             + ', with a judge of "not a digit" (P in an 11th output)')
    cli.add_flag(parser, "model", default=None,
                 default_text=f"{cli.MODEL}, or {HANDWRITING_MODEL} with --handwriting; with other settings a name "
                              "that says them, e.g. final_model-epochs1-limit6000.h5")
    args = parser.parse_args(argv)
    experiment.check_args(parser, args)
    members = member_settings(parser, args) if args.handwriting else None
    default = HANDWRITING_MODEL if args.handwriting else FLAG_ONES_MODEL if args.flag_ones else cli.MODEL

    def run():
        from plumbing.progress import Progress, describe_device

        # --model, else a name that says the settings off their defaults: a quick try never replaces a
        # model trained with other settings (refused before training)
        path, settings = experiment.final_model_file(args, default)
        print(describe_device(), file=sys.stderr, flush=True)
        if members:
            return train_handwriting(members, path, settings)
        model = train(settings_from(args), Progress(args.epochs))
        # written to a temp file and renamed: an interrupted run keeps the old model
        saved_model.save(model, path, settings)
        print(f"saved {path}")

    cli.run(run, "train_final.py")


if __name__ == "__main__":
    cli.run_then_exit(main)
