"""The notebook's model cells, generated from the stage scripts (as keras-io builds its notebooks from scripts).

    python tools/notebook_cells.py        # rewrite those cells of tutorial.ipynb from the scripts' current source

Each model cell of tutorial.ipynb (tagged "model:SCRIPT") is the script's own
code: its imports, define_model itself (which imports its Keras layers, so
that a script reads its flags before Keras loads) and depth_cv.py's
VARIANTS, then a summary of the model. tests/test_notebook.py checks that
the cells equal what this writes, so the notebook never shows an old copy.
The stage scripts are read as text (ast), never imported.
"""
import ast
import os
import sys

import nbformat

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOTEBOOK = os.path.join(REPO, "tutorial.ipynb")
MODEL_SCRIPTS = ["baseline_cv.py", "batchnorm_cv.py", "deeper_cv.py", "depth_cv.py"]
SHOWN = {"define_model", "VARIANTS"}  # the top-level definitions a model cell shows
TAG = "model:"


def with_comments(lines, node):
    """The source lines of a top-level node, with the comment lines right above it."""
    start = node.lineno - 1
    while start > 0 and lines[start - 1].lstrip().startswith("#"):
        start -= 1
    return "\n".join(lines[start:node.end_lineno])


def model_cell(script):
    """The code cell for `script`: its model's imports and definitions, in its own order, then a summary."""
    with open(os.path.join(REPO, script)) as f:
        source = f.read()
    lines = source.splitlines()
    imports, definitions = [], []
    for node in ast.parse(source).body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            imports.append(with_comments(lines, node))
        elif isinstance(node, ast.FunctionDef) and node.name in SHOWN:
            definitions.append(with_comments(lines, node))
        elif isinstance(node, ast.Assign) and {getattr(t, "id", None) for t in node.targets} & SHOWN:
            definitions.append(with_comments(lines, node))
    summary = "VARIANTS[\"conv\"]().summary()" if "VARIANTS" in source else "define_model().summary()"
    header = f"# {script}'s model, as the script has it (generated from it by tools/notebook_cells.py)"
    return "\n".join([header, *imports]) + "\n\n\n" + "\n\n\n".join(definitions) + "\n\n\n" + summary


def model_cells(nb):
    """script -> the notebook's code cell tagged model:SCRIPT."""
    return {tag[len(TAG):]: cell for cell in nb.cells for tag in cell.metadata.get("tags", [])
            if tag.startswith(TAG)}


def main(argv=None):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    cells = model_cells(nb)
    missing = [script for script in MODEL_SCRIPTS if script not in cells]
    if missing:
        sys.exit(f"notebook_cells.py: error: {NOTEBOOK}: no cell tagged {', '.join(TAG + s for s in missing)}")
    changed = [script for script in MODEL_SCRIPTS if cells[script].source != model_cell(script)]
    for script in changed:
        cells[script].source = model_cell(script)
    if changed:
        nbformat.write(nb, NOTEBOOK)
    print(f"{os.path.basename(NOTEBOOK)}: " + (f"rewrote the cells of {', '.join(changed)}" if changed
                                                 else "its model cells are the scripts' code already"))


if __name__ == "__main__":
    main()
