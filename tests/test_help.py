"""Help as a user meets it: bare ``nngrad``, a mistyped command, each command's own examples
(each one run), 80 columns, and shell completion."""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.shell_completion import BashComplete
from click.testing import CliRunner

import nngrad
from nngrad.cli import cli

COMMANDS = ["check", "compare", "convert", "explain", "graph", "health", "init", "run", "step"]


def invoke(*args, cwd=None, stdin=None, columns=None):
    env = {} if columns is None else {"COLUMNS": str(columns)}
    return CliRunner(env=env).invoke(cli, list(args), input=stdin, standalone_mode=False)


def help_text(*command, columns=None) -> str:
    result = invoke(*command, "--help", columns=columns)
    assert result.exception is None and result.return_value == 0
    return result.output


def examples(text: str) -> list[str]:
    """The command lines under 'Examples:', their comments cut."""
    lines = text.split("Examples:\n", 1)[1].splitlines()
    return [re.sub(r"\s+# .*", "", line).strip() for line in lines if line.strip()]


def test_bare_nngrad_prints_the_help_and_exits_0():
    proc = subprocess.run([sys.executable, "-m", "nngrad"], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stderr == ""
    assert proc.stdout.startswith("Usage: nngrad [OPTIONS] COMMAND") and "Commands:" in proc.stdout


@pytest.mark.parametrize("typed, meant", [("chek", "check"), ("expalin", "explain"), ("stpe", "step")])
def test_a_mistyped_command_gets_a_did_you_mean(typed, meant):
    result = invoke(typed)
    assert str(result.exception) == f"No such command '{typed}'. Did you mean '{meant}'?"


def test_a_mistyped_command_is_one_line_and_exit_2():
    proc = subprocess.run([sys.executable, "-m", "nngrad", "chek", "net.yaml"], capture_output=True,
                          text=True)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.splitlines() == ["nngrad: error: No such command 'chek'. Did you mean "
                                        "'check'? (see 'nngrad --help')"]


def test_a_name_like_no_command_gets_no_guess():
    assert str(invoke("frobnicate").exception) == "No such command 'frobnicate'."


@pytest.mark.parametrize("columns", [40, 80, 200])
@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_every_help_fits_80_columns(command, columns):
    text = help_text(*([command] if command else []), columns=columns)
    assert max(map(len, text.splitlines())) <= 80


def test_the_list_of_commands_gives_each_summary_whole():
    listed = help_text().split("Commands:\n")[1].split("\n\n")[0].splitlines()
    assert [line.split()[0] for line in listed] == COMMANDS
    for line in listed:
        assert line.endswith(".") and not line.endswith("..."), line


def test_each_command_ends_with_its_own_examples():
    seen = set()
    for command in COMMANDS:
        text = help_text(command)
        lines = examples(text)  # every line after "Examples:", to the end
        assert len(lines) >= 3
        for line in lines:
            assert re.match(rf"nngrad {command}\b", line), (command, line)
        assert not seen & set(lines)
        seen |= set(lines)


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """A folder with the files the examples name: net.yaml (a 4-6-3 net with an L2 penalty)
    and mine.npz (its right dW and dB, as a user's code would save them)."""
    monkeypatch.chdir(tmp_path)
    assert invoke("init", "4", "6", "3", "--l2", "0.01", "--batch", "5", "-o", "net.yaml").exception is None
    res = nngrad.run(nngrad.load("net.yaml"))
    np.savez("mine.npz", **{k: v for k, v in res.items() if k[:2] in ("dW", "dB")})
    return tmp_path


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_every_example_runs_as_written(folder, command):
    lines = examples(help_text(*([command] if command else [])))
    for line in lines:
        words = shlex.split(line)[1:]
        stdin = out = None
        if "<" in words:
            stdin = Path(words.pop(words.index("<") + 1)).read_bytes()
            words.remove("<")
        if ">" in words:
            out = words.pop(words.index(">") + 1)
            words.remove(">")
        result = invoke(*words, stdin=stdin)
        assert result.exception is None and result.return_value == 0, (line, result.output)
        if out:
            Path(out).write_text(result.output)
    made = {p.name for p in folder.iterdir()}
    if command == "init":
        assert {"new.yaml", "mnist.npz", "course.yaml", "mazur.yaml"} <= made
    if command == "step":
        assert {"stepped.yaml", "trained.yaml", "loss.csv", "mazur_1.yaml"} <= made


# --- shell completion -------------------------------------------------------------------------

def completions(*words: str) -> list[tuple[str, str]]:
    *args, incomplete = words
    items = BashComplete(cli, {}, "nngrad", "_NNGRAD_COMPLETE").get_completions(args, incomplete)
    return [(item.type, item.value) for item in items]


def test_commands_complete_by_name():
    assert completions("ch") == [("plain", "check")]


@pytest.mark.parametrize("words", [("convert", ""), ("init", "-o", ""), ("step", ""),
                                   ("run", ""), ("compare", "net.yaml", ""), ("check", "--config", "")])
def test_file_arguments_complete_file_names(words):
    assert completions(*words) == [("file", "")]


def test_sample_names_complete():
    assert completions("check", "sample:cs") == [("plain", "sample:cs231n_batchnorm"),
                                                 ("plain", "sample:cs231n_dropout")]
    assert completions("init", "--sample", "ma") == [("plain", "mazur")]


def test_the_readme_bash_line_completes_in_bash(tmp_path):
    script = ('eval "$(_NNGRAD_COMPLETE=bash_source nngrad)"; COMP_WORDS=(nngrad expl); COMP_CWORD=1; '
              '_nngrad_completion nngrad; printf "%s\\n" "${COMPREPLY[@]}"')
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout == "explain\n", proc.stderr


# --- a NumPy print pasted as a matrix -----------------------------------------------------------

SPEC = "loss: mse\nX: [[0.5, -1.0]]\nT: [[1.0]]\nlayers:\n  - W: {W}\n    activation: identity\n"
HINT = ("NumPy's print leaves out the commas: write [[0.1, 0.2], [0.3, 0.4]], with a comma "
        "between numbers and between rows (print(W.tolist()) writes them so)")


@pytest.mark.parametrize("W, where", [
    ("[[0.1 0.2]\n        [0.3 0.4]]", "net.yaml:6: invalid YAML: did not find expected ',' or ']' (column 9); "),
    ("[[ 0.1, 0.2] [ 0.3, 0.4]]", "net.yaml:5: invalid YAML: did not find expected ',' or ']' (column 21); "),
    ("[[0.1 0.2]]", "net.yaml:5: W1[0][0]: is '0.1 0.2', numbers apart by spaces; "),
    ("\n     - [-1.5e-3  2.]", "net.yaml:6: W1[0][0]: is '-1.5e-3  2.', numbers apart by spaces; "),
])
def test_a_matrix_without_commas_gets_numpys_hint_in_one_line(tmp_path, W, where):
    (tmp_path / "net.yaml").write_text(SPEC.format(W=W))
    with pytest.raises(nngrad.SpecError) as e:
        nngrad.load(tmp_path / "net.yaml")
    assert str(e.value) == str(tmp_path / where) + HINT


@pytest.mark.parametrize("W", ["[[0.1, 0.2]\n    activation: relu", '[["0.1 0.2"]]'])
def test_other_mistakes_get_no_numpy_hint(tmp_path, W):
    (tmp_path / "net.yaml").write_text(SPEC.format(W=W))
    with pytest.raises(nngrad.SpecError) as e:
        nngrad.load(tmp_path / "net.yaml")
    assert "NumPy" not in str(e.value)


def test_the_hint_reads_a_long_line_once():
    import time

    from nngrad.specs.yamlread import compose

    text = "X: [[1.0]" + " " * 200_000 + "x]\n"  # a scan that backtracks took 27 s
    began = time.perf_counter()
    with pytest.raises(nngrad.SpecError) as e:
        compose(text)
    assert time.perf_counter() - began < 5 and "did not find expected" in str(e.value)
