"""nngrad check: agrees on correct gradients, fails on a broken backward, skips kinks."""

import numpy as np
import pytest

import nngrad
import oracle
from conftest import network, random_spec
from nngrad.numerics.activations import ACTIVATIONS
from nngrad.settings import load_config
from nngrad.verify.report import TOLERANCES


@pytest.mark.parametrize("layout", ["rows", "columns"])
@pytest.mark.parametrize("hidden, loss", [("tanh", "mse"), ("sigmoid", "bce"), ("gelu", "cross_entropy")])
def test_check_agrees_on_correct_gradients(hidden, loss, layout):
    output = {"bce": "sigmoid", "cross_entropy": "softmax"}.get(loss, "identity")
    report = nngrad.check(network(random_spec(seed=11, hidden=hidden, loss=loss, output=output,
                                              layout=layout)))
    assert report.agree and report.settings["mode"] == "full"
    assert all(t.status == "ok" and t.max_rel_err < 1e-7 for t in report.tensors.values())


@pytest.fixture
def broken_tanh(monkeypatch):
    """tanh's backward made wrong on purpose (tanh' = 1 - a instead of 1 - a^2)."""
    good = ACTIVATIONS["tanh"]
    monkeypatch.setitem(ACTIVATIONS, "tanh", good._replace(vjp=lambda g, z, a: g * (1 - a)))


@pytest.mark.parametrize("mode", ["full", "fast"])
def test_check_fails_when_the_backward_is_broken(broken_tanh, mode):
    report = nngrad.check(network(random_spec(seed=12, hidden="tanh", widths=(3, 4, 2))), mode=mode)
    assert not report.agree
    statuses = {name: t.status for name, t in report.tensors.items()}
    # the output layer is identity: its gradients stay right; layer 1's go wrong
    assert statuses["dW2"] == statuses["dB2"] == "ok"
    assert statuses["dW1"] == statuses["dB1"] == "wrong_values"
    assert report.tensors["dW1"].max_rel_err > 1e-2


def test_relu_kink_is_skipped_and_named():
    spec = {"X": [[1.0, 0.5]], "T": [[0.3]], "loss": "mse", "layers": [
        {"W": [[0.0, 1.0], [0.0, -0.4]], "activation": "relu"},  # Z1[0, 0] is exactly 0
        {"W": [[0.7], [0.2]], "activation": "identity"}]}
    report = nngrad.check(network(spec), mode="full")
    assert report.agree
    assert "dW1[0, 0]: crosses the relu kink of Z1[0, 0]; skipped" in report.skipped
    assert report.tensors["dW1"].skipped == 2 and report.tensors["dW1"].checked == 2


def test_kink_index_is_in_the_columns_layout():
    spec = {"layout": "columns", "X": [[1.0], [0.5]], "T": [[0.3]], "loss": "mse", "layers": [
        {"W": [[0.0, 0.0], [1.0, -0.4]], "activation": "relu"},  # Z1 is (2, 1); Z1[0, 0] = 0
        {"W": [[0.7, 0.2]], "activation": "identity"}]}
    report = nngrad.check(network(spec), mode="full")
    assert report.agree and any("kink of Z1[0, 0]" in line for line in report.skipped)


def test_mae_kink_where_y_equals_t():
    spec = {"X": [[1.0]], "T": [[0.5]], "loss": "mae",
            "layers": [{"W": [[0.5]], "activation": "identity"}]}
    report = nngrad.check(network(spec), mode="full")
    assert report.agree and report.tensors["dW1"].status == "skipped_kink"
    assert "mae kink of A1[0, 0]" in report.skipped[0]


def test_float32_is_checked_at_the_looser_tolerance_with_a_warning():
    report = nngrad.check(network(random_spec(seed=13, hidden="sigmoid"), dtype="float32"))
    assert report.agree
    assert (report.settings["rtol"], report.settings["atol"]) == TOLERANCES["float32"]
    assert "float32" in report.warnings[0]


def test_fast_mode_on_a_net_too_big_for_full_mode():
    net = network(random_spec(seed=14, widths=(60, 50, 4), hidden="tanh", m=8))
    assert sum(l.W.size + l.b.size for l in net.layers) > 2000
    report = nngrad.check(net)
    assert report.settings["mode"] == "fast" and report.agree
    assert all(t.checked == 8 for t in report.tensors.values())


