"""Regularization (l2 in the forms half, full and half_over_m; l1; biases or not): the penalty, the
split of the loss into data and penalty, and every dW and dB, against the autograd oracle."""

import os
import subprocess
import sys

import numpy as np
import pytest

import nngrad
import oracle
from conftest import network, random_spec

LAYOUTS = ["rows", "columns"]
BIASES = ["vector", "2d"]
REGS = {  # a name for the test id -> the regularization mapping (biases added by the tests)
    "l2_default_form": {"l2": 0.07},
    "l2_half": {"l2": 0.07, "form": "half"},
    "l2_full": {"l2": 0.07, "form": "full"},
    "l2_half_over_m": {"l2": 0.3, "form": "half_over_m"},
    "l1": {"l1": 0.04},
    "l2_and_l1": {"l2": 0.05, "form": "full", "l1": 0.03},
}
PARTS = ["all", "data", "penalty"]


def reg_spec(reg, layout="rows", bias="vector", biases=False, seed=30, **kw):
    spec = random_spec(seed=seed, widths=(3, 4, 2), hidden="tanh", layout=layout, bias=bias, m=5, **kw)
    return {**spec, "regularization": {**reg, "biases": True} if biases else dict(reg)}


def assert_matches_oracle(res, spec, rtol=1e-9, atol=1e-12):
    assert res.loss == pytest.approx(float(oracle.loss(spec)), rel=rtol)
    assert res.loss_data == pytest.approx(float(oracle.data_loss(spec)), rel=rtol)
    assert res.penalty == pytest.approx(float(oracle.penalty(spec)), rel=rtol)
    for name, value in oracle.gradients(spec).items():
        if name[:2] in ("dW", "dB"):
            assert res[name].shape == np.shape(value), name
            np.testing.assert_allclose(res[name], value, rtol=rtol, atol=atol, err_msg=name)


# --- the oracle on its own -------------------------------------------------------------------

TINY = {"X": [[1.0, 2.0], [0.5, -1.0]], "T": [[0.5], [-0.3]], "loss": "mse", "layers": [
    {"W": [[1.0, -2.0], [0.0, 3.0]], "b": [0.5, -1.0], "activation": "tanh"},
    {"W": [[2.0], [-1.0]], "b": [3.0], "activation": "identity"}]}
# sum W^2 = 1 + 4 + 0 + 9 + 4 + 1 = 19, sum |W| = 9; sum b^2 = 0.25 + 1 + 9 = 10.25, sum |b| = 4.5


@pytest.mark.parametrize("reg, expected", [
    ({"l2": 0.1}, 0.05 * 19), ({"l2": 0.1, "form": "half"}, 0.05 * 19),
    ({"l2": 0.1, "form": "full"}, 0.1 * 19), ({"l2": 0.1, "form": "half_over_m"}, 0.1 / 4 * 19),
    ({"l1": 0.2}, 0.2 * 9), ({"l2": 0.1, "l1": 0.2}, 0.05 * 19 + 0.2 * 9),
    ({"l2": 0.1, "biases": True}, 0.05 * (19 + 10.25)),
    ({"l1": 0.2, "biases": True}, 0.2 * (9 + 4.5)), ({}, 0.0)])
def test_oracle_penalty_by_hand(reg, expected):
    spec = {**TINY, "regularization": reg}
    assert float(oracle.penalty(spec)) == pytest.approx(expected, rel=1e-14)
    assert float(oracle.loss(spec)) == pytest.approx(float(oracle.data_loss(spec)) + expected, rel=1e-14)


def test_oracle_penalty_gradient_by_hand():
    spec = {**TINY, "regularization": {"l2": 0.1, "form": "full", "l1": 0.2}}
    g = oracle.gradients(spec, part="penalty")
    W1 = np.array(TINY["layers"][0]["W"])
    np.testing.assert_allclose(g["dW1"], 2 * 0.1 * W1 + 0.2 * np.sign(W1), rtol=1e-14)
    assert g["dW1"][1, 0] == 0.0  # W1[1, 0] is exactly 0: sign(0) = 0
    np.testing.assert_array_equal(g["dB1"], 0.0)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("part", PARTS)
@pytest.mark.parametrize("biases", [False, True])
@pytest.mark.parametrize("reg", sorted(REGS))
def test_oracle_autograd_matches_its_central_differences(reg, biases, part, layout):
    spec = reg_spec(REGS[reg], layout, "2d", biases)
    auto, numeric = oracle.gradients(spec, part=part), oracle.central_differences(spec, part=part)
    for name, value in numeric.items():
        np.testing.assert_allclose(auto[name], value, rtol=1e-6, atol=1e-9, err_msg=name)


def test_oracle_parts_add_up():
    spec = reg_spec(REGS["l2_and_l1"], biases=True)
    whole, data, pen = (oracle.gradients(spec, part=p) for p in PARTS)
    for name in whole:
        np.testing.assert_allclose(whole[name], data[name] + pen[name], rtol=1e-12, atol=1e-15)


# --- nngrad against the oracle ---------------------------------------------------------------

