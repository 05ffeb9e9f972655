"""The numerical core imports only numpy (and pure parts of the standard library), and every
module stays small."""

import ast
import sys

import pytest

from conftest import REPO

PURE = ("model", "numerics", "verify", "equations")  # folders: numpy only, no I/O, no printing
PURE_MODULES = ("errors", "specs.generate")
NO_IO = {"os", "sys", "io", "pathlib", "shutil", "subprocess", "tempfile", "builtins"}
PACKAGE = REPO / "nngrad"


def pure_files():
    files = [p for folder in PURE for p in sorted((PACKAGE / folder).glob("*.py"))]
    return files + [PACKAGE / (m.replace(".", "/") + ".py") for m in PURE_MODULES]


def module_of(path) -> str:
    return ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")


def imports(path) -> set:
    """Every module ``path`` imports, relative imports made absolute (``nngrad.model.network``)."""
    package = module_of(path).rsplit(".", 1)[0] if path.name != "__init__.py" else module_of(path)
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - max(node.level - 1, 0)]
            module = ".".join(base + [node.module]) if node.level and node.module else \
                ".".join(base) if node.level else node.module
            names.add(module)
    return names


def pure(module: str) -> bool:
    parts = module.split(".")
    return parts[0] == "nngrad" and (parts[1:2] and parts[1] in PURE or
                                     ".".join(parts[1:]) in PURE_MODULES or module == "nngrad")


@pytest.mark.parametrize("path", pure_files(), ids=module_of)
def test_pure_module_imports_only_numpy_and_pure_modules(path):
    for name in imports(path):
        top = name.split(".")[0]
        if top == "nngrad":
            assert pure(name), name
        else:
            assert top == "numpy" or (top in sys.stdlib_module_names and top not in NO_IO), name


@pytest.mark.parametrize("path", pure_files(), ids=module_of)
def test_pure_module_does_not_print(path):
    assert "print(" not in path.read_text()


def test_every_folder_is_a_package_with_a_summary():
    for folder in (p for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__"):
        init = folder / "__init__.py"
        assert init.is_file() and len(init.read_text().strip()) > 20, folder


def test_modules_stay_small():
    for path in PACKAGE.rglob("*.py"):
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
    assert "nngrad.numerics.passes" in loaded and "yaml" in loaded
    for heavy in ("rich", "nngrad.equations.build", "nngrad.verify.gradcheck", "nngrad.verify.compare",
                  "nngrad.render.table", "nngrad.cli.explain", "nngrad.cli.author", "zipfile",
                  "difflib"):
        assert heavy not in loaded, heavy


def test_package_exports_stay_functions_after_their_modules_load():
    import nngrad
    import nngrad.verify.compare  # noqa: F401
    import nngrad.verify.gradcheck  # noqa: F401

    assert callable(nngrad.compare) and callable(nngrad.check) and callable(nngrad.explain)


def test_every_folder_is_installed():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+

    listed = set(tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    folders = {"nngrad"} | {f"nngrad.{p.name}" for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    assert folders <= listed, folders - listed