def test_check_does_not_change_the_network():
    net = network(random_spec(seed=15))
    before = [l.W.copy() for l in net.layers]
    nngrad.check(net)
    for a, b in zip(before, net.layers):
        np.testing.assert_array_equal(a, b.W)


def test_core_defaults_are_the_configs():
    config = load_config()
    for dtype, (rtol, atol) in TOLERANCES.items():
        assert config["tolerances"][dtype] == {"rtol": rtol, "atol": atol}
    import inspect
    defaults = {k: v.default for k, v in inspect.signature(nngrad.check).parameters.items()}
    for key in ("mode", "eps", "directions", "full_max_params", "worst"):
        assert defaults[key] == config["check"][key]


@pytest.mark.parametrize("layout", ["rows", "columns"])
def test_fast_mode_names_the_broken_layers_of_a_deep_net(broken_tanh, layout):
    spec = random_spec(seed=15, widths=(3, 4, 4, 4, 2), hidden="tanh", layout=layout, bias="2d")
    report = nngrad.check(network(spec), mode="fast")
    statuses = {name: t.status for name, t in report.tensors.items()}
    assert statuses["dW4"] == statuses["dB4"] == "ok"
    assert {statuses[f"d{k}{l}"] for k in "WB" for l in (1, 2, 3)} == {"wrong_values"}


@pytest.mark.parametrize("layout", ["rows", "columns"])
def test_fast_directions_match_the_oracles_central_differences(layout):
    """Each fast-mode directional difference, which nngrad takes by perturbing Z_l, equals the
    oracle's (L(p + eps v) - L(p - eps v)) / 2eps with the parameter itself perturbed."""
    spec = random_spec(seed=16, widths=(3, 5, 4, 2), hidden="sigmoid", layout=layout)
    eps, directions = 1e-6, 3
    report = nngrad.check(network(spec), mode="fast", eps=eps, directions=directions, worst=100)
    numeric = {(name, index[0]): n for name, index, _, n, _ in report.worst}
    rng = np.random.default_rng(0)  # the seed nngrad.check draws its directions from
    for l, layer in enumerate(spec["layers"], start=1):
        for key, name in (("W", f"dW{l}"), ("b", f"dB{l}")):
            p = np.asarray(layer[key], dtype=float)
            for j in range(directions):
                v = rng.standard_normal(p.shape)
                v /= np.linalg.norm(v)
                losses = [oracle.loss(_with(spec, l, key, p + s * eps * v)) for s in (1, -1)]
                want = (losses[0] - losses[1]) / (2 * eps)
                assert numeric[(name, j)] == pytest.approx(want, rel=1e-6, abs=1e-9), (name, j)


def _with(spec, l, key, value):
    layers = [dict(layer) for layer in spec["layers"]]
    layers[l - 1][key] = value.tolist()
    return {**spec, "layers": layers}


def test_fast_mode_skips_a_kink_of_a_later_layer_and_names_it():
    spec = {"X": [[1.0, 0.5]], "T": [[0.3]], "loss": "mse", "layers": [
        {"W": [[1.0, 0.0], [0.0, 1.0]], "activation": "identity"},
        {"W": [[0.5, 1.0], [-1.0, -0.4]], "b": [0.0, 0.1], "activation": "relu"},  # Z2[0, 0] = 0
        {"W": [[0.7], [0.2]], "activation": "identity"}]}
    report = nngrad.check(network(spec), mode="fast")
    assert report.agree
    assert any(line.startswith("dW1 direction") and "relu kink of Z2[0, 0]" in line
               for line in report.skipped)


def test_fast_mode_on_overflowing_weights_reports_without_a_numpy_warning():
    spec = {"X": [[1.0, 2.0]], "T": [[0.5]], "loss": "mse", "layers": [
        {"W": [[1e200, 1.0], [1.0, 1.0]], "activation": "tanh"},
        {"W": [[1e200], [1.0]], "activation": "identity"}]}
    report = nngrad.check(network(spec), mode="fast")  # RuntimeWarning is an error in this suite
    assert not report.agree
