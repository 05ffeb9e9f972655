"""nngrad health: each sickness planted in a small net fires its verdict; a healthy net fires none."""

import json
import math
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

import nngrad
import nngrad.cli.health  # noqa: F401  registers the command on the group
from nngrad import Layer, Network
from nngrad.cli.app import cli
from nngrad.settings import ConfigError, load_config
from nngrad.specs.generate import random_spec
from nngrad.verify.health import health
from conftest import SAMPLES


def net(Ws, bs, acts, X, T, loss="mse"):
    return Network(np.asarray(X), np.asarray(T),
                   tuple(Layer(np.asarray(W), b, a) for W, b, a in zip(Ws, bs, acts)), loss)


def kinds(n, lr=1e-3, **thresholds):
    return [v.kind for v in health(n, nngrad.run(n), lr, thresholds).verdicts]


def healthy_net():
    return Network(**random_spec((4, 16, 16, 3), loss="cross_entropy", seed=0))


def invoke(*args):
    return CliRunner(env={"COLUMNS": None}).invoke(cli, ["health", *map(str, args)],
                                                   standalone_mode=False)


def test_rows_match_numpy_norms_dead_units_and_update_ratio():
    rng = np.random.default_rng(3)
    X, T = rng.normal(size=(6, 3)), rng.normal(size=(6, 2))
    W1, b1, W2 = rng.normal(size=(3, 4)), np.array([0.0, -9.0, 0.0, 0.0]), rng.normal(size=(4, 2))
    Z1 = X @ W1 + b1
    A1 = np.maximum(Z1, 0)
    dY = 2 * (A1 @ W2 - T) / T.size
    dZ1 = dY @ W2.T * (Z1 > 0)
    h = health(net([W1, W2], [b1, None], ["relu", "identity"], X, T), nngrad.run(
        net([W1, W2], [b1, None], ["relu", "identity"], X, T)), 0.01)
    first, second = h.layers
    assert first.params[0].norm == pytest.approx(np.linalg.norm(W1))
    assert first.params[0].grad_norm == pytest.approx(np.linalg.norm(X.T @ dZ1))
    assert first.dz_norm == pytest.approx(np.linalg.norm(dZ1))
    assert second.params[0].grad_norm == pytest.approx(np.linalg.norm(A1.T @ dY))
    assert first.params[0].log_ratio == pytest.approx(
        math.log10(0.01 * np.linalg.norm(X.T @ dZ1) / np.linalg.norm(W1)))
    assert first.dead == int(np.all(Z1 <= 0, axis=0).sum()) == 1
    assert second.dead is None and first.saturated is None


def test_a_healthy_he_initialised_net_fires_no_verdict():
    assert kinds(healthy_net()) == []


def test_a_healthy_relu_net_at_its_lr_fires_no_verdict():
    assert kinds(Network(**random_spec((4, 6, 6, 6, 1), seed=0)), lr=1e-3) == []


def test_vanishing_gradients_in_a_deep_sigmoid_net_with_small_weights():
    rng = np.random.default_rng(0)
    Ws = [rng.normal(0, 0.1, (4, 4)) for _ in range(6)]
    assert "vanishing" in kinds(net(Ws, [None] * 6, ["sigmoid"] * 5 + ["identity"],
                                    rng.normal(size=(4, 4)), rng.normal(size=(4, 4))))


def test_exploding_gradients_with_large_weights():
    # sigmoid units kept at their centre (A ≈ 0.5) while each Wᵀ multiplies dZ by 40 / 4
    rng = np.random.default_rng(0)
    Ws = [np.array([[1.0, 1.0], [1.0, -1.0]]) * 40 / np.sqrt(2) for _ in range(5)]
    n = net(Ws, [-0.5 * W.sum(0) for W in Ws], ["sigmoid"] * 4 + ["identity"],
            0.5 + rng.normal(0, 1e-5, (4, 2)), rng.normal(size=(4, 2)))
    assert kinds(n) == ["exploding"]


def test_large_negative_biases_kill_relu_units():
    rng = np.random.default_rng(1)
    W1 = rng.normal(0, math.sqrt(2 / 3), (3, 4))
    n = net([W1, rng.normal(0, 0.7, (4, 1))], [np.full(4, -10.0), None], ["relu", "identity"],
            rng.normal(size=(8, 3)), rng.normal(size=(8, 1)))
    h = health(n, nngrad.run(n), 1e-3)
    assert h.layers[0].dead == 4 and "dead_units" in [v.kind for v in h.verdicts]


