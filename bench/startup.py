"""How long a script takes to answer --help and a usage error, and to start its work (importing Keras).

    python -m bench.startup
    python -m bench.startup --baseline ../old-checkout --runs 5

Runs each command as a user types it, in a new process (`python SCRIPT ARGS`
from the repository root), --runs times, and reports the median wall time
from starting the process to its exit: --help and a usage error of
baseline_cv.py and predict_image.py, and `import plumbing.quiet`, the import
of Keras (with TensorFlow) that every piece of work starts with. --baseline
DIR also runs DIR's scripts (another checkout), alternating run by run, so
both see the same machine; the ratio is this checkout's median over the
baseline's. Other work on the machine slows both.
"""
import argparse
import os
import shlex
import statistics
import subprocess
import sys
import time

from plumbing.progress import cpu_name

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COMMANDS = [  # (what a user types, the exit status it should end with)
    (["baseline_cv.py", "--help"], 0),
    (["predict_image.py", "--help"], 0),
    (["baseline_cv.py", "--epochs", "0"], 2),
    (["predict_image.py", "--top-k", "0"], 2),
    (["-c", "import plumbing.quiet"], 0),
]


def timed_run(checkout, args, status):
    """Seconds from starting `python ARGS` in `checkout` to its exit."""
    start = time.perf_counter()
    result = subprocess.run([sys.executable, *args], cwd=checkout, capture_output=True, timeout=300)
    seconds = time.perf_counter() - start
    if result.returncode != status:
        sys.exit(f"bench.startup: error: python {' '.join(args)} in {checkout} ended with exit status "
                 f"{result.returncode}, not {status}")
    return seconds


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.startup", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, metavar="N", help="runs of each command (default: 5)")
    parser.add_argument("--baseline", metavar="DIR", help="another checkout whose scripts to compare with")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error(f"--runs {args.runs} must be at least 1")

    checkouts = {"this": ROOT, **({"baseline": os.path.abspath(args.baseline)} if args.baseline else {})}
    medians = {}
    for command, status in COMMANDS:
        seconds = {name: [] for name in checkouts}
        for _ in range(args.runs):  # alternating: both checkouts see the same moments of the machine
            for name, checkout in checkouts.items():
                seconds[name].append(timed_run(checkout, command, status))
        medians[shlex.join(command)] = {name: statistics.median(s) for name, s in seconds.items()}
    print(f"{cpu_name()}, {os.cpu_count()} cores; median of {args.runs} runs each, a new process each\n")
    print("| command | " + " | ".join(f"{name} (s)" for name in checkouts) + (" | ratio |" if args.baseline else " |"))
    print("|---|" + "---:|" * (len(checkouts) + bool(args.baseline)))
    for command, by_checkout in medians.items():
        ratio = f" {by_checkout['this'] / by_checkout['baseline']:.2f} |" if args.baseline else ""
        print(f"| `python {command}` | " + " | ".join(f"{s:.2f}" for s in by_checkout.values()) + " |" + ratio)


if __name__ == "__main__":
    main()
