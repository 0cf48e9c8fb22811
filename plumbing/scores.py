"""scores.json: a CV run's finished folds and how they were made, rewritten after every fold, and --resume."""
import hashlib
import json
import os
import platform
import time

import numpy as np

from plumbing.cli import UserError
from plumbing.files import write_json


def split_fingerprint(folds):
    """A short hash of the folds' test indices: two runs pair fold by fold only if these match."""
    h = hashlib.sha256()
    for _, test_ix in folds:
        h.update(np.asarray(test_ix, dtype=np.int64).tobytes())
    return h.hexdigest()[:16]


def versions():
    import keras
    import sklearn

    v = {"python": platform.python_version(), "keras": keras.__version__, "backend": keras.backend.backend(),
         "numpy": np.__version__, "scikit-learn": sklearn.__version__}
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        v["tensorflow"] = tf.__version__
    return v


def write_scores(path, finished, config, n_samples, split, data, wall_seconds):
    """scores.json: the finished folds' scores and histories in fold order, and how they were made."""
    folds = sorted(finished)
    scores = [float(finished[f][0]) for f in folds]
    write_json({"scores": scores, "folds": folds, "mean": float(np.mean(scores)), "std": float(np.std(scores)),
                "n": len(scores), "complete": len(scores) == config["folds"],
                "histories": [finished[f][1] for f in folds], "config": config, "n_samples": n_samples,
                "split": split, "data": data or os.environ.get("MNIST_PATH") or "keras.datasets.mnist",
                "wall_seconds": round(wall_seconds, 1), "versions": versions()},
               path)


def folds_kept(scores_path):
    try:
        with open(scores_path) as f:
            return len(json.load(f)["scores"])
    except (OSError, ValueError, KeyError):
        return 0


def resume_folds(scores_path, config):
    """fold -> (score, history) for each fold an earlier run with the same configuration finished, and its split."""
    if config["reuse_model"]:
        raise UserError(f"{scores_path}: --resume does not work with --reuse-model (the shared model is not saved)")
    try:
        with open(scores_path) as f:
            saved = json.load(f)
    except FileNotFoundError:
        raise UserError(f"{scores_path}: nothing to resume (no earlier run there)")
    except (OSError, ValueError) as e:
        raise UserError(f"{scores_path}: cannot resume from it ({e})")
    earlier = saved.get("config", {}) if isinstance(saved, dict) else {}
    if earlier != config:
        diff = sorted(k for k in set(config) | set(earlier) if config.get(k) != earlier.get(k))
        raise UserError(f"{scores_path}: cannot resume, the earlier run used other settings ({', '.join(diff)})")
    try:
        return dict(zip(saved["folds"], zip(saved["scores"], saved["histories"]))), saved["split"]
    except (KeyError, TypeError):
        raise UserError(f"{scores_path}: cannot resume from it (not a scores.json as the CV scripts write it)")


class ScoresFile:
    """Where a CV run keeps its finished folds: evaluate_model calls start(folds) once, save(finished) per fold.

    resume=True starts from the folds an earlier run with the same settings
    finished ("strict": a mismatch is the user's error; "lenient": start
    afresh and say so, as study.py does for each experiment).
    """

    def __init__(self, path, config, data=None, resume=False, say=print):
        self.path, self.config, self.data, self.resume, self.say = path, config, data, resume, say
        self.n_samples = self.split = None
        self.start_time = time.monotonic()

    def start(self, folds):
        """The folds already finished (fold -> (score, history)), checked to come from the same split."""
        self.split = split_fingerprint(folds)
        self.n_samples = sum(len(test_ix) for _, test_ix in folds)
        if not self.resume:
            self.refuse_to_replace_other_settings()
            return {}
        lenient = self.resume == "lenient"
        if lenient and not os.path.exists(self.path):
            return {}
        try:
            done, split = resume_folds(self.path, self.config)
            if done and split != self.split:
                raise UserError(f"{self.path}: cannot resume, the earlier run split other data into folds")
        except UserError as e:
            if not lenient:
                raise
            self.say(f"{e}; starting it afresh")
            return {}
        if done:
            with open(self.path) as f:
                self.start_time -= json.load(f).get("wall_seconds", 0.0)
        return done

    def refuse_to_replace_other_settings(self):
        """A complete run made with other settings stays (the same settings are simply run again)."""
        try:
            with open(self.path) as f:
                saved = json.load(f)
        except (OSError, ValueError):
            return
        earlier = saved.get("config", {}) if isinstance(saved, dict) else {}
        if saved.get("complete") and earlier != self.config:
            diff = ", ".join(f"{k.replace('_', '-')} {earlier.get(k)}" for k in sorted(set(earlier) | set(self.config))
                             if earlier.get(k) != self.config.get(k))
            raise UserError(f"{self.path}: holds a complete run with other settings ({diff}); "
                            "choose another --out DIR, or delete it to replace it")

    def save(self, finished):
        write_scores(self.path, finished, self.config, self.n_samples, self.split, self.data,
                     time.monotonic() - self.start_time)

    def folds_kept(self):
        return folds_kept(self.path)
