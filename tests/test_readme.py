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


def _console_blocks(command: str) -> list[str]:
    text = (REPO / "README.md").read_text()
    return [b for b in re.findall(r"```console\n(.*?)```", text, re.S) if b.startswith(f"$ {command}")]


def test_explain_examples_are_what_explain_prints():
    blocks = _console_blocks("nngrad explain sample_nets/") + [
        re.sub(r"(?m)^  ", "", b) for b in re.findall(r"  ```console\n(.*?)  ```",
                                                      (REPO / "README.md").read_text(), re.S)
        if "nngrad explain" in b]
    assert len(blocks) == 2
    for block in blocks:
        command, *shown = block.splitlines()
        proc = subprocess.run([sys.executable, "-m", *command[2:].split()], cwd=REPO,
                              capture_output=True, text=True)
        assert proc.returncode == 0
        for line in shown:
            if line != "...":
                assert line in proc.stdout.splitlines(), line


def test_init_and_step_examples_are_what_they_print(tmp_path):
    text = (REPO / "README.md").read_text()
    init = next(b for b in re.findall(r"```console\n(.*?)```", text, re.S)
                if b.startswith("$ nngrad init") and "\n$ head -12 net.yaml\n" in b)
    command, head, *shown = init.splitlines()
    assert head == "$ head -12 net.yaml"
    args = command[2:].split()[1:]
    proc = subprocess.run([sys.executable, "-m", "nngrad", *args], cwd=tmp_path, capture_output=True,
                          text=True)
    assert proc.returncode == 0
    assert (tmp_path / "net.yaml").read_text().splitlines()[:12] == shown
    step = next(b for b in re.findall(r"```console\n(.*?)```", text, re.S) if b.startswith("$ nngrad step"))
    command, *shown = step.splitlines()
    shutil.copytree(SAMPLES, tmp_path / "sample_nets")
    proc = subprocess.run([sys.executable, "-m", *command[2:].split()], cwd=tmp_path,
                          capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stderr.splitlines() == shown and proc.stdout == ""


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
    """The folder the README's examples run in: the samples, the files its text says it made
    (reg.yaml by its init line, mine.npz by its my_backprop.py), and its broken net.yaml."""
    shutil.copytree(SAMPLES, tmp_path / "sample_nets")
    for name in ("net.yaml", "net_with_w3_transposed.yaml"):
        shutil.copy(DATA / "net_with_w3_transposed.yaml", tmp_path / name)
    init = re.search(r"(?m)^(nngrad init [^#\n]*-o reg\.yaml)", text).group(1)
    subprocess.run([sys.executable, "-m", *init.split()], cwd=tmp_path, check=True)
    for script in re.findall(r"```python\n(# (\w+\.py):.*?)```", text, re.S):
        (tmp_path / script[1]).write_text(script[0])  # each script the text names, as written
    subprocess.run([sys.executable, "my_backprop.py"], cwd=tmp_path, check=True)


def test_every_console_block_prints_what_it_shows(tmp_path):
    text = (REPO / "README.md").read_text()
    _scratch(tmp_path, text)
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "FORCE_COLOR")}
    bindir = Path(sys.executable).parent  # nngrad's own entry point first on PATH
    env.update(NO_COLOR="1", PATH=f"{bindir}{os.pathsep}{env.get('PATH', '')}")
    ran = 0
    for command, shown in _commands(text):
        if "| jq" in command and shutil.which("jq") is None:
            continue
        proc = subprocess.run(["bash", "-c", command], cwd=tmp_path, capture_output=True, text=True,
                              env=env)
        real = [line.rstrip() for line in (proc.stdout + proc.stderr).splitlines()]
        if "..." in shown:
            assert [l for l in shown if l != "..." and l not in real] == [], command
        else:
            assert real == [l.rstrip() for l in shown], command
        ran += 1
    assert ran >= 12
