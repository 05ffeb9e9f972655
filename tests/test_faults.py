"""Faults of the process and its streams: every one an exit status of the table, with one line.

Each runs nngrad as a child process, since the fault is in the process itself: a full or closed
standard output, a closed pipe, closed descriptors, signals, and options out of range.
"""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import nngrad
from conftest import REPO, SAMPLES

MAZUR = str(SAMPLES / "04_mazur.yaml")
RELU = str(SAMPLES / "01_relu_mse.yaml")
NNGRAD = [sys.executable, "-m", "nngrad"]

WRITERS = {  # every command that writes to standard output
    "run table": ["run", RELU], "run json": ["run", RELU, "--format", "json"],
    "check": ["check", MAZUR], "explain": ["explain", RELU],
    "explain markdown": ["explain", RELU, "--format", "markdown"], "init": ["init", "3", "4", "2"],
    "convert": ["convert", MAZUR, "-"], "step": ["step", MAZUR, "--lr", "0.5", "-o", "-"],
    "help": ["--help"], "command help": ["run", "--help"], "version": ["--version"],
}


def nngrad_cli(*args, **kwargs):
    return subprocess.run([*NNGRAD, *map(str, args)], capture_output=True, text=True, **kwargs)


def one_line_error(proc, fragment: str, status: int = 2) -> None:
    assert proc.returncode == status, proc.stderr
    assert proc.stderr.startswith("nngrad: error: ") and proc.stderr.count("\n") == 1, proc.stderr
    assert fragment in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize("name", WRITERS)
def test_a_full_standard_output_is_exit_2_with_one_line(name):
    with open("/dev/full", "w") as full:
        proc = subprocess.run([*NNGRAD, *WRITERS[name]], stdout=full, stderr=subprocess.PIPE,
                              text=True)
    lines = [l for l in proc.stderr.splitlines() if not l.startswith("step ")]
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr
    assert lines[0] == "nngrad: error: standard output: cannot be written: No space left on device"


@pytest.mark.parametrize("name", WRITERS)
def test_a_closed_pipe_exits_141_quietly(name):
    read, write = os.pipe()
    os.close(read)  # the reader is gone before nngrad writes a byte
    proc = subprocess.run([*NNGRAD, *WRITERS[name]], stdout=write, stderr=subprocess.PIPE,
                          text=True)
    os.close(write)
    assert proc.returncode == 141
    assert [l for l in proc.stderr.splitlines() if not l.startswith("step ")] == []


def test_a_large_single_write_into_a_short_reader_exits_141():
    spec = subprocess.run([*NNGRAD, "init", "64", "256", "256", "10", "--batch", "64"],
                          capture_output=True, check=True).stdout
    proc = subprocess.run(f"set -o pipefail; {sys.executable} -m nngrad run - --format json "
                          "| head -c 10", shell=True, input=spec, capture_output=True,
                          executable="/bin/bash")
    assert proc.returncode == 141 and proc.stdout == b'{"nngrad":' and proc.stderr == b""


def _closing(fd):
    return lambda: os.close(fd)


def test_a_closed_standard_output_is_exit_2(tmp_path):
    proc = subprocess.run([*NNGRAD, "run", MAZUR], preexec_fn=_closing(1), stderr=subprocess.PIPE,
                          text=True)
    one_line_error(proc, "standard output: is closed")


def test_with_standard_output_closed_an_output_file_is_still_whole(tmp_path):
    out = tmp_path / "g.npz"
    proc = subprocess.run([*NNGRAD, "run", MAZUR, "-o", out], preexec_fn=_closing(1),
                          stderr=subprocess.PIPE, text=True)
    assert proc.returncode == 0, proc.stderr
    assert np.load(out)["loss"] == pytest.approx(nngrad.run(nngrad.load(MAZUR)).loss)


def test_a_closed_standard_input_is_exit_2():
    proc = subprocess.run([*NNGRAD, "run", "-"], preexec_fn=_closing(0), capture_output=True,
                          text=True)
    one_line_error(proc, "standard input")


