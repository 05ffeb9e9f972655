"""Faults lose nothing: endless or huge sources, broken NPZ members and contradicting gradient
files are each one SpecError naming the file and the place, never another exception."""

import io
import random
import subprocess
import sys
import tracemalloc
import warnings
import zipfile
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nngrad
from conftest import SAMPLES, mutated_bytes
from nngrad.verify.compare import gradients_of
from nngrad.errors import NngradError, SpecError
from nngrad.specs.gradfile import npz_gradients, yaml_gradients
from nngrad.specs.read import from_arrays, from_npz, load_gradients
from nngrad.model.network import Network
from nngrad.specs.sources import stream_limit
from nngrad.specs.npzshapes import FROM_HEADERS
from nngrad.specs.sources import DEFAULT_READ_LIMIT

MAZUR = dict(X=np.array([[0.05, 0.1]]), T=np.array([[0.01, 0.99]]), W1=np.full((2, 2), 0.2),
             W2=np.full((2, 2), 0.5), activations=np.array(["sigmoid", "sigmoid"]),
             loss=np.array("half_sse"))
LIMIT_TEXT = "for a YAML or JSON text (limits.read_bytes in the settings)"


def npz(**members) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **members)
    return buffer.getvalue()


def refusal(load, *args, **kwargs) -> str:
    with pytest.raises(SpecError) as e:
        load(*args, **kwargs)
    return str(e.value)


def cli(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "nngrad", *map(str, args)], capture_output=True,
                          **kwargs)


def one_line_exit_2(proc, fragment: bytes) -> None:
    assert proc.returncode == 2 and proc.stdout == b"", proc.stderr
    assert proc.stderr.count(b"\n") == 1 and fragment in proc.stderr, proc.stderr


