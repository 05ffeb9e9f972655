"""nngrad check on layers with stages: finite differences over W, b, gamma and beta (and X)
agree in full and fast mode; a wrong dgamma is caught; a ReLU kink after a batchnorm is read at
S and skipped; the command line's JSON names dgamma1 and dbeta1."""

import json
import subprocess
import sys

import numpy as np
import pytest
import yaml

import nngrad
import nngrad.verify.gradcheck as gradcheck
import oracle_stages as ref
from conftest import network
from test_stages import staged_spec

LAYOUTS = ["rows", "columns"]
MODES = ["full", "fast"]
REG = {"l2": 0.1, "biases": True}  # gamma and beta carry the penalty too
STAGED = {"norm": "mixed", "dropout": "seed", "reg": REG}


def statuses(report):
    return {name: t.status for name, t in report.tensors.items()}


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("mode", MODES)
def test_check_agrees_on_a_staged_net(mode, layout):
    report = nngrad.check(network(staged_spec(layout, **STAGED)), mode=mode, input_grad=True)
    assert report.agree and report.settings["mode"] == mode
    names = {"dA0", *(f"d{k}{l}" for k in ("W", "B", "gamma", "beta") for l in (1, 2)), "dW3"}
    assert names <= set(report.tensors)
    assert set(statuses(report).values()) == {"ok"}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("part", ["data", "penalty"])
def test_check_agrees_on_each_part(part, mode):
    report = nngrad.check(network(staged_spec("columns", params="2d", **STAGED)), mode=mode, part=part)
    assert report.agree and set(statuses(report).values()) == {"ok"}


@pytest.mark.parametrize("mode", MODES)
def test_check_agrees_with_a_mask_not_inverted_and_l1(mode):
    spec = staged_spec("rows", norm="layernorm", dropout="mask", inverted=False, hidden="sigmoid",
                       reg={"l1": 0.01, "biases": True})
    assert nngrad.check(network(spec), mode=mode).agree


def test_float32_staged_net_is_checked():
    report = nngrad.check(network(staged_spec("rows", **STAGED), "float32"), mode="full")
    assert report.agree and "float32" in report.warnings[0]


def test_dB_before_a_batchnorm_is_zero_and_ok():
    """b before a batchnorm has no effect: both sides are 0 to within rounding, so the relative
    error is 0, not the rounding noise over itself."""
    report = nngrad.check(network(staged_spec("rows", dropout="none")), mode="full")
    dB1 = report.tensors["dB1"]
    assert dB1.status == "ok" and dB1.max_abs_err < 1e-8
    assert dB1.max_rel_err == 0.0 and dB1.to_dict()["band"] == "good"


@pytest.mark.parametrize("layout", LAYOUTS)
def test_check_leaves_the_network_as_it_was(layout):
    net = network(staged_spec(layout, **STAGED))
    gamma, beta, mask = (np.array(a) for a in (net.layers[0].batchnorm.gamma,
                                               net.layers[1].layernorm.beta, net.layers[0].dropout.mask))
    nngrad.check(net, mode="full")
    np.testing.assert_array_equal(net.layers[0].batchnorm.gamma, gamma)
    np.testing.assert_array_equal(net.layers[1].layernorm.beta, beta)
    np.testing.assert_array_equal(net.layers[0].dropout.mask, mask)


# --- a planted wrong dgamma ------------------------------------------------------------------

@pytest.fixture
def planted(monkeypatch):
    """check's analytic side replaced by the oracle's gradients, with dgamma1 made wrong."""
    def plant(spec, error=0.05):
        grads = ref.gradients(spec)
        grads["dgamma1"] = grads["dgamma1"] + error
        monkeypatch.setattr(gradcheck, "_analytic", lambda net, part, input_grad: grads)
    return plant


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("mode", MODES)
def test_a_planted_wrong_dgamma_is_caught(planted, mode, layout):
    spec = staged_spec(layout, **STAGED)
    planted(spec)
    report = nngrad.check(network(spec), mode=mode)
    assert not report.agree
    wrong = {name for name, status in statuses(report).items() if status != "ok"}
    assert wrong == {"dgamma1"}
    assert report.tensors["dgamma1"].max_rel_err > 1e-2


@pytest.mark.parametrize("mode", MODES)
def test_the_oracles_gradients_unplanted_agree(planted, mode):
    spec = staged_spec("columns", **STAGED)
    planted(spec, error=0.0)  # the same path as above, without the error
    assert nngrad.check(network(spec), mode=mode).agree


# --- kinks -----------------------------------------------------------------------------------

def kink_spec(layout, i=1, j=2):
    """ReLU after a batchnorm, with beta set so that S1 at example i, unit j is 0 (and Z1 there
    is not)."""
    spec = staged_spec(layout, hidden="relu", dropout="none", norm="batchnorm")
    norm = spec["layers"][0]["batchnorm"]
    xhat = ref.forward(spec)["xhat1"]
    gamma, beta = np.asarray(norm["gamma"]), np.asarray(norm["beta"])
    beta[j] = -gamma[j] * (xhat[i, j] if layout == "rows" else xhat[j, i])
    norm["beta"] = beta.tolist()
    return spec


@pytest.mark.parametrize("layout", LAYOUTS)
def test_relu_after_batchnorm_kink_is_read_at_S(layout):
    spec = kink_spec(layout)
    at = "[1, 2]" if layout == "rows" else "[2, 1]"
    S, Z = (ref.forward(spec)[name][tuple(json.loads(at))] for name in ("S1", "Z1"))
    assert abs(S) < 1e-12 and abs(Z) > 1e-3  # a kink at S, and none at Z
    report = nngrad.check(network(spec), mode="full")
    assert report.agree
    assert f"dbeta1[2]: crosses the relu kink of S1{at}; skipped" in report.skipped
    assert report.tensors["dbeta1"].skipped >= 1


@pytest.mark.parametrize("layout", LAYOUTS)
def test_relu_after_batchnorm_kink_is_skipped_in_fast_mode(layout):
    at = "[1, 2]" if layout == "rows" else "[2, 1]"
    report = nngrad.check(network(kink_spec(layout)), mode="fast")
    assert report.agree
    assert any(line.startswith("dgamma1 direction") and f"relu kink of S1{at}" in line
               for line in report.skipped)


def test_relu_kink_with_dropout_alone_is_named_at_Z():
    spec = staged_spec("rows", hidden="relu", norm="none", dropout="seed", bias="vector")
    Z = ref.forward(spec)["Z1"]
    spec["layers"][0]["b"][3] -= float(Z[0, 3])  # Z1[0, 3] = 0: there is no S1 without a norm
    report = nngrad.check(network(spec), mode="full")
    assert report.agree
    assert any("relu kink of Z1[0, 3]" in line for line in report.skipped)
    assert not any("S1" in line for line in report.skipped)


# --- the command line ------------------------------------------------------------------------

@pytest.mark.parametrize("layout", LAYOUTS)
def test_cli_check_json(tmp_path, layout):
    path = tmp_path / "net.yaml"
    path.write_text(yaml.safe_dump(staged_spec(layout, **STAGED)))
    proc = subprocess.run([sys.executable, "-m", "nngrad", "check", str(path), "--format", "json"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["agree"] is True
    for name in ("dgamma1", "dbeta1", "dgamma2", "dbeta2"):
        assert report["tensors"][name]["status"] == "ok", name
