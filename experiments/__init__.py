"""The experiment machinery under the cross-validation scripts: an experiment described once (experiment:
its settings, their flags and rules, its results folder and command line), the Extensions that change a model
or its training images (extensions: --scaling, --augment, --flag-ones), and folds run in parallel on worker
processes or a Dask cluster (workers). It never imports the scripts' code: harness.py runs an experiment
through it."""
