"""The README's worked examples run as written."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import REPO, SAMPLES


def _block(starting_with: str) -> str:
    text = (REPO / "README.md").read_text()
    return next(b for b in re.findall(r"```(?:python|yaml)\n(.*?)```", text, re.S)
                if b.startswith(starting_with))


def _compare(cwd):
    return subprocess.run([sys.executable, "-m", "nngrad", "compare", "sample_nets/04_mazur.yaml",
                           "mine.npz"], cwd=cwd, capture_output=True, text=True)


def test_use_it_in_ci_example(tmp_path):
    script = _block("# my_backprop.py")
    shutil.copytree(SAMPLES, tmp_path / "sample_nets")
    (tmp_path / "my_backprop.py").write_text(script)
    subprocess.run([sys.executable, "my_backprop.py"], cwd=tmp_path, check=True)
    planted = _compare(tmp_path)
    assert planted.returncode == 1
    assert "layer 1 uses tanh' (1 - a^2) where sigmoid' (a (1 - a)) belongs" in planted.stdout

    (tmp_path / "my_backprop.py").write_text(script.replace("(1 - A1**2)", "A1 * (1 - A1)"))
    subprocess.run([sys.executable, "my_backprop.py"], cwd=tmp_path, check=True)
    fixed = _compare(tmp_path)
    assert fixed.returncode == 0, fixed.stdout


def test_spec_example_runs(tmp_path):
    (tmp_path / "net.yaml").write_text(_block("# A 2-3-1 network"))
    proc = subprocess.run([sys.executable, "-m", "nngrad", "run", str(tmp_path / "net.yaml")],
                          capture_output=True, text=True)
    assert proc.returncode == 0 and "leaky_relu" in proc.stdout


CONSOLE = re.compile(r"(?m)^( *)```console\n(.*?)^\1```", re.S)
DATA = REPO / "tests" / "data" / "readme"


def _commands(text: str):
    """Every ``$ command`` of every console block, in order, with the lines shown under it."""
    for m in CONSOLE.finditer(text):
        indent, block = m.group(1), []
        for line in (l[len(indent):] for l in m.group(2).splitlines()):
            if line.startswith("$ "):
                block.append((line[2:], []))
            else:
                block[-1][1].append(line)
        yield from block


def _scratch(tmp_path, text: str):
    """The folder the README's examples run in: a clean checkout's sample_nets/ and
    tests/data/readme/, and the files its text says it made (reg.yaml by its init line,
    mine.npz by its my_backprop.py)."""
    shutil.copytree(SAMPLES, tmp_path / "sample_nets")
    shutil.copytree(DATA, tmp_path / "tests" / "data" / "readme")
    init = re.search(r"(?m)^(nngrad init [^#\n]*-o reg\.yaml)", text).group(1)
    subprocess.run([sys.executable, "-m", *init.split()], cwd=tmp_path, check=True)
    for script in re.findall(r"```python\n(# (\w+\.py):.*?)```", text, re.S):
        (tmp_path / script[1]).write_text(script[0])  # each script the text names, as written
    subprocess.run([sys.executable, "my_backprop.py"], cwd=tmp_path, check=True)


def test_every_console_block_prints_exactly_what_it_shows(tmp_path):
    """Every command of every console block runs, in order, in one folder, and prints what the
    block shows under it, byte for byte (standard output, then standard error)."""
    text = (REPO / "README.md").read_text()
    commands = list(_commands(text))
    assert len(CONSOLE.findall(text)) == text.count("```console")  # no block is missed
    assert all(shown != ["..."] and "..." not in shown for _, shown in commands)  # nothing elided
    _scratch(tmp_path, text)
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "FORCE_COLOR")}
    bindir = Path(sys.executable).parent  # nngrad's own entry point, and this python, first
    env.update(NO_COLOR="1", PATH=f"{bindir}{os.pathsep}{env.get('PATH', '')}")
    for command, shown in commands:
        proc = subprocess.run(["bash", "-c", command], cwd=tmp_path, capture_output=True, text=True,
                              env=env)
        assert proc.stdout + proc.stderr == "".join(line + "\n" for line in shown), command
    assert len(commands) >= 20


def test_the_first_lines_install_into_a_venv_and_ci_runs_their_test_command():
    text = (REPO / "README.md").read_text()
    first = re.search(r"```sh\n(.*?)```", text, re.S).group(1).splitlines()
    install, test = (line.split("  #")[0].strip() for line in first[:2])
    assert install.startswith("python3 -m venv .venv && . .venv/bin/activate && pip install .")
    assert test == 'pip install ".[test]" && python -m pytest'
    assert test in (REPO / ".ci" / "run").read_text().splitlines()  # CI runs it as written
