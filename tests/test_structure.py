"""The numerical core imports only numpy (and pure parts of the standard library), and every
module stays small."""

import ast
import sys

import pytest

from conftest import REPO

CORE = ["activations", "losses", "network", "core", "gradcheck", "compare", "diagnose",
        "report", "equations", "notation", "rules", "chainrule", "shapewalk", "descent", "initspec",
        "errors"]
NO_IO = {"os", "sys", "io", "pathlib", "shutil", "subprocess", "tempfile", "builtins"}


def imports(path) -> set:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("module", CORE)
def test_core_module_imports_only_numpy(module):
    for name in imports(REPO / "nngrad" / f"{module}.py"):
        assert name == "numpy" or (name in sys.stdlib_module_names and name not in NO_IO), name


def test_core_does_not_print():
    for module in CORE:
        assert "print(" not in (REPO / "nngrad" / f"{module}.py").read_text(), module


def test_modules_stay_small():
    for path in (REPO / "nngrad").rglob("*.py"):
        assert len(path.read_text().splitlines()) <= 320, path
