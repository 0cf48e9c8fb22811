"""The code's layout (docs/development.md): scripts at the top level, machinery in packages, imports flowing down."""
import ast
import glob
import os

from conftest import REPO

SCRIPTS = {"baseline_cv.py", "batchnorm_cv.py", "deeper_cv.py", "train_final.py", "evaluate_final.py",
           "predict_image.py", "harness.py", "depth_cv.py", "study.py", "compare.py", "predict_web.py", "visualize.py"}
PACKAGES = {"experiments", "handwriting", "network", "plumbing"}


def imports(path):
    """The project's modules a file imports anywhere in it (in functions too), as top-level names: a
    package's name, or a script's name without .py."""
    with open(path) as f:
        tree = ast.parse(f.read())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names & ({s[:-3] for s in SCRIPTS} | PACKAGES)


def test_the_top_level_holds_only_what_users_run():
    assert {os.path.basename(p) for p in glob.glob(os.path.join(REPO, "*.py"))} == SCRIPTS


def test_every_package_says_what_it_is():
    for package in PACKAGES:
        with open(os.path.join(REPO, package, "__init__.py")) as f:
            assert len(ast.get_docstring(ast.parse(f.read())) or "") > 100, package


def test_packages_never_import_scripts_nor_each_other_in_a_circle():
    graph = {package: set() for package in PACKAGES}
    for package in PACKAGES:
        for path in glob.glob(os.path.join(REPO, package, "*.py")):
            found = imports(path)
            assert not found - PACKAGES, f"{path} imports the scripts {found - PACKAGES}"
            graph[package] |= found - {package}

    def reaches(start, target, seen=()):
        return any(n == target or (n not in seen and reaches(n, target, (*seen, n))) for n in graph[start])

    assert [p for p in sorted(PACKAGES) if reaches(p, p)] == []
    assert graph["plumbing"] == set() and graph["network"] == {"plumbing"}  # the bottom two layers
