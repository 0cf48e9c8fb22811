"""Benchmarks behind the figures in docs/: each measures, none makes a model or a result a user needs.

Run each from the repository root as a module, e.g. `python -m bench.bench --quick`.
"""
