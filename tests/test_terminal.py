"""What a terminal shows: the progress bars of step and check, and the tables' width.

Each test runs nngrad on a pseudo-terminal of a known size and reads what it wrote through
``screen``, a small terminal emulator (the cursor moves and erasures rich's live display uses).
"""

import fcntl
import io
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import threading

import pytest
import yaml

from conftest import SAMPLES, random_spec

MAZUR = str(SAMPLES / "04_mazur.yaml")
STEP_LINE = re.compile(r"step \d+: loss \S+( -> \S+)?")


def screen(data: str, width: int) -> list[str]:
    """The lines a terminal ``width`` columns wide shows after ``data`` (its scrollback too),
    each without the spaces that end it. Knows text, CR, LF, backspace and the CSI sequences
    for colour, cursor up/down/column and erasing a line; anything else fails the test."""
    lines, row, col = [[]], 0, 0
    i = 0
    while i < len(data):
        c = data[i]
        if c == "\x1b":
            m = re.compile(r"\x1b\[(\??)([0-9;]*)([A-Za-z])").match(data, i)
            assert m, repr(data[i:i + 10])
            private, args, code = m.groups()
            n = int(args.split(";")[0] or (2 if code == "K" else 1)) if code in "ABGK" else 0
            if private:
                assert code in "hl", m.group()  # show or hide the cursor
            elif code == "A":
                row = max(0, row - n)
            elif code == "B":
                row += n
            elif code == "G":
                col = n - 1
            elif code == "K":
                line = lines[row]
                lines[row] = [] if n == 2 else line[:col] if n == 0 else [" "] * col + line[col:]
            else:
                assert code == "m", m.group()
            i = m.end()
            continue
        if c == "\r":
            col = 0
        elif c == "\n":
            row += 1
        elif c == "\b":
            col = max(0, col - 1)
        else:
            if col == width:  # the pending wrap of a full line
                row, col = row + 1, 0
            while len(lines) <= row:
                lines.append([])
            line = lines[row]
            line.extend(" " * (col + 1 - len(line)))
            line[col] = c
            col += 1
        while len(lines) <= row:
            lines.append([])
        i += 1
    return ["".join(line).rstrip() for line in lines]


def terminal_env(**extra):
    env = {k: v for k, v in os.environ.items()
           if k not in ("COLUMNS", "LINES", "NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE")}
    return {**env, "TERM": "xterm-256color", **extra}


def open_terminal(columns: int, rows: int = 24):
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    return master, slave


def read_all(master: int, until=None, timeout: float = 60) -> str:
    """Everything written to the terminal, until its other side closes (or ``until()``)."""
    out = bytearray()
    while True:
        ready, _, _ = select.select([master], [], [], 0.05 if until else timeout)
        if not ready:
            if until and until():
                break
            assert until, "the terminal went quiet"
            continue
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: every writer has closed it
            break
        if not chunk:
            break
        out += chunk
    return out.decode()


def on_terminal(args, columns: int, cwd=None, **env) -> tuple[int, str]:
    """(exit status, what the terminal shows's raw text) of ``nngrad ARGS`` whose standard
    input, output and error are one terminal ``columns`` wide."""
    master, slave = open_terminal(columns)
    proc = subprocess.Popen([sys.executable, "-m", "nngrad", *map(str, args)], stdin=slave,
                            stdout=slave, stderr=slave, env=terminal_env(**env), cwd=cwd)
    os.close(slave)
    try:
        raw = read_all(master)
    finally:
        os.close(master)
    return proc.wait(timeout=60), raw


def test_step_prints_each_loss_line_whole_above_its_bar(tmp_path):
    args = ["step", MAZUR, "--lr", "0.5", "--steps", "200"]
    piped = subprocess.run([sys.executable, "-m", "nngrad", *args, "-o", tmp_path / "a.yaml"],
                           capture_output=True, text=True, env=terminal_env())
    expected = piped.stderr.splitlines()
    assert len(expected) == 21 and all(STEP_LINE.fullmatch(line) for line in expected)
    status, raw = on_terminal([*args, "-o", tmp_path / "b.yaml"], 80)
    shown = screen(raw, 80)
    assert status == 0 and "descending" in raw  # the bar was drawn
    assert [line for line in shown if line] == expected  # and is gone, no line glued to it


def test_check_draws_its_bar_on_a_terminal_and_clears_it(monkeypatch):
    from nngrad.cli.app import cli
    import nngrad.cli.verify as verify

    monkeypatch.setattr(verify, "CHECK_BAR_AFTER", 0.0)
    master, slave = open_terminal(80)
    terminal = os.fdopen(slave, "w", encoding="utf-8")
    out, finished = io.StringIO(), threading.Event()
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    raw = []
    reader = threading.Thread(target=lambda: raw.append(read_all(master, until=finished.is_set)))
    reader.start()
    try:
        status = cli.main(["check", MAZUR], standalone_mode=False)
        terminal.flush()
    finally:
        finished.set()
        reader.join()
        terminal.close()
        os.close(master)
    assert status == 0 and "checking" in raw[0] and "100%" in raw[0]
    assert [line for line in screen(raw[0], 80) if line] == []  # transient: the bar is gone
    assert out.getvalue().startswith(f"{MAZUR}: full check of 12 parameters")