def stdin(monkeypatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", SimpleNamespace(buffer=io.BytesIO(data)))


# --- endless and huge sources -------------------------------------------------------------------

def test_the_default_read_limit_is_the_configured_one():
    from nngrad.settings import load_config

    assert load_config(None)["limits"]["read_bytes"] == DEFAULT_READ_LIMIT


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_an_endless_device_is_read_only_up_to_the_limit(device):
    message = refusal(nngrad.load, device, read_limit=1000)
    assert message == f"{device}: holds more than the limit of 1,000 bytes {LIMIT_TEXT}"


def test_an_endless_stdin_is_refused_at_the_default_limit():
    with open("/dev/zero", "rb") as zero:
        proc = cli("run", "-", stdin=zero)
    one_line_exit_2(proc, b"<stdin>: holds more than the limit of 268,435,456 bytes")


def test_an_endless_pipe_is_refused_at_the_default_limit():
    yes = subprocess.Popen(["yes"], stdout=subprocess.PIPE)
    try:
        proc = cli("run", "-", stdin=yes.stdout)
    finally:
        yes.kill()
        yes.wait()
        yes.stdout.close()
    one_line_exit_2(proc, b"(limits.read_bytes in the settings)")


def test_an_endless_settings_file_is_refused():
    one_line_exit_2(cli("run", "--config", "/dev/zero"), b"/dev/zero: holds more than the limit")


def test_a_large_regular_file_is_refused_from_its_size(tmp_path):
    (tmp_path / "net.yaml").write_bytes(b"#" * 2000)
    assert f"is 2,000 bytes, more than the limit of 1,000 bytes {LIMIT_TEXT}" in refusal(
        nngrad.load, tmp_path / "net.yaml", read_limit=1000)


def test_a_text_of_exactly_the_limit_loads(tmp_path):
    data = (SAMPLES / "04_mazur.yaml").read_bytes()
    (tmp_path / "net.yaml").write_bytes(data)
    assert nngrad.load(tmp_path / "net.yaml", read_limit=len(data)).widths == (2, 2, 2)


def test_a_settings_file_is_read_within_its_limit(tmp_path):
    from nngrad.specs.sources import read_bytes

    (tmp_path / "s.yaml").write_bytes(b"display: {precision: 3}\n")
    assert "limit of 10 bytes" in refusal(read_bytes, tmp_path / "s.yaml", "s.yaml", read_limit=10)


def test_an_npz_on_stdin_loads(monkeypatch):
    stdin(monkeypatch, npz(**MAZUR))
    assert nngrad.load("-").widths == (2, 2, 2)


def test_an_npz_on_a_pipe_is_read_only_up_to_what_the_npz_limit_allows(monkeypatch):
    stdin(monkeypatch, npz(**MAZUR) + bytes(stream_limit(1000)))
    assert refusal(nngrad.load, "-", limit=1000) == (
        f"<stdin>: is an NPZ of more than {stream_limit(1000):,} bytes read from a pipe: more than "
        "arrays within the limit of 1,000 bytes take with their zip structure (limits.npz_bytes "
        "in the settings)")


def test_closed_stdin_is_refused(monkeypatch):
    monkeypatch.setattr(sys, "stdin", None)
    assert refusal(nngrad.load, "-") == "<stdin>: standard input is closed"


def test_closed_stdin_is_one_line_exit_2():
    proc = subprocess.run(["sh", "-c", 'exec "$0" -m nngrad run - <&-', sys.executable],
                          capture_output=True)
    one_line_exit_2(proc, b"nngrad: error: <stdin>: standard input is closed")


# --- NPZ members ----------------------------------------------------------------------------------

@pytest.mark.parametrize("key,value,place", [
    ("loss", np.array(b"half\xff"), "loss"), ("layout", np.array(b"\xferows"), "layout"),
    ("activations", np.array([b"sigmoid", b"sig\xc3"]), "activations[1]"),
    ("reduction", np.array(b"\x80"), "reduction"), ("dtype", np.array(b"float\xff"), "dtype"),
])
def test_string_members_that_are_not_utf8_name_the_member(key, value, place):
    assert f"{place}: is not UTF-8 text" in refusal(from_npz, npz(**{**MAZUR, key: value}))


def test_a_string_member_past_unicode_is_refused():
    bad = np.frombuffer(b"\x00\x00\x11\x00", "<U1").reshape(())
    assert "loss: is not valid text (it holds 0x110000" in refusal(from_npz, npz(**{**MAZUR, "loss": bad}))


def test_a_member_stored_twice_is_refused():
    buffer = io.BytesIO(npz(**MAZUR))
    with warnings.catch_warnings(), zipfile.ZipFile(buffer, "a") as z:
        warnings.simplefilter("ignore")  # zipfile: "Duplicate name"
        z.writestr("X.npy", npz_member(np.ones((1, 2))))
    assert "X: is stored twice in the NPZ (two members 'X.npy')" in refusal(from_npz, buffer.getvalue())


def npz_member(a: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, a)
    return buffer.getvalue()


def with_header(key: str, descr: str, shape: tuple) -> bytes:
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": descr, "fortran_order": False,
                                                  "shape": shape})
    buffer = io.BytesIO(npz(**{k: v for k, v in MAZUR.items() if k != key}))
    with zipfile.ZipFile(buffer, "a") as z:
        z.writestr(f"{key}.npy", header.getvalue() + b"\x00" * 64)
    return buffer.getvalue()


@pytest.mark.parametrize("key,descr,shape,fragment", [
    ("X", "<f8", (-1, -1), "X: declares the shape (-1, -1), which has a negative length"),
    ("activations", "<U0", (10 ** 18,), "activations: declares the shape (1000000000000000000,) of <U0"),
])
def test_a_header_with_an_absurd_shape_is_refused(key, descr, shape, fragment):
    assert fragment in refusal(from_npz, with_header(key, descr, shape))