def test_a_full_standard_error_changes_no_outcome(tmp_path):
    with open("/dev/full", "w") as full:
        refused = subprocess.run([*NNGRAD, "run", tmp_path / "missing.yaml"], stderr=full)
        stepped = subprocess.run([*NNGRAD, "step", MAZUR, "--lr", "0.5", "-o", tmp_path / "o.yaml"],
                                 stderr=full)
    assert refused.returncode == 2 and stepped.returncode == 0
    assert nngrad.load(tmp_path / "o.yaml").layers[0].W[0, 0] != 0.15


def test_a_standard_error_whose_reader_left_changes_no_outcome(tmp_path):
    read, write = os.pipe()
    os.close(read)
    proc = subprocess.run([*NNGRAD, "step", MAZUR, "--lr", "0.5", "-o", tmp_path / "o.yaml"],
                          stderr=write)
    os.close(write)
    assert proc.returncode == 0 and (tmp_path / "o.yaml").exists()


def test_a_spec_written_to_an_ascii_standard_output_keeps_its_utf8(tmp_path):
    spec = tmp_path / "café.yaml"  # convert names it in its header; step keeps the comment
    spec.write_text("# café · σ weights\n" + open(MAZUR).read(), encoding="utf-8")
    env = {**os.environ, "LC_ALL": "C", "PYTHONCOERCECLOCALE": "0", "PYTHONUTF8": "0",
           "PYTHONIOENCODING": ""}
    for args in (("step", spec, "--lr", "0.5", "-o", "-"), ("convert", spec, "-")):
        proc = subprocess.run([*NNGRAD, *map(str, args)], capture_output=True, env=env)
        assert proc.returncode == 0, proc.stderr
        assert ("# café · σ weights\n" if args[0] == "step" else "café.yaml").encode() in proc.stdout


def test_a_closed_standard_error_still_gives_the_exit_status(tmp_path):
    proc = subprocess.run([*NNGRAD, "run", tmp_path / "missing.yaml"], preexec_fn=_closing(2),
                          capture_output=False, stdout=subprocess.PIPE)
    assert proc.returncode == 2 and proc.stdout == b""


# --- signals ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def big_npz(tmp_path_factory):
    path = tmp_path_factory.mktemp("big") / "big.npz"
    subprocess.run([*NNGRAD, "init", "300", "1000", "1000", "10", "--batch", "32", "-o", path],
                   check=True)
    return path