def test_no_bar_when_standard_error_is_not_a_terminal(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "nngrad", "step", MAZUR, "--lr", "0.5",
                           "--steps", "100", "-o", tmp_path / "a.yaml"], capture_output=True,
                          text=True, env=terminal_env(FORCE_COLOR="1"))
    assert proc.returncode == 0 and "\x1b" not in proc.stderr and "descending" not in proc.stderr


def test_run_on_a_terminal_fills_its_width_and_ends_no_line_in_spaces():
    status, raw = on_terminal(["run"], 80)
    assert status == 0 and "\x1b[1m" in raw  # styled: it knew a terminal
    plain = re.sub(r"\x1b\[[0-9;]*m", "", raw)
    assert " \r\n" not in plain and not plain.endswith(" ")
    shown = screen(raw, 80)
    assert len(shown) <= 61 and max(map(len, shown)) <= 80
    rows = [line for line in shown if re.match(r"^ *(\w+ +\(\d+,( \d+)?\) +)?\[", line)]
    assert len(rows) == 4 * (4 + 1) + 4 + 6 + 6 + 6  # every row of every tensor, whole: Z, A,
    assert all(len(re.findall(r"-?\d+\.\d*", row)) in (1, 6) for row in rows)  # dA, dZ, dB, dW


def wide_spec(tmp_path):
    """A 4-8-3-1 spec (m = 2) whose Z1 rows are 8 entries of 9 columns: 82 columns with the
    brackets; the output layer is identity."""
    path = tmp_path / "wide.yaml"
    path.write_text(yaml.safe_dump(random_spec(seed=4, widths=(4, 8, 3, 1), m=2, hidden="relu")))
    return path


@pytest.mark.parametrize("columns", [80, 120, 200])
def test_tables_fit_the_terminal_and_titles_never_wrap(tmp_path, columns):
    status, raw = on_terminal(["run", wide_spec(tmp_path)], columns)
    shown = screen(raw, columns)
    assert status == 0 and max(map(len, shown)) <= columns
    assert "layer 3: identity, W3 (3, 1)" in shown and "layer 1: relu, W1 (4, 8)" in shown
    start = next(i for i, line in enumerate(shown) if line.startswith("Z1 "))
    end = next(i for i, line in enumerate(shown) if line.startswith("A1 "))
    numbers = [len(re.findall(r"-?\d+\.\d*", line)) for line in shown[start:end]]
    # the values column is the width less 16 (name, shape "(2, 8)" and two gaps of 3): 64
    # columns at 80 hold "[[" and 6 entries of 9 and a space, 104 at 120 hold the whole row
    assert numbers == ([8, 8] if columns >= 120 else [6, 2, 6, 2])


@pytest.mark.parametrize("columns", ["80", "120", "200"])
def test_the_bundled_net_at_a_given_width_keeps_each_row_on_one_line(columns):
    from click.testing import CliRunner

    from nngrad.cli.app import cli

    out = CliRunner().invoke(cli, ["run"], env={"COLUMNS": columns, "NO_COLOR": "1"}).output
    lines = out.splitlines()
    assert len(lines) == 60 and max(map(len, lines)) <= int(columns)
    dW2 = lines.index(next(line for line in lines if line.startswith("dW2")))
    assert [len(re.findall(r"-?\d+\.\d*", line)) for line in lines[dW2:dW2 + 6]] == [6] * 6


def test_a_narrow_terminal_wraps_values_but_not_a_layer_title(tmp_path):
    spec = random_spec(seed=1, widths=(4, 3, 1), m=1)
    (tmp_path / "n.yaml").write_text(yaml.safe_dump(spec))
    status, raw = on_terminal(["run", tmp_path / "n.yaml"], 24)
    assert status == 0
    assert "layer 2: identity, W2 (3, 1)" in re.sub(r"\x1b\[[0-9;]*m", "", raw).splitlines()


@pytest.mark.parametrize("mode, options", [("full", {}), ("fast", {"directions": 3})])
def test_check_gradients_tells_its_progress_after_each_perturbation(mode, options):
    import nngrad

    calls = []
    nngrad.check(nngrad.load(MAZUR), mode=mode, progress=lambda *a: calls.append(a), **options)
    # full: W1, b1, W2, b2 have 4 + 2 + 4 + 2 entries; fast: 4 tensors of 3 directions
    assert calls == [(k, 12) for k in range(1, 13)]