# --- shapes from the headers ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def tall_x() -> bytes:
    """MAZUR with an X that declares 105 million rows of width 1: 840 MB, deflated to 3.6 MB."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for key, a in MAZUR.items():
            with z.open(f"{key}.npy", "w", force_zip64=True) as f:
                if key != "X":
                    np.lib.format.write_array(f, a)
                    continue
                np.lib.format.write_array_header_1_0(
                    f, {"descr": "<f8", "fortran_order": False, "shape": (105_000_000, 1)})
                for _ in range(105_000_000 * 8 >> 22):
                    f.write(bytes(1 << 22))
                f.write(bytes(105_000_000 * 8 % (1 << 22)))
    return buffer.getvalue()


def test_shapes_that_cannot_fit_are_refused_from_the_headers_without_reading(tall_x):
    tracemalloc.start()
    with pytest.raises(SpecError) as e:
        from_npz(tall_x)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert str(e.value) == ("W1: is (2, 2), but X has 1 feature, so in the rows layout it must be "
                            "(1, n_out)" + FROM_HEADERS)
    assert peak < 4 << 20


def test_shapes_from_the_headers_are_one_line_exit_2(tall_x, tmp_path):
    (tmp_path / "tall.npz").write_bytes(tall_x)
    one_line_exit_2(cli("run", tmp_path / "tall.npz"), b"tall.npz: W1: is (2, 2), but X has 1 feature")


@pytest.mark.parametrize("change", [
    dict(X=np.ones((3, 1))), dict(W2=np.ones((3, 2))), dict(T=np.ones((2, 1))), dict(T=np.ones(2)),
    dict(X=np.ones((2, 2)), T=np.ones((1, 2))), dict(b1=np.ones(3)), dict(b2=np.ones((2, 1))),
    dict(layout=np.array("columns"), X=np.ones((1, 2))),
    dict(loss=np.array("cross_entropy"), activations=np.array(["sigmoid", "softmax"]), T=np.zeros(3)),
])
def test_a_refusal_from_the_headers_words_it_as_network_does(change):
    members = {**MAZUR, **change}
    expected = refusal(from_arrays, members) + FROM_HEADERS
    assert refusal(from_npz, npz(**members)) == expected


@pytest.mark.parametrize("change,fragment", [
    (dict(loss=np.array("mes"), X=np.ones((3, 1))), "loss: unknown loss 'mes'"),
    (dict(X=np.ones((3, 1)), T=np.array([["a", "b"]])), "W1: is (2, 2), but X has 1 feature"),
    (dict(X=np.array([[np.nan, 1.0]])), "X[0][0]: is nan"),
])
def test_what_the_headers_cannot_judge_is_left_to_the_network(change, fragment):
    message = refusal(from_npz, npz(**{**MAZUR, **change}))
    assert fragment in message and (FROM_HEADERS in message) == fragment.startswith("W1")


# --- a user's gradients ------------------------------------------------------------------------------

def gradients(tmp_path, text: str) -> str:
    (tmp_path / "mine.json").write_text(text)
    return refusal(load_gradients, tmp_path / "mine.json", name="mine.json")


def test_a_shape_that_contradicts_its_data_is_refused(tmp_path):
    assert gradients(tmp_path, '{"tensors": {"dW1": {"shape": [3, 3], "data": [[1, 2], [3, 4]]}}}') \
        == "mine.json:1: tensors.dW1.shape: is (3, 3), but the data is (2, 2)"


def test_a_shape_that_is_not_whole_numbers_is_refused(tmp_path):
    assert gradients(tmp_path, '{"dW1": {"shape": [2, 2.5], "data": [[1, 2], [3, 4]]}}') \
        == "mine.json:1: dW1.shape.1: is 2.5; a shape holds whole numbers from 0"


def test_a_shape_that_fits_its_data_loads(tmp_path):
    (tmp_path / "mine.json").write_text('{"dW1": {"shape": [1, 2], "data": [[1, 2]]}, '
                                        '"dB1": {"shape": [], "data": 0.5}}')
    mine = load_gradients(tmp_path / "mine.json")
    assert mine["dW1"].shape == (1, 2) and mine["dB1"].shape == ()


@pytest.mark.parametrize("value,place", [("1" + "0" * 400, "dB2"), ("[[1, 1e400]]", "dB2[0][1]"),
                                         ("[1.5e308, 1%s]" % ("0" * 400), "dB2[1]")])
def test_an_integer_too_big_for_a_float_names_the_entry(tmp_path, value, place):
    value = value.replace("1e400", "1" + "0" * 400)
    message = gradients(tmp_path, '{"dB2": %s}' % value)
    assert f"{place}: is 1000" in message and "too large for a float64" in message
    assert len(message) < 120


def test_an_integer_too_big_for_a_float_is_one_line_exit_2(tmp_path):
    (tmp_path / "mine.json").write_text('{"dW1": %s}' % ("9" * 4000))
    proc = cli("compare", SAMPLES / "04_mazur.yaml", tmp_path / "mine.json")
    one_line_exit_2(proc, b"dW1: is 9999")
    assert len(proc.stderr.replace(bytes(tmp_path), b"")) < 200


# --- fuzz ----------------------------------------------------------------------------------------------

def loads_or_refuses(load, *args) -> None:
    try:
        load(*args)
    except NngradError:
        pass


def mutated(data: bytes, rng: random.Random) -> bytes:
    return mutated_bytes(data, rng, b"[]{}()',:-0123456789e.\x00\xff<>fiUS|", 6)


def test_fuzzed_npz_members_in_a_valid_zip_load_or_raise_nngrad_error():
    """Each member's bytes mutated, the zip rebuilt around them: the .npy headers are parsed."""
    rng = random.Random(20261125)
    members = {key: npz_member(a) for key, a in {**MAZUR, "b1": np.zeros(2),
                                                  "layout": np.array("rows")}.items()}
    for _ in range(600):
        key = rng.choice(list(members))
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", rng.choice([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])) as z:
            for k, data in members.items():
                z.writestr(f"{k}.npy", mutated(data, rng) if k == key else data)
        loads_or_refuses(from_npz, buffer.getvalue())


