"""The numerical core imports only numpy (and pure parts of the standard library), and every
module stays small."""

import ast
import sys

import pytest

from conftest import REPO

CORE = ["activations", "losses", "network", "core", "gradcheck", "comparison", "diagnose",
        "report", "equations", "notation", "rules", "chainrule", "shapewalk", "descent", "initspec",
        "errors", "values", "shapes"]
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


LOADED = ("import sys, runpy; before = set(sys.modules); sys.argv = ['nngrad'] + sys.argv[1:]\n"
          "try: runpy.run_module('nngrad', run_name='__main__')\n"
          "except SystemExit: pass\n"
          "print(' '.join(sorted(set(sys.modules) - before)), file=sys.stderr)")


def modules_loaded_by(*args) -> set:
    """The modules that running ``nngrad *args`` loads beyond what the interpreter had at start."""
    import subprocess

    proc = subprocess.run([sys.executable, "-c", LOADED, *args], capture_output=True, text=True)
    return set(proc.stderr.split())


def test_run_json_imports_only_what_it_uses():
    loaded = modules_loaded_by("run", str(REPO / "sample_nets" / "01_relu_mse.yaml"), "--format", "json")
    assert "nngrad.core" in loaded and "yaml" in loaded
    for heavy in ("rich", "nngrad.chainrule", "nngrad.gradcheck", "nngrad.comparison",
                  "nngrad.render.table", "nngrad.cli.explain", "nngrad.cli.author", "zipfile",
                  "difflib"):
        assert heavy not in loaded, heavy


def test_package_exports_stay_functions_after_their_modules_load():
    import nngrad
    import nngrad.comparison  # noqa: F401
    import nngrad.gradcheck  # noqa: F401

    assert callable(nngrad.compare) and callable(nngrad.check) and callable(nngrad.explain)
