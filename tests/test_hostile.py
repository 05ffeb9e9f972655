"""Hostile and broken input: refused with one line and exit 2, nothing run, nothing lost."""

import io
import os
import pickle
import subprocess
import sys
import tracemalloc
import zipfile

import numpy as np
import pytest

import nngrad
from conftest import SAMPLES
from nngrad.files.atomic import atomic_write
from nngrad.errors import NngradError, OutputError, SpecError
from nngrad.specs.sources import DEFAULT_LIMIT

GOOD = "X: [[1, 2]]\nT: [[1]]\nloss: mse\nlayers:\n  - W: [[0.5], [0.25]]\n    activation: relu\n"


def cli(*args, input=None):
    return subprocess.run([sys.executable, "-m", "nngrad", *map(str, args)], capture_output=True,
                          input=input)


def refused(tmp_path, content, name="net.yaml") -> str:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(SpecError) as e:
        nngrad.load(path)
    return str(e.value)


@pytest.mark.parametrize("yaml_text,fragment", [
    ("X: !!python/object/apply:os.system ['echo hi']\n", "1: X: has the tag !!python/object/apply:os.system"),
    ("X: !!python/object/new:os.system ['echo hi']\n", "1: X: has the tag !!python/object/new:os.system"),
    ("T: [[1]]\nX: !!python/name:os.system ''\n", "2: X: '' has the tag !!python/name:os.system"),
    ("X: !!binary aGk=\n", "X: 'aGk=' has the tag !!binary"),
    ("X: !!set {a: null}\n", "X: has the tag !!set"),
    (GOOD.replace("[[1, 2]]", "2001-02-30"), "1: X: is '2001-02-30'; a list of numbers"),  # 1.2: a string
    ("X: !Tag 1\n", "X: '1' has the tag !Tag"),
    ("X: !!int abc\n", "X: 'abc' is not a valid int"),
    ("X: !!bool maybe\n", "X: 'maybe' is not a valid bool"),
    ("X: !!float x\n", "X: 'x' is not a valid float"),
])
def test_tags_outside_plain_data_are_refused_with_tag_and_line(tmp_path, yaml_text, fragment):
    assert fragment in refused(tmp_path, yaml_text)


def test_billion_laughs_is_refused_without_expanding(tmp_path):
    bomb = "a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8))
    assert "aliases are not supported" in refused(tmp_path, bomb)


@pytest.mark.parametrize("text", ["[" * 30000 + "]" * 30000, "X:\n" + "- " * 30000 + "1\n",
                                  "X:\n" + "".join(" " * i + "- \n" for i in range(0, 3000, 2)),
                                  "# " + "]" * 40000 + "\nX: " + "[" * 30000 + "]" * 30000],
                         ids=["brackets", "dashes", "indents", "brackets after a comment of ]"])
def test_deep_nesting_is_refused_before_libyaml_parses_it(tmp_path, text):
    (tmp_path / "deep.yaml").write_text(text)
    proc = cli("run", tmp_path / "deep.yaml")
    assert proc.returncode == 2 and proc.stdout == b""
    assert b"levels deep" in proc.stderr or b"columns" in proc.stderr


@pytest.mark.parametrize("content,fragment", [
    ("X: [[1, 2]\n", ":2: invalid YAML"),
    ("X: [[1]]\nX: [[2]]\n", "2: X: is given twice"),
    ("", "is empty"),
    ("a: 1\n---\nb: 2\n", "several YAML documents"),
    ("- 1\n- 2\n", "is a list; a spec is a mapping"),
    (b"X: [[1]]\n\xff\xfe\n", "is not UTF-8 text (byte 9 is 0xff)"),
    (b"X: [[1]]\x00\n", ":1: invalid YAML: the character U+0000"),
    ("X:\n\t- [1]\n", ":2: invalid YAML"),
])
def test_malformed_yaml_is_one_clear_line(tmp_path, content, fragment):
    assert fragment in refused(tmp_path, content)


def test_a_byte_order_mark_is_accepted(tmp_path):
    (tmp_path / "bom.yaml").write_bytes(b"\xef\xbb\xbf" + GOOD.encode())
    assert nngrad.run(nngrad.load(tmp_path / "bom.yaml")).loss >= 0


@pytest.mark.parametrize("value,fragment", [
    ('"0.5"', "W1[1][0]: is '0.5'; a number was expected"), ("null", "W1[1][0]: is null"),
    ("false", "W1[1][0]: is false"), (".nan", "W1[1][0]: is nan"), ("-.inf", "W1[1][0]: is -inf"),
    ('"1e3"', "W1[1][0]: is '1e3'"),
])
def test_non_numbers_in_a_matrix_name_the_entry(tmp_path, value, fragment):
    assert fragment in refused(tmp_path, GOOD.replace("[0.25]", f"[{value}]"))


def test_all_integer_matrices_are_computed_as_floats(tmp_path):
    (tmp_path / "ints.yaml").write_text(GOOD.replace("[[0.5], [0.25]]", "[[1], [2]]"))
    res = nngrad.run(nngrad.load(tmp_path / "ints.yaml"))
    assert res["dW1"].dtype == np.float64 and res.loss == (5 - 1) ** 2


# --- NPZ -------------------------------------------------------------------------------------

def npz(**members) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **members)
    return buffer.getvalue()


MAZUR = dict(X=np.array([[0.05, 0.1]]), T=np.array([[0.01, 0.99]]), W1=np.full((2, 2), 0.2),
             W2=np.full((2, 2), 0.5), activations=np.array(["sigmoid", "sigmoid"]),
             loss=np.array("half_sse"))