def test_fuzzed_gradient_files_load_or_raise_nngrad_error():
    rng = random.Random(20261126)
    text = (b'{"tensors": {"dW1": {"shape": [2, 2], "data": [[1, 2], [3, 4]]}, "dB1": {"shape": [2], '
            b'"data": [1, 2]}, "dW2": [[1, 2], [3, 4]], "dB2": 0.5}}')
    data = npz(dW1=np.ones((2, 2)), dB2=np.zeros(2))
    check = lambda arrays: gradients_of(arrays, 2)  # noqa: E731
    for _ in range(400):
        loads_or_refuses(yaml_gradients, mutated(text, rng), check)
        loads_or_refuses(lambda d: check(npz_gradients(d, None)), mutated(data, rng))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(key=st.sampled_from(["activations", "loss", "layout", "reduction", "dtype"]),
       raw=st.binary(min_size=4, max_size=16), unicode=st.booleans())
def test_string_members_of_any_bytes_load_or_raise_nngrad_error(key, raw, unicode):
    raw = raw[:len(raw) // 4 * 4]
    value = np.frombuffer(raw, f"<U{len(raw) // 4}") if unicode else np.frombuffer(raw, f"S{len(raw)}")
    value = value if key == "activations" else value.reshape(())
    try:
        net = from_npz(npz(**{**MAZUR, key: value}))
    except NngradError:
        return
    assert isinstance(net, Network)


scalars = st.one_of(st.none(), st.booleans(), st.integers(-10 ** 400, 10 ** 400), st.floats(),
                    st.text(max_size=6))
plain = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(["shape", "data", "x"]), inner,
                                                 max_size=3)), max_leaves=12)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=plain, wrapped=st.booleans())
def test_a_gradient_entry_of_any_plain_data_loads_or_raises_nngrad_error(value, wrapped):
    import json

    doc = {"tensors": {"dW1": value}} if wrapped else {"dW1": value, "dB1": [1.0, 2.0]}
    loads_or_refuses(yaml_gradients, json.dumps(doc).encode(), lambda arrays: gradients_of(arrays, 1))
