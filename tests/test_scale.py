"""keep="grads" and batch chunks against the autograd oracle and against the full run."""

import gc
import json
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

import nngrad
import oracle
from nngrad.numerics.losses import LOSSES
from conftest import network, random_spec
from nngrad.numerics.activations import ACTIVATIONS
from nngrad.cli import cli as nngrad_group

OUTPUT_FOR = {"bce": "sigmoid", "cross_entropy": "softmax"}


def grads_only(res):
    return {name: res[name] for name in res if name[:2] in ("dW", "dB")}


def assert_close_relative(got, want, rtol):
    for name, value in want.items():
        scale = np.abs(value).max() or 1.0
        assert got[name].shape == np.shape(value), name
        assert np.abs(got[name] - value).max() <= rtol * scale, name


@pytest.mark.parametrize("layout", ["rows", "columns"])
@pytest.mark.parametrize("hidden", sorted(ACTIVATIONS))
def test_keep_grads_matches_oracle(hidden, layout):
    spec = random_spec(seed=3, widths=(3, 5, 4, 2), hidden=hidden, layout=layout)
    res = nngrad.run(network(spec), keep="grads")
    want = {k: v for k, v in oracle.gradients(spec).items() if k[:2] in ("dW", "dB")}
    assert set(res) == set(want)
    assert_close_relative(res, want, 1e-9)
    assert res.loss == pytest.approx(float(oracle.loss(spec)), rel=1e-12)


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 100])
@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_chunks_agree_with_the_whole_batch(loss, chunk):
    spec = random_spec(seed=4, widths=(3, 6, 2), hidden="relu", loss=loss,
                       output=OUTPUT_FOR.get(loss, "tanh"), m=7)
    net = network(spec)
    whole, chunked = nngrad.run(net, keep="grads"), nngrad.run(net, keep="grads", batch_chunk=chunk)
    assert_close_relative(grads_only(chunked), grads_only(whole), 1e-12)
    assert chunked.loss == pytest.approx(whole.loss, rel=1e-12)


@pytest.mark.parametrize("reduction", ["mean", "sum", "batch_mean"])
@pytest.mark.parametrize("layout", ["rows", "columns"])
def test_chunks_match_oracle_in_both_layouts(layout, reduction):
    spec = {**random_spec(seed=5, widths=(4, 5, 3), hidden="gelu", layout=layout, m=9),
            "loss": {"name": "mse", "reduction": reduction}}
    res = nngrad.run(network(spec), keep="grads", batch_chunk=4)
    want = {k: v for k, v in oracle.gradients(spec).items() if k[:2] in ("dW", "dB")}
    assert_close_relative(res, want, 1e-12)
    assert res.loss == pytest.approx(float(oracle.loss(spec)), rel=1e-12)


def test_chunks_with_class_labels():
    spec = random_spec(seed=6, widths=(3, 4, 3), hidden="tanh", loss="cross_entropy",
                       output="softmax", labels=True, m=8)
    res = nngrad.run(network(spec), keep="grads", batch_chunk=3)
    want = {k: v for k, v in oracle.gradients(spec).items() if k[:2] in ("dW", "dB")}
    assert_close_relative(res, want, 1e-12)


def test_float32_stays_float32_when_chunked():
    res = nngrad.run(network(random_spec(seed=7, m=6), dtype="float32"), keep="grads", batch_chunk=4)
    assert {res[name].dtype for name in res} == {np.dtype(np.float32)}


@pytest.mark.parametrize("kwargs", [{"keep": "everything"}, {"batch_chunk": 2},
                                    {"keep": "grads", "batch_chunk": 0}])
def test_bad_keep_or_chunk_is_an_nngrad_error(kwargs):
    with pytest.raises(nngrad.NngradError):
        nngrad.run(network(random_spec()), **kwargs)


@pytest.mark.parametrize("name", sorted(n for n, a in ACTIVATIONS.items() if not a.reads_z))
def test_activations_that_skip_z_do_not_read_it(name):
    z = np.random.default_rng(8).normal(0, 2, (4, 3))
    z[0, 0] = 0.0
    a, g = ACTIVATIONS[name].f(z), np.random.default_rng(9).normal(size=(4, 3))
    np.testing.assert_array_equal(ACTIVATIONS[name].vjp(g, None, a), ACTIVATIONS[name].vjp(g, z, a))


def test_relu_gradient_never_negative_zero():
    dz = ACTIVATIONS["relu"].vjp(-np.ones((2, 2)), None, np.array([[0.0, 1.0], [2.0, 0.0]]))
    assert not np.signbit(dz[dz == 0]).any()


