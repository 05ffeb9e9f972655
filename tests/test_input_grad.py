"""The input gradient dA0 = dLoss/dX, in X's shape: from run(input_grad=True), check and compare,
against autograd and central differences on X."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import yaml

import nngrad
import oracle
from conftest import network, random_spec

LAYOUTS = ["rows", "columns"]
CASES = [  # hidden activation, output activation, loss
    ("tanh", "identity", "mse"),
    ("sigmoid", "sigmoid", "bce"),
    ("gelu", "softmax", "cross_entropy"),
    ("elu", "identity", "mae"),
    ("softplus", "identity", "svm"),
    ("leaky_relu", "tanh", "hinge"),
    ("silu", "identity", "dot"),
]
IDS = [case[2] for case in CASES]


def case_spec(hidden, output, loss, layout="rows", seed=50, **kw):
    """A random 3-4-3 spec whose T fits the loss (hinge: t in {-1, +1}; svm: class labels)."""
    base = {"svm": "mse", "hinge": "mse", "dot": "mse"}.get(loss, loss)
    spec = random_spec(seed=seed, widths=(3, 4, 3), hidden=hidden, output=output, loss=base,
                       layout=layout, m=4, **kw)
    rng = np.random.default_rng(seed + 1000)
    if loss == "svm":
        spec["T"] = rng.integers(0, 3, 4).tolist()
    elif loss == "hinge":
        spec["T"] = np.sign(np.asarray(spec["T"])).tolist()
    return {**spec, "loss": loss}


def X_of(spec):
    return np.asarray(spec["X"], dtype=float)


def params(grads):
    return {k: v for k, v in grads.items() if k[:2] in ("dW", "dB")}


# --- the oracle on its own -------------------------------------------------------------------

@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_oracle_dA0_matches_its_central_differences(case, layout):
    spec = case_spec(*case, layout)
    auto = oracle.gradients(spec, input_grad=True)["dA0"]
    assert auto.shape == X_of(spec).shape
    numeric = oracle.central_differences(spec, input_grad=True)["dA0"]
    np.testing.assert_allclose(auto, numeric, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_oracle_dA0_is_dZ1_back_through_W1(layout):
    spec = case_spec("tanh", "identity", "mse", layout)
    g = oracle.gradients(spec, input_grad=True)
    W1 = np.asarray(spec["layers"][0]["W"])
    want = g["dZ1"] @ W1.T if layout == "rows" else W1.T @ g["dZ1"]
    np.testing.assert_allclose(g["dA0"], want, rtol=1e-12, atol=1e-15)


def test_oracle_dA0_ignores_the_penalty():
    spec = {**case_spec("tanh", "identity", "mse"), "regularization": {"l2": 0.3, "l1": 0.1}}
    np.testing.assert_array_equal(oracle.input_gradient(spec),
                                  oracle.input_gradient({**spec, "regularization": {}}))
    np.testing.assert_array_equal(oracle.input_gradient(spec, part="penalty"), 0.0)


# --- nngrad against the oracle ---------------------------------------------------------------

@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_dA0_matches_oracle(case, layout):
    spec = case_spec(*case, layout)
    got = nngrad.run(network(spec), input_grad=True)["dA0"]
    assert got.shape == X_of(spec).shape
    np.testing.assert_allclose(got, oracle.input_gradient(spec), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_dA0_matches_central_differences(case, layout):
    spec = case_spec(*case, layout)
    got = nngrad.run(network(spec), input_grad=True)["dA0"]
    np.testing.assert_allclose(got, oracle.central_differences(spec, input_grad=True)["dA0"],
                               rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_dA0_of_a_regularized_net(layout):
    spec = {**case_spec("tanh", "identity", "mse", layout),
            "regularization": {"l2": 0.3, "form": "half_over_m", "biases": True}}
    got = nngrad.run(network(spec), input_grad=True)["dA0"]
    np.testing.assert_allclose(got, oracle.input_gradient(spec), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_dA0_in_float32_is_close_to_the_oracle(layout):
    spec = case_spec("tanh", "identity", "mse", layout)
    got = nngrad.run(network(spec, dtype="float32"), input_grad=True)["dA0"]
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, oracle.input_gradient(spec), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_no_dA0_without_the_flag(layout):
    net = network(case_spec("tanh", "identity", "mse", layout))
    without, with_ = set(nngrad.run(net)), set(nngrad.run(net, input_grad=True))
    assert "dA0" not in without
    assert with_ == without | {"dA0"}


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_check_with_input_grad_agrees(case, layout):
    report = nngrad.check(network(case_spec(*case, layout)), input_grad=True)
    assert report.agree
    assert report.tensors["dA0"].status == "ok"


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name", ["dA0", "dX"])
def test_compare_accepts_dA0_and_dX(name, layout):
    spec = case_spec("sigmoid", "sigmoid", "bce", layout)
    mine = {**params(oracle.gradients(spec)), name: oracle.input_gradient(spec)}
    report = nngrad.compare(network(spec), mine)
    assert report.agree
    assert report.tensors["dA0"].status == "ok"


@pytest.mark.parametrize("layout", LAYOUTS)
def test_compare_catches_a_wrong_dX(layout):
    spec = case_spec("sigmoid", "sigmoid", "bce", layout)
    mine = {**params(oracle.gradients(spec)), "dX": 2 * oracle.input_gradient(spec)}
    report = nngrad.compare(network(spec), mine)
    assert not report.agree
    assert report.tensors["dA0"].status == "wrong_values"
    assert all(t.status == "ok" for name, t in report.tensors.items() if name != "dA0")


@pytest.mark.parametrize("layout", LAYOUTS)
def test_compare_catches_a_transposed_dX(layout):
    spec = case_spec("sigmoid", "sigmoid", "bce", layout)  # X is 4 x 3 (rows) or 3 x 4
    mine = {**params(oracle.gradients(spec)), "dX": oracle.input_gradient(spec).T}
    report = nngrad.compare(network(spec), mine)
    assert not report.agree and report.tensors["dA0"].status == "wrong_shape"


# --- the command line ------------------------------------------------------------------------

def nngrad_cli(*args):
    return subprocess.run([sys.executable, "-m", "nngrad", *args], capture_output=True,
                          env=dict(os.environ), timeout=60)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_run_input_grad_json_has_dA0(tmp_path, layout):
    spec = case_spec("tanh", "identity", "mse", layout)
    path = tmp_path / "net.yaml"
    path.write_text(yaml.safe_dump(spec))
    with_ = nngrad_cli("run", str(path), "--format", "json", "--input-grad")
    assert with_.returncode == 0, with_.stderr
    dA0 = json.loads(with_.stdout)["tensors"]["dA0"]
    assert dA0["shape"] == list(X_of(spec).shape)
    np.testing.assert_allclose(dA0["data"], oracle.input_gradient(spec), rtol=1e-9, atol=1e-12)
    without = json.loads(nngrad_cli("run", str(path), "--format", "json").stdout)
    assert "dA0" not in without["tensors"]