@pytest.mark.parametrize("content,fragment", [
    (pickle.dumps({"X": [[1]]}), "is not a valid NPZ file"),
    (b"\x00junk" * 40, "is not a valid NPZ file"),
    (npz(**MAZUR)[:300], "is not a valid NPZ file"),
    (npz(**{**MAZUR, "W1": np.array([[object()]], dtype=object)}), "W1: holds Python objects"),
    (npz(**{**MAZUR, "W1": np.ones((2, 2), complex)}), "W1: has the dtype complex128"),
    (npz(**{**MAZUR, "W1": np.zeros(2, [("a", "f8"), ("b", "f8")])}), "W1: has the dtype"),
    (npz(**{**MAZUR, "W1": np.array([["a", "b"], ["c", "d"]])}), "W1: must hold numbers, not strings"),
])
def test_bad_npz_is_refused_naming_the_member(tmp_path, content, fragment):
    assert fragment in refused(tmp_path, content, "net.npz")


def test_a_member_that_is_not_npy_is_refused(tmp_path):
    buffer = io.BytesIO(npz(**MAZUR))
    with zipfile.ZipFile(buffer, "a") as z:
        z.writestr("notes.txt", "hello")
    assert "holds 'notes.txt', which is not a .npy array" in refused(tmp_path, buffer.getvalue(), "n.npz")


def test_an_absurd_declared_shape_is_refused_before_allocating(tmp_path):
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False,
                                                  "shape": (10 ** 12,)})
    buffer = io.BytesIO(npz(**{k: v for k, v in MAZUR.items() if k != "X"}))
    with zipfile.ZipFile(buffer, "a") as z:
        z.writestr("X.npy", header.getvalue() + b"\x00" * 64)
    assert "declares the shape (1000000000000,)" in refused(tmp_path, buffer.getvalue(), "n.npz")


def test_a_zip_bomb_is_refused_from_the_directory_without_inflating(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for key, a in MAZUR.items():
            with z.open(f"{key}.npy", "w", force_zip64=True) as f:
                np.lib.format.write_array(f, np.zeros((4096, 4096)) if key == "X" else a)
    data = buffer.getvalue()
    assert len(data) < 1_000_000  # 128 MiB of zeros, deflated
    tracemalloc.start()
    with pytest.raises(SpecError, match="more than the limit of 8,388,608"):
        nngrad.specs.read.from_npz(data, limit=8 << 20)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 4 << 20


def test_the_default_npz_limit_is_the_configured_one():
    from nngrad.settings import load_config

    assert load_config(None)["limits"]["npz_bytes"] == DEFAULT_LIMIT


# --- files, numerics, writes -------------------------------------------------------------------

@pytest.mark.parametrize("args,fragment", [
    (("run", "missing.yaml"), b"missing.yaml: no such file"),
    (("run", "."), b".: is a directory"),
    (("run", "--frobnicate"), b"no such option"),
    (("run", str(SAMPLES / "04_mazur.yaml"), "--format", "xml"), b"'xml' is not one of"),
])
def test_file_and_usage_errors_are_one_line_exit_2(args, fragment):
    proc = cli(*args)
    assert proc.returncode == 2 and proc.stdout == b"" and fragment in proc.stderr.lower()
    assert proc.stderr.count(b"\n") == 1 and b"Traceback" not in proc.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_file_is_exit_2(tmp_path):
    path = tmp_path / "net.yaml"
    path.write_text(GOOD)
    path.chmod(0)
    proc = cli("run", path)
    assert proc.returncode == 2 and b"permission denied" in proc.stderr


def test_saturated_softmax_gives_a_finite_loss_and_dz_and_names_the_first_non_finite(tmp_path):
    spec = ("X: [[1.0]]\nT: [[0, 1]]\nloss: cross_entropy\nlayers:\n"
            "  - W: [[1000, -1000]]\n    activation: softmax\n")
    res = nngrad.run(nngrad.load(_write(tmp_path, spec)))
    assert np.isfinite(res.loss) and np.isfinite(res["dZ1"]).all() and np.isfinite(res["dW1"]).all()
    proc = cli("run", tmp_path / "net.yaml", "--format", "json")
    # dA1 = -T / A1 is -1/0 for the class whose probability underflowed: named, exit 1
    assert proc.returncode == 1 and b"dA1[0][1] is -inf" in proc.stderr and b"NaN" not in proc.stdout


def test_huge_weights_report_where_the_overflow_began(tmp_path):
    spec = GOOD.replace("[[0.5], [0.25]]", "[[1e200], [1e200]]").replace("[[1, 2]]", "[[1e200, 1]]")
    proc = cli("run", _write(tmp_path, spec), "--format", "json")
    assert proc.returncode == 1 and b"Z1[0][0] is inf" in proc.stderr and b"NaN" not in proc.stdout


def _write(tmp_path, text):
    (tmp_path / "net.yaml").write_text(text)
    return tmp_path / "net.yaml"


def test_a_failed_write_leaves_the_old_file_and_no_temp_file(tmp_path):
    target = tmp_path / "out.npz"
    target.write_bytes(b"old contents")
    with pytest.raises(RuntimeError):
        with atomic_write(target) as f:
            f.write(b"half of the new")
            raise RuntimeError("disk full")
    assert target.read_bytes() == b"old contents" and os.listdir(tmp_path) == ["out.npz"]


def test_writing_into_a_missing_folder_is_an_output_error(tmp_path):
    with pytest.raises(OutputError):
        with atomic_write(tmp_path / "no" / "such" / "out.yaml") as f:
            f.write(b"x")
    assert isinstance(OutputError("x"), NngradError)