def test_one_example_is_too_few_to_call_units_dead():
    n = net([[[1.0, -1.0]], [[1.0], [1.0]]], [None, None], ["relu", "identity"], [[1.0]], [[0.5]])
    assert "dead_units" not in kinds(n)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_huge_weights_saturate_tanh_and_sigmoid(activation):
    rng = np.random.default_rng(2)
    n = net([rng.normal(0, 30, (3, 5)), rng.normal(0, 0.5, (5, 1))], [None, None],
            [activation, "identity"], rng.normal(size=(6, 3)), rng.normal(size=(6, 1)))
    h = health(n, nngrad.run(n), 1e-3)
    assert h.layers[0].saturated == 5 and "saturation" in [v.kind for v in h.verdicts]


@pytest.mark.parametrize("lr", [10.0, 1e-9])
def test_an_lr_far_off_fires_the_update_ratio(lr):
    assert kinds(healthy_net(), lr=lr) == ["update_ratio"]


def test_confident_wrong_logits_fire_the_initial_loss_check():
    X = np.eye(3)
    T = np.roll(np.eye(3), 1, axis=1)  # every example's class is not the one the net favours
    n = net([np.eye(3) * 20], [None], ["softmax"], X, T, loss="cross_entropy")
    h = health(n, nngrad.run(n), 1e-3)
    assert h.chance == pytest.approx(math.log(3))
    assert "initial_loss" in [v.kind for v in h.verdicts]


def test_bce_at_chance_is_ln_2():
    n = net([np.zeros((2, 1))], [None], ["sigmoid"], [[1.0, 2.0], [3.0, 4.0]], [[1.0], [0.0]],
            loss="bce")
    h = health(n, nngrad.run(n), 1e-3)
    assert h.chance == pytest.approx(math.log(2)) == pytest.approx(h.loss)


def test_gamma_and_beta_have_rows():
    h = invoke(SAMPLES / "05_cs231n_batchnorm.yaml", "--format", "json")
    params = [p["name"] for layer in json.loads(h.output)["layers"] for p in layer["params"]]
    assert params == ["W1", "gamma1", "beta1", "W2", "gamma2", "beta2", "W3"]


def test_json_has_the_envelope_and_exits_0_when_healthy():
    result = invoke("sample:mazur", "--lr", "0.05", "--format", "json")
    doc = json.loads(result.output)
    assert result.return_value == 0 and doc["command"] == "health" and doc["healthy"] is True
    assert list(doc)[:7] == ["nngrad", "schema", "command", "spec", "layout", "dtype", "loss"]
    assert doc["verdicts"] == [] and doc["lr"] == 0.05


def test_a_verdict_exits_1_and_is_printed_with_cause_and_fix():
    result = invoke("sample:mazur", "--lr", "1e-9")
    lines = result.output.splitlines()
    assert result.return_value == 1
    assert any(line.startswith("update_ratio: ") for line in lines)
    assert any(line.startswith("  fix: try --lr ") for line in lines)
    assert all(line == line.rstrip() for line in lines)


def test_bad_input_exits_2_with_one_line(tmp_path):
    proc = subprocess.run([sys.executable, "-c", "import sys, nngrad.cli.health; "
                           "from nngrad.cli.exits import main; main(sys.argv[1:])",
                           "health", str(tmp_path / "missing.yaml")],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stdout == ""
    assert len(proc.stderr.splitlines()) == 1 and proc.stderr.startswith("nngrad: error: ")


def test_config_thresholds_are_validated_and_used(tmp_path):
    (tmp_path / "bad.yaml").write_text("health: {dead_fraction: 2}\n")
    with pytest.raises(ConfigError, match="from 0 to 1"):
        load_config(tmp_path / "bad.yaml")
    (tmp_path / "loose.yaml").write_text("health: {update_band: 20}\n")
    result = invoke("sample:mazur", "--lr", "1e-9", "--config", tmp_path / "loose.yaml")
    assert result.return_value == 0


def test_exploding_dz_hidden_from_dw_by_a_forward_blow_up_fires():
    # N(0, 1) weights into relu: A grows forward and dZ backward, so ‖dW1‖ ≈ ‖dWL‖
    spec = random_spec((20, 64, 64, 64, 64, 64, 10), loss="cross_entropy", init="normal",
                       batch=64, seed=0)
    n = Network(**spec)
    res = nngrad.run(n)
    ratio = (np.linalg.norm(res["dZ1"]) / 8) / (np.linalg.norm(res["dZ6"]) / np.sqrt(10))
    assert ratio > 100  # the sickness, measured with numpy
    assert "exploding" in kinds(n)


def test_norms_of_huge_finite_weights_are_finite_and_quiet(recwarn):
    n = healthy_net()
    big = n.with_parameters({(1, "W"): n.layers[0].W * 1e200})
    rows = health(big, nngrad.run(big), 1e-3, {}).layers
    assert rows[0].params[0].norm == pytest.approx(np.linalg.norm(n.layers[0].W) * 1e200, rel=1e-12)
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning) and "health" in w.filename]