@pytest.mark.parametrize("bias", BIASES)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("biases", [False, True])
@pytest.mark.parametrize("reg", sorted(REGS))
def test_run_matches_oracle(reg, biases, layout, bias):
    spec = reg_spec(REGS[reg], layout, bias, biases)
    assert_matches_oracle(nngrad.run(network(spec)), spec)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_biases_true_with_omitted_b(layout):
    spec = reg_spec(REGS["l2_and_l1"], layout, "none", biases=True)
    assert_matches_oracle(nngrad.run(network(spec)), spec)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_without_regularization_the_penalty_is_zero(layout):
    spec = random_spec(seed=31, layout=layout)
    res = nngrad.run(network(spec))
    assert res.penalty == 0.0
    assert res.loss == res.loss_data == pytest.approx(float(oracle.loss(spec)), rel=1e-12)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_l1_derivative_is_zero_at_a_zero_weight(layout):
    spec = reg_spec({"l1": 0.5}, layout, "vector")
    spec["layers"][0]["W"][1][0] = spec["layers"][1]["W"][0][1] = 0.0
    res = nngrad.run(network(spec))
    assert_matches_oracle(res, spec)
    report = nngrad.check(network(spec))
    assert not [n for n, t in report.tensors.items() if t.status == "wrong_values"]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("reg", ["l2_half", "l2_half_over_m", "l2_and_l1"])
def test_float32_is_close_to_the_float64_oracle(reg, layout):
    spec = reg_spec(REGS[reg], layout, "vector", biases=True)
    res = nngrad.run(network(spec, dtype="float32"))
    assert res.loss == pytest.approx(float(oracle.loss(spec)), rel=1e-5)
    assert res.penalty == pytest.approx(float(oracle.penalty(spec)), rel=1e-5)
    assert res.loss_data == pytest.approx(float(oracle.data_loss(spec)), rel=1e-5)
    for name, value in oracle.gradients(spec).items():
        if name[:2] in ("dW", "dB"):
            assert res[name].dtype == np.float32, name
            np.testing.assert_allclose(res[name], value, rtol=1e-4, atol=1e-5, err_msg=name)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("part", PARTS)
def test_check_agrees_on_a_regularized_net(part, layout):
    net = network(reg_spec(REGS["l2_and_l1"], layout, "vector", biases=True))
    report = nngrad.check(net) if part == "all" else nngrad.check(net, part=part)
    assert report.agree
    assert all(t.status in ("ok", "skipped_kink") for t in report.tensors.values())


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("planted", ["dW1", "dW2"])
def test_compare_catches_a_dW_without_the_penalty(planted, layout):
    spec = reg_spec({"l2": 0.5, "form": "full"}, layout, "vector")
    right = {k: v for k, v in oracle.gradients(spec).items() if k[:2] in ("dW", "dB")}
    mine = {**right, planted: oracle.gradients(spec, part="data")[planted]}
    report = nngrad.compare(network(spec), mine)
    assert not report.agree
    assert report.tensors[planted].status == "wrong_values"
    assert all(t.status == "ok" for name, t in report.tensors.items() if name != planted)


def test_compare_agrees_on_the_whole_gradient():
    spec = reg_spec(REGS["l2_and_l1"], "rows", "vector", biases=True)
    right = {k: v for k, v in oracle.gradients(spec).items() if k[:2] in ("dW", "dB")}
    assert nngrad.compare(network(spec), right).agree


# --- bad input on the command line -----------------------------------------------------------

SPEC_YAML = """\
X: [[1.0, 2.0], [0.5, -1.0]]
T: [[0.5], [-0.3]]
loss: mse
regularization: {REG}
layers:
  - W: [[0.3], [-0.2]]
    activation: identity
"""


def nngrad_cli(*args):
    return subprocess.run([sys.executable, "-m", "nngrad", *args], capture_output=True,
                          env=dict(os.environ), timeout=60)


def assert_one_line_error(proc, *fragments):
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == b""
    lines = proc.stderr.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith("nngrad: error: "), lines
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


def test_the_cli_spec_runs_when_valid(tmp_path):
    path = tmp_path / "net.yaml"
    path.write_text(SPEC_YAML.replace("{REG}", "{l2: 0.1, form: full}"))
    assert nngrad_cli("run", str(path)).returncode == 0


@pytest.mark.parametrize("reg, fragments", [
    ("{l3: 0.1}", ["l3", "did you mean"]),
    ("{l2: 0.1, form: halfs}", ["halfs"]),
    ("{l2: -0.1}", ["l2"]),
    ("{l1: -0.1}", ["l1"]),
    ("{l2: .inf}", ["l2"]),
    ("{l2: .nan}", ["l2"]),
])
def test_bad_regularization_is_one_line_exit_2(tmp_path, reg, fragments):
    path = tmp_path / "net.yaml"
    path.write_text(SPEC_YAML.replace("{REG}", reg))
    assert_one_line_error(nngrad_cli("run", str(path)), "net.yaml:4:", "regularization", *fragments)