def test_run_does_not_change_its_inputs():
    net = network(random_spec(seed=10, hidden="relu", bias="2d"))
    before = [a.copy() for layer in net.layers for a in (layer.W, layer.b)] + [net.X.copy()]
    nngrad.run(net, keep="grads", batch_chunk=2)
    after = [a for layer in net.layers for a in (layer.W, layer.b)] + [net.X]
    for x, y in zip(before, after):
        np.testing.assert_array_equal(x, y)


def peak_bytes(net, **kwargs) -> int:
    gc.collect()
    tracemalloc.start()
    nngrad.run(net, **kwargs)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def test_keep_grads_and_chunks_lower_the_peak():
    rng = np.random.default_rng(11)
    layers = [nngrad.Layer(rng.normal(0, 0.1, (32, 256)), None, "relu"),
              nngrad.Layer(rng.normal(0, 0.1, (256, 256)), None, "relu"),
              nngrad.Layer(rng.normal(0, 0.1, (256, 1)))]
    net = nngrad.Network(X=rng.normal(size=(2048, 32)), T=rng.normal(size=(2048, 1)),
                         layers=layers, loss="mse")
    full = peak_bytes(net)
    grads = peak_bytes(net, keep="grads")
    chunked = peak_bytes(net, keep="grads", batch_chunk=128)
    assert grads < 0.6 * full
    assert chunked < 0.1 * full


def cli(*args):
    return CliRunner().invoke(nngrad_group, list(args), catch_exceptions=False)


def written_spec(tmp_path, spec):
    path = tmp_path / "net.yaml"
    path.write_text(yaml.safe_dump(spec))
    return str(path)


def test_cli_keep_grads_json_holds_only_dw_db(tmp_path):
    spec = random_spec(seed=12, widths=(3, 4, 2), hidden="relu", m=6)
    result = cli("run", written_spec(tmp_path, spec), "--keep", "grads", "--format", "json")
    assert result.exit_code == 0
    doc = json.loads(result.output)
    want = {k: v for k, v in oracle.gradients(spec).items() if k[:2] in ("dW", "dB")}
    assert set(doc["tensors"]) == set(want)
    got = {name: np.array(t["data"]) for name, t in doc["tensors"].items()}
    assert_close_relative(got, want, 1e-9)


def test_cli_batch_chunk_agrees_with_the_whole_batch(tmp_path):
    path = written_spec(tmp_path, random_spec(seed=13, widths=(3, 5, 2), hidden="tanh", m=10))
    whole = json.loads(cli("run", path, "--keep", "grads", "--format", "json").output)
    chunked = cli("run", path, "--keep", "grads", "--batch-chunk", "3", "--format", "json")
    assert chunked.exit_code == 0
    got = {name: np.array(t["data"]) for name, t in json.loads(chunked.output)["tensors"].items()}
    want = {name: np.array(t["data"]) for name, t in whole["tensors"].items()}
    assert_close_relative(got, want, 1e-12)


def test_cli_keep_grads_table_and_npz(tmp_path):
    path = written_spec(tmp_path, random_spec(seed=14, m=4))
    table = cli("run", path, "--keep", "grads")
    assert table.exit_code == 0 and "dW2" in table.output and "Z1" not in table.output
    assert "mean over 8 elements of Y" in table.output
    out = tmp_path / "grads.npz"
    assert cli("run", path, "--keep", "grads", "-o", str(out)).exit_code == 0
    assert set(np.load(out).files) == {"dW1", "dB1", "dW2", "dB2", "loss"}


@pytest.mark.parametrize("args, fragment", [(["--batch-chunk", "2"], "--batch-chunk needs --keep grads"),
                                            (["--keep", "grads", "--batch-chunk", "0"], "--batch-chunk"),
                                            (["--keep", "some"], "--keep")])
def test_cli_bad_keep_or_chunk_is_a_usage_error(tmp_path, args, fragment):
    path = written_spec(tmp_path, random_spec(seed=15))
    proc = subprocess.run([sys.executable, "-m", "nngrad", "run", path, *args], capture_output=True)
    assert proc.returncode == 2 and proc.stdout == b""
    lines = proc.stderr.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith("nngrad: error: ") and fragment in lines[0]


def test_cli_keep_grads_names_the_first_non_finite_value_it_holds(tmp_path):
    spec = {"X": [[1.0, 2.0]], "T": [[0.5]], "loss": "mse", "layers": [
        {"W": [[1e200, 1.0], [1.0, 1.0]], "activation": "relu"},
        {"W": [[1e200], [1.0]], "activation": "identity"}]}
    path = written_spec(tmp_path, spec)
    proc = subprocess.run([sys.executable, "-m", "nngrad", "run", path, "--keep", "grads",
                           "--format", "json"], capture_output=True, text=True)
    assert proc.returncode == 1
    assert json.loads(proc.stdout)["loss"]["value"] is None
    assert "loss is inf" in proc.stderr