def _started_step(path, *args):
    proc = subprocess.Popen([*NNGRAD, "step", path, "--lr", "0.001", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = proc.stderr.readline()  # "step 0: ..." once the spec is read and run
    assert first.startswith("step 0"), first
    return proc


@pytest.mark.parametrize("signum,status", [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_a_signal_during_step_exits_128_plus_it_and_leaves_the_spec(big_npz, signum, status):
    before = big_npz.read_bytes()
    proc = _started_step(big_npz, "--steps", "1000", "--in-place")
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == status and out == "" and "Traceback" not in err
    assert big_npz.read_bytes() == before and os.listdir(big_npz.parent) == ["big.npz"]


SIGNAL_AT = """
import os, signal
import nngrad.files.atomic as atomic
original = getattr(atomic, {at!r})
def at(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGTERM)
    return original(*args, **kwargs)
setattr(atomic, {at!r}, at)
"""


@pytest.mark.parametrize("at,written", [("_finish", False), ("_commit", True)],
                         ids=["while the temp file is written", "while it is renamed"])
def test_a_sigterm_at_each_stage_of_a_write(tmp_path, at, written):
    # the signal is sent from inside the writer, so that it lands where the test says
    (tmp_path / "hook").mkdir()
    (tmp_path / "hook" / "sitecustomize.py").write_text(SIGNAL_AT.format(at=at))
    spec = tmp_path / "net.yaml"
    spec.write_text(open(MAZUR).read())
    proc = nngrad_cli("step", spec, "--lr", "0.5", "--in-place",
                      env={**os.environ, "PYTHONPATH": str(tmp_path / "hook")})
    assert proc.returncode == 143 and "Traceback" not in proc.stderr
    assert sorted(os.listdir(tmp_path)) == ["hook", "net.yaml"]
    assert (spec.read_text() != open(MAZUR).read()) == written
    assert ("stopped by a signal after writing" in proc.stderr) == written


def test_a_sigterm_while_the_spec_is_written_leaves_no_temp_file_and_a_whole_spec(big_npz):
    before = big_npz.read_bytes()
    proc = _started_step(big_npz, "--in-place")
    while proc.poll() is None and len(os.listdir(big_npz.parent)) == 1:
        time.sleep(0.0005)  # until the temp file appears
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=60)
    assert proc.returncode in (0, 143)
    assert os.listdir(big_npz.parent) == ["big.npz"]
    after = nngrad.load(big_npz)  # whole: the old spec or the new one, never a mix
    assert big_npz.read_bytes() == before or not np.array_equal(
        after.layers[0].W, np.load(__import__("io").BytesIO(before))["W1"])


# --- options, settings and memory ------------------------------------------------------------

@pytest.mark.parametrize("args,fragment", [
    (["step", MAZUR, "--lr", "nan", "-o", "o.yaml"], "'--lr': 'nan' is not a finite number"),
    (["step", MAZUR, "--lr", "inf", "-o", "o.yaml"], "'--lr': 'inf' is not a finite number"),
    (["step", MAZUR, "--lr", "0.1", "--momentum", "nan", "-o", "o.yaml"], "'--momentum'"),
    (["check", MAZUR, "--eps", "inf"], "'--eps': 'inf' is not a finite number"),
    (["check", MAZUR, "--eps", "0"], "'--eps'"),
    (["check", MAZUR, "--eps", "5"], "'--eps'"),
    (["check", MAZUR, "--eps", "1e-310"], "'--eps'"),
    (["check", MAZUR, "--rtol", "nan"], "'--rtol'"),
    (["check", MAZUR, "--atol", "nan"], "'--atol'"),
    (["check", MAZUR, "--atol", "-1e-9"], "'--atol'"),
    (["compare", MAZUR, MAZUR, "--rtol", "-0.5"], "'--rtol'"),
    (["check", MAZUR, "--seed", "-1"], "'--seed'"),
    (["init", "2", "2", "--seed", "-1"], "'--seed'"),
    (["check", MAZUR, "--directions", "1000000000"], "'--directions'"),
    (["check", MAZUR, "--directions", str(10 ** 20)], "'--directions'"),
])
def test_numeric_options_out_of_range_are_usage_errors_before_any_work(tmp_path, args, fragment):
    proc = nngrad_cli(*args, cwd=tmp_path)
    one_line_error(proc, fragment)
    assert proc.stdout == "" and os.listdir(tmp_path) == []


@pytest.mark.parametrize("setting,fragment", [
    ("display: {precision: %d}" % 10 ** 400, "display.precision: must be a finite number from 0 to 100"),
    ("tolerances: {float64: {rtol: .nan}}", "tolerances.float64.rtol: must be a finite number"),
    ("tolerances: {float64: {rtol: %d}}" % 10 ** 400, "tolerances.float64.rtol"),
    ("check: {directions: %d}" % 10 ** 20, "check.directions: must be a finite number from 1"),
    ("check: {mode: sometimes}", "check.mode: must be one of auto, full, fast"),
    ("check: {eps: 0}", "check.eps"),
])
def test_settings_out_of_range_name_the_key(tmp_path, setting, fragment):
    (tmp_path / "c.yaml").write_text(setting + "\n")
    proc = nngrad_cli("check", MAZUR, "--config", tmp_path / "c.yaml")
    one_line_error(proc, fragment)
    assert len(proc.stderr.replace(str(tmp_path), "")) < 300


def test_a_net_too_big_for_memory_is_refused_before_allocating(tmp_path):
    proc = nngrad_cli("init", "30000", "30000", "-o", tmp_path / "big.yaml")
    one_line_error(proc, "limits.memory_bytes")
    assert "GiB" in proc.stderr and os.listdir(tmp_path) == []


def test_the_memory_limit_is_a_setting(tmp_path):
    # the run of a 50-400-10 net at batch 256 holds about 5 MB; its NPZ is read in place
    assert nngrad_cli("init", 50, 400, 10, "--batch", 256, "-o", tmp_path / "net.npz").returncode == 0
    (tmp_path / "c.yaml").write_text("limits: {memory_bytes: 1000000}\n")
    one_line_error(nngrad_cli("run", tmp_path / "net.npz", "--config", tmp_path / "c.yaml"),
                   "running ")


def test_a_memory_error_that_still_happens_is_exit_2_with_the_size(tmp_path):
    (tmp_path / "sitecustomize.py").write_text(
        "import nngrad.numerics.passes\n"
        "def hungry(net, **kw):\n"
        "    raise MemoryError('Unable to allocate 7.45 GiB for an array with shape (1000000000,)')\n"
        "nngrad.numerics.passes.run = hungry\n")
    proc = nngrad_cli("run", MAZUR, env={**os.environ, "PYTHONPATH": str(tmp_path)})
    one_line_error(proc, "out of memory: Unable to allocate 7.45 GiB")


def test_weights_that_overflow_while_the_loss_stays_finite_exit_1_and_write_nothing(tmp_path):
    out = tmp_path / "out.yaml"
    proc = nngrad_cli("step", RELU, "--lr", "1e308", "-o", out)
    assert proc.returncode == 1 and not out.exists()
    assert "is inf after step 1" in proc.stderr and "nothing was written" in proc.stderr


# --- the rest of the command line ------------------------------------------------------------

def test_debug_is_accepted_after_the_command():
    proc = nngrad_cli("run", MAZUR, "--debug", "--format", "json")
    assert proc.returncode == 0 and proc.stdout.startswith('{"nngrad"')


@pytest.mark.parametrize("env", [{"PYTHONIOENCODING": "ascii"},
                                 {"LC_ALL": "C", "PYTHONCOERCECLOCALE": "0", "PYTHONUTF8": "0"}])
def test_an_ascii_standard_output_gets_ascii_notation(env):
    proc = nngrad_cli("explain", MAZUR, env={**os.environ, "PYTHONIOENCODING": "", **env})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.isascii() and "W2^T" in proc.stdout


def test_a_very_long_value_in_an_error_is_cut(tmp_path):
    (tmp_path / "net.yaml").write_text(
        open(MAZUR).read().replace("activation: sigmoid", "activation: " + "x" * 5000, 1))
    proc = nngrad_cli("run", tmp_path / "net.yaml")
    one_line_error(proc, "characters)")
    assert len(proc.stderr.replace(str(tmp_path), "")) < 500


def test_the_readme_names_every_exit_status():
    text = (REPO / "README.md").read_text()
    for status in ("| 0 |", "| 1 |", "| 2 |", "| 70 |", "| 129 |", "| 130 |", "| 141 |", "| 143 |"):
        assert status in text, status


def test_the_default_memory_limit_of_yaml_reading_is_the_configured_one():
    from nngrad.settings import load_config
    from nngrad.specs.sources import DEFAULT_MEMORY_LIMIT

    assert load_config(None)["limits"]["memory_bytes"] == DEFAULT_MEMORY_LIMIT


def test_a_yaml_spec_whose_reading_would_pass_the_memory_limit_is_refused_first(tmp_path):
    (tmp_path / "c.yaml").write_text("limits: {memory_bytes: 1000000}\n")
    spec = SAMPLES / "03_mnist_columns.yaml"  # about 28,600 values: 3.5 MiB at 128 bytes each
    proc = nngrad_cli("run", spec, "--config", tmp_path / "c.yaml")
    one_line_error(proc, "values, whose reading as YAML would need about")
    assert "limits.memory_bytes" in proc.stderr


@pytest.mark.parametrize("quoted", [False, True], ids=["rows lifted", "a node per number"])
def test_the_yaml_memory_estimate_counts_every_value(tmp_path, quoted):
    rows = "".join(f"  - [{i}.5, {i}.25]\n" for i in range(2000))  # 4,000 numbers
    text = ('loss: "mse"\n' if quoted else "loss: mse\n") + "X:\n" + rows
    per_value = 512 if quoted else 128
    path = tmp_path / "net.yaml"
    path.write_text(text)
    with pytest.raises(nngrad.SpecError, match="values, whose reading"):
        nngrad.load(path, memory_limit=4000 * per_value // 2)
    with pytest.raises(nngrad.SpecError, match="the spec has no"):  # read, then found wanting
        nngrad.load(path, memory_limit=4000 * per_value * 2)


def test_a_file_name_the_c_locale_cannot_decode_is_shown_and_written_as_its_bytes(tmp_path):
    spec = tmp_path / "café.yaml"
    spec.write_text(open(MAZUR).read())
    env = {**os.environ, "LC_ALL": "C", "PYTHONCOERCECLOCALE": "0", "PYTHONUTF8": "0",
           "PYTHONIOENCODING": ""}
    shown = subprocess.run([*NNGRAD, "explain", str(spec)], capture_output=True, env=env)
    written = subprocess.run([*NNGRAD, "convert", str(spec), str(tmp_path / "out.yaml")],
                             capture_output=True, env=env)
    assert shown.returncode == 0 and shown.stdout.startswith(str(spec).encode())
    assert written.returncode == 0 and "café.yaml" in (tmp_path / "out.yaml").read_text()


FAILING_COPY = """
import os, signal
import nngrad.files.atomic as atomic
def copy(src, dst, length=0):
    dst.write(src.read(100))
    os.kill(os.getpid(), signal.SIGTERM)  # held until the copy's block ends
    raise OSError(28, "No space left on device")
atomic.shutil.copyfileobj = copy
"""


def test_a_signal_during_a_copy_that_fails_leaves_the_error_said_then_its_status(tmp_path):
    (tmp_path / "hook").mkdir()
    (tmp_path / "hook" / "sitecustomize.py").write_text(FAILING_COPY)
    spec = tmp_path / "net.yaml"
    spec.write_text(open(MAZUR).read())
    os.link(spec, tmp_path / "other.yaml")  # so the new content is copied in, not renamed
    proc = nngrad_cli("step", spec, "--lr", "0.5", "--in-place",
                      env={**os.environ, "PYTHONPATH": str(tmp_path / "hook")})
    assert proc.returncode == 143
    assert "No space left on device" in proc.stderr and "its whole new content is kept in" in \
        proc.stderr
    kept = proc.stderr.split("kept in ")[1].split()[0]
    assert nngrad.load(kept).layers[0].W[0, 0] != 0.15  # the whole new spec


def test_step_rewrites_a_yaml_spec_with_the_memory_limit_it_was_read_with(tmp_path, monkeypatch):
    from click.testing import CliRunner

    import nngrad.specs.yamlread
    from nngrad.cli import cli

    monkeypatch.setattr(nngrad.specs.yamlread, "DEFAULT_MEMORY_LIMIT", 100_000)  # the settings fit, the spec not
    (tmp_path / "c.yaml").write_text("limits: {memory_bytes: 100000000}\n")
    result = CliRunner().invoke(cli, ["step", str(SAMPLES / "03_mnist_columns.yaml"), "--lr",
                                      "0.1", "-o", str(tmp_path / "o.yaml"), "--config",
                                      str(tmp_path / "c.yaml")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "o.yaml").exists()
