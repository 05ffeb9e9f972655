"""The nngrad command as a user runs it: formats, files, stdin, exit statuses, error lines."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import nngrad
from conftest import SAMPLES

MAZUR = str(SAMPLES / "04_mazur.yaml")


def nngrad_cli(*args, input=None, env=None, cwd=None):
    return subprocess.run([sys.executable, "-m", "nngrad", *args], input=input, capture_output=True,
                          env={**os.environ, **(env or {})}, cwd=cwd, timeout=60)


def assert_one_line_error(proc, *fragments):
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == b""
    lines = proc.stderr.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith("nngrad: error: "), lines
    assert "Traceback" not in proc.stderr.decode()
    for fragment in fragments:
        assert fragment in lines[0]


def test_run_without_spec_runs_the_bundled_example():
    proc = nngrad_cli("run")
    assert proc.returncode == 0
    out = proc.stdout.decode()
    assert "01_relu_mse.yaml" in out and "dW4" in out and "(6, 1)" in out


def test_table_lists_every_tensor_with_its_shape_and_the_loss():
    out = nngrad_cli("run", MAZUR).stdout.decode()
    assert "0.2983711088" in out
    for name in ["Z1", "A1", "dA1", "dZ1", "dW1", "dB1", "Z2", "dB2"]:
        assert name in out
    assert "(2, 2)" in out and "(2,)" in out


def test_table_is_plain_text_when_not_a_terminal():
    out = nngrad_cli("run", MAZUR, env={"TERM": "xterm-256color"}).stdout
    assert b"\x1b[" not in out


def test_forced_colour_is_turned_off_by_no_color():
    colour = nngrad_cli("run", MAZUR, env={"FORCE_COLOR": "1"}).stdout
    plain = nngrad_cli("run", MAZUR, env={"FORCE_COLOR": "1", "NO_COLOR": "1"}).stdout
    assert _colours(colour) and not _colours(plain)


def _colours(out: bytes) -> set:
    """The foreground colour codes (30-38, 90-97) among the SGR escapes in ``out``."""
    import re
    params = [p for seq in re.findall(rb"\x1b\[([0-9;]*)m", out) for p in seq.split(b";")]
    return {p for p in params if p and (30 <= int(p) <= 38 or 90 <= int(p) <= 97)}


def test_big_arrays_are_summarised():
    out = nngrad_cli("run", str(SAMPLES / "03_mnist_columns.yaml")).stdout.decode()
    assert "..." in out and len(out.splitlines()) < 200


def test_json_follows_the_schema_with_full_precision():
    proc = nngrad_cli("run", MAZUR, "--format", "json")
    assert proc.returncode == 0
    doc = json.loads(proc.stdout)
    res = nngrad.run(nngrad.load(MAZUR))
    assert doc["layout"] == "rows" and doc["dtype"] == "float64"
    assert doc["loss"] == {"name": "half_sse", "reduction": "sum", "value": res.loss,
                           "data": res.loss, "penalty": 0.0}
    assert list(doc["tensors"]) == list(res)
    for name, entry in doc["tensors"].items():
        assert entry["shape"] == list(res[name].shape)
        assert np.array_equal(np.array(entry["data"]), res[name])  # bit for bit


def test_stdin(tmp_path):
    with open(MAZUR, "rb") as f:
        proc = nngrad_cli("run", "-", "--format", "json", input=f.read())
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["loss"]["value"] == pytest.approx(0.298371109, abs=1e-9)


@pytest.mark.parametrize("ext", ["npz", "json"])
def test_output_file_holds_every_array_and_the_loss(tmp_path, ext):
    out = tmp_path / f"grads.{ext}"
    proc = nngrad_cli("run", MAZUR, "-o", str(out))
    assert proc.returncode == 0 and proc.stdout == b""
    res = nngrad.run(nngrad.load(MAZUR))
    if ext == "npz":
        saved = dict(np.load(out))
        assert float(saved.pop("loss")) == res.loss
        arrays = saved
    else:
        doc = json.loads(out.read_text())
        arrays = {k: np.array(v["data"]) for k, v in doc["tensors"].items()}
    assert set(arrays) == set(res)
    for name in res:
        np.testing.assert_array_equal(arrays[name], res[name])
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # exactly OUT, no temp file left


def test_output_with_format_also_prints(tmp_path):
    proc = nngrad_cli("run", MAZUR, "-o", str(tmp_path / "g.npz"), "--format", "json")
    assert proc.returncode == 0 and json.loads(proc.stdout)["layout"] == "rows"


def test_unknown_output_extension_is_refused_before_any_work(tmp_path):
    assert_one_line_error(nngrad_cli("run", MAZUR, "-o", str(tmp_path / "g.txt")), "'.txt'")
    assert list(tmp_path.iterdir()) == []


def test_output_never_overwrites_the_spec(tmp_path):
    spec = tmp_path / "net.json"
    spec.write_bytes(open(MAZUR, "rb").read())
    assert_one_line_error(nngrad_cli("run", str(spec), "-o", str(spec)), "is the input spec")
    assert spec.read_bytes() == open(MAZUR, "rb").read()


def test_python_m_and_the_script_are_the_same_program():
    script = subprocess.run(["nngrad", "--version"], capture_output=True)
    assert script.returncode == 0
    assert script.stdout == nngrad_cli("--version").stdout == f"nngrad, version {nngrad.__version__}\n".encode()


def test_help_shows_examples():
    proc = nngrad_cli("run", "--help")
    assert proc.returncode == 0 and b"Examples:" in proc.stdout and b"--format json" in proc.stdout


@pytest.mark.parametrize("args, fragment", [
    (["run", "missing.yaml"], "missing.yaml: no such file"),
    (["run", "--format", "xml", MAZUR], "'xml' is not one of"),
    (["run", MAZUR, "extra"], "unexpected extra argument"),
    (["frobnicate"], "No such command"),
    (["run", "--config", "missing.yaml", MAZUR], "missing.yaml: no such file"),
])
def test_bad_usage_is_one_line_exit_2(args, fragment):
    assert_one_line_error(nngrad_cli(*args), fragment)


def test_bad_spec_is_one_line_exit_2_with_file_line_and_place(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("X: [[1, 2]]\nT: [[1]]\nloss: mse\nlayers:\n  - W: [[1, 2]]\n    activation: relu\n")
    assert_one_line_error(nngrad_cli("run", str(bad)), "bad.yaml:5: W1: is (1, 2)", "(2, 1)")


def test_bad_spec_on_stdin_is_named_stdin():
    assert_one_line_error(nngrad_cli("run", "-", input=b"X: [[1]\n"), "<stdin>:", "invalid YAML")


def test_overflow_exits_1_with_valid_json_and_nulls(tmp_path):
    spec = tmp_path / "big.yaml"
    spec.write_text("X: [[1.0]]\nT: [[0.0]]\nloss: mse\nlayers:\n  - W: [[1e200]]\n    activation: identity\n"
                    "  - W: [[1e200]]\n    activation: identity\n")
    proc = nngrad_cli("run", str(spec), "--format", "json")
    assert proc.returncode == 1
    doc = json.loads(proc.stdout)
    assert doc["tensors"]["Z2"]["data"] == [[None]] and doc["loss"]["value"] is None
    assert "Z2[0][0] is inf" in proc.stderr.decode() and len(proc.stderr.splitlines()) == 1


def test_config_overrides_precision(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("display:\n  precision: 3\n")
    assert b"0.3775 " in nngrad_cli("run", MAZUR).stdout
    assert b"[[0.378 0.392]]" in nngrad_cli("run", MAZUR, "--config", str(config)).stdout
    assert b"0.3775" not in nngrad_cli("run", MAZUR, "--config", str(config)).stdout
    config.write_text("display:\n  precison: 8\n")
    assert_one_line_error(nngrad_cli("run", MAZUR, "--config", str(config)), "display.precison")


@pytest.mark.parametrize("fmt", ["json", "table"])
def test_broken_pipe_is_quiet_and_exits_141(fmt):
    # `true` exits at once without reading, so nngrad's first write meets a closed pipe
    proc = subprocess.run(f"set -o pipefail; {sys.executable} -m nngrad run {MAZUR} --format {fmt}"
                          " | true", shell=True, capture_output=True, executable="/bin/bash")
    assert proc.stderr == b""
    assert proc.returncode == 141


def test_internal_error_exits_70_with_one_line(tmp_path):
    # a plugin-free way to reach the last-resort handler: break the core from a sitecustomize
    (tmp_path / "sitecustomize.py").write_text(
        "import nngrad.numerics.passes\n"
        "def broken(net):\n    raise ZeroDivisionError('planted')\n"
        "nngrad.numerics.passes.run = broken\n")
    proc = nngrad_cli("run", MAZUR, env={"PYTHONPATH": str(tmp_path)})
    assert proc.returncode == 70 and "Traceback" not in proc.stderr.decode()
    assert "bug in nngrad" in proc.stderr.decode() and len(proc.stderr.splitlines()) == 1
    debug = nngrad_cli("--debug", "run", MAZUR, env={"PYTHONPATH": str(tmp_path)})
    assert debug.returncode == 70 and "Traceback" in debug.stderr.decode()


def test_npz_spec_gives_the_same_json_as_its_yaml(tmp_path):
    net = nngrad.load(MAZUR)
    np.savez(tmp_path / "mazur.npz", X=net.X, T=net.T, W1=net.layers[0].W, b1=net.layers[0].b,
             W2=net.layers[1].W, b2=net.layers[1].b, activations=np.array(["sigmoid", "sigmoid"]),
             loss=np.array("half_sse"))
    from_npz = nngrad_cli("run", str(tmp_path / "mazur.npz"), "--format", "json")
    assert from_npz.returncode == 0
    npz, yaml = json.loads(from_npz.stdout), json.loads(nngrad_cli("run", MAZUR, "--format", "json").stdout)
    assert npz.pop("spec").endswith("mazur.npz") and yaml.pop("spec") == MAZUR and npz == yaml


def test_ctrl_c_exits_130_without_a_traceback():
    import signal
    import time
    proc = subprocess.Popen([sys.executable, "-m", "nngrad", "run", "-"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(2)  # nngrad is now blocked reading the spec from standard input
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130 and b"Traceback" not in err and out == b""


def test_output_with_table_format_also_prints_the_table(tmp_path):
    proc = nngrad_cli("run", MAZUR, "-o", str(tmp_path / "g.npz"), "--format", "table")
    assert proc.returncode == 0 and b"dW2" in proc.stdout and (tmp_path / "g.npz").exists()


def test_output_into_a_missing_folder_is_exit_2(tmp_path):
    assert_one_line_error(nngrad_cli("run", MAZUR, "-o", str(tmp_path / "no" / "g.npz")),
                          "g.npz: cannot be written")


def test_check_exit_0_and_json():
    proc = nngrad_cli("check", MAZUR, "--format", "json")
    assert proc.returncode == 0
    doc = json.loads(proc.stdout)
    assert doc["agree"] is True and set(doc["tensors"]) == {"dW1", "dB1", "dW2", "dB2"}
    assert all(t["status"] == "ok" for t in doc["tensors"].values())


def test_check_exit_1_when_the_backward_is_broken(tmp_path):
    (tmp_path / "sitecustomize.py").write_text(
        "from nngrad.numerics.activations import ACTIVATIONS\n"
        "ACTIVATIONS['sigmoid'] = ACTIVATIONS['sigmoid']._replace(vjp=lambda g, z, a: g * a)\n")
    proc = nngrad_cli("check", MAZUR, "--format", "json", env={"PYTHONPATH": str(tmp_path)})
    assert proc.returncode == 1 and json.loads(proc.stdout)["agree"] is False
    table = nngrad_cli("check", MAZUR, env={"PYTHONPATH": str(tmp_path)})
    assert table.returncode == 1 and b"wrong_values" in table.stdout


def test_compare_exit_codes_and_diagnoses(tmp_path):
    res = nngrad.run(nngrad.load(MAZUR))
    np.savez(tmp_path / "right.npz", dW1=res["dW1"], dB1=res["dB1"])
    assert nngrad_cli("compare", MAZUR, str(tmp_path / "right.npz")).returncode == 0
    (tmp_path / "mine.yaml").write_text(f"dW2: {(-res['dW2']).tolist()}\ndB2: {res['dB2'].tolist()}\n")
    proc = nngrad_cli("compare", MAZUR, str(tmp_path / "mine.yaml"), "--format", "json")
    assert proc.returncode == 1
    doc = json.loads(proc.stdout)
    assert doc["tensors"]["dW2"]["status"] == "wrong_values" and doc["tensors"]["dB2"]["status"] == "ok"
    assert [d["kind"] for d in doc["diagnoses"]] == ["sign"]


def test_compare_reads_nngrads_own_json(tmp_path):
    out = tmp_path / "r.json"
    assert nngrad_cli("run", MAZUR, "-o", str(out)).returncode == 0
    assert nngrad_cli("compare", MAZUR, str(out)).returncode == 0


def test_compare_bad_gradients_file_is_exit_2(tmp_path):
    (tmp_path / "mine.yaml").write_text("dw_1: [[1, 2], [3, 4]]\n")  # no gradient at all
    assert_one_line_error(nngrad_cli("compare", MAZUR, str(tmp_path / "mine.yaml")),
                          "mine.yaml:1: holds no gradients: dw_1 (did you mean dW1?) is not a gradient")
    assert_one_line_error(nngrad_cli("compare", "-", "-"), "standard input")


def test_empty_config_changes_nothing(tmp_path):
    (tmp_path / "c.yaml").write_text("# nothing yet\n")
    proc = nngrad_cli("run", MAZUR, "--config", str(tmp_path / "c.yaml"))
    assert proc.returncode == 0 and proc.stdout == nngrad_cli("run", MAZUR).stdout
