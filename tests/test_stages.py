"""Layers with stages (batchnorm, layernorm, dropout): every value and gradient ``nngrad.run``
gives, against the independent autograd oracle (tests/oracle_stages.py), to 1e-9 relative in
float64. Each dimension of the issue's matrix is varied one at a time from a base spec, in both
layouts, and a few cases combine them."""

import dataclasses
import subprocess
import sys

import numpy as np
import pytest
import yaml

import nngrad
import oracle_stages as ref
from conftest import network, random_spec

LAYOUTS = ["rows", "columns"]
RTOL, ATOL = 1e-9, 1e-12  # ATOL: for entries that are 0 analytically (dB before a batchnorm)
OUTPUT = {"bce": "sigmoid", "cross_entropy": "softmax"}  # what the loss needs; identity otherwise
BASE = {"bias": "vector", "norm": "batchnorm", "params": "vector", "hidden": "tanh",
        "dropout": "mask", "inverted": True, "reg": None, "loss": "mse"}


def _param(rng, n, mean, shape, layout):
    v = rng.normal(mean, 0.3, n)
    if shape == "2d":
        v = v.reshape((1, n) if layout == "rows" else (n, 1))
    return v.tolist()


def staged_spec(layout="rows", seed=50, m=6, widths=(3, 5, 4, 3), **options):
    """A random spec whose two hidden layers carry the stages ``options`` name (BASE's default):
    norm batchnorm | layernorm | mixed (batchnorm, then layernorm) | none; params (gamma and
    beta) vector | 2d | none | gamma | beta; dropout mask | seed | none; loss any (``_labels``:
    T as class labels)."""
    o = {**BASE, **options}
    loss, labels = o["loss"].removesuffix("_labels"), o["loss"].endswith("_labels")
    spec = random_spec(seed, widths, o["hidden"], OUTPUT.get(loss, "identity"), loss, layout,
                       o["bias"], m, labels)
    if loss in ("svm", "hinge"):  # margins spread wide, so that some are inactive
        spec["layers"][-1]["W"] = (4 * np.asarray(spec["layers"][-1]["W"])).tolist()
    rng = np.random.default_rng(seed + 1)
    norms = {"mixed": ["batchnorm", "layernorm"], "none": [None, None]}.get(o["norm"], [o["norm"]] * 2)
    for l, (layer, norm, n) in enumerate(zip(spec["layers"], norms, widths[1:])):
        if norm:
            layer[norm] = {"eps": 1e-3} if l else {}  # layer 1: eps by default
            for key, mean in (("gamma", 1.0), ("beta", 0.0)):
                if o["params"] in ("vector", "2d", key):
                    layer[norm][key] = _param(rng, n, mean, o["params"], layout)
        shape = (m, n) if layout == "rows" else (n, m)
        drop = {"keep": 0.6 if l else 0.75}
        if o["dropout"] == "mask":
            drop["mask"] = (rng.random(shape) < drop["keep"]).astype(int).tolist()
        elif o["dropout"] == "seed":
            drop["seed"] = 7 + l
        if o["dropout"] != "none":
            layer["dropout"] = {**drop, **({} if o["inverted"] else {"inverted": False})}
    return {**spec, **({"regularization": o["reg"]} if o["reg"] else {})}


def reference(spec, input_grad=False):
    return {**ref.forward(spec), **ref.gradients(spec, input_grad=input_grad)}


def assert_matches_oracle(spec, input_grad=False):
    res = nngrad.run(network(spec), input_grad=input_grad)
    expected = reference(spec, input_grad)
    assert set(res) == set(expected)  # every name the oracle gives, and no other
    for name, value in expected.items():
        assert res[name].shape == np.shape(value), name
        np.testing.assert_allclose(res[name], value, rtol=RTOL, atol=ATOL, err_msg=name)
    assert res.loss_data == pytest.approx(float(ref.trace(spec)["loss"]), rel=RTOL)
    assert res.penalty == pytest.approx(float(ref.penalty(spec)), rel=RTOL, abs=0)
    assert res.loss == pytest.approx(float(ref.loss(spec)), rel=RTOL)
    return res


# --- the oracle on its own -------------------------------------------------------------------

@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("norm", ["batchnorm", "layernorm"])
def test_oracle_normalises_along_its_axis(norm, layout):
    spec = staged_spec(layout, norm=norm, params="none", dropout="none")
    fwd = ref.forward(spec)
    features = 1 if layout == "rows" else 0
    axis = 1 - features if norm == "batchnorm" else features
    S = fwd["S1"]  # gamma 1, beta 0: each mean 0 and each variance var / (var + eps)
    np.testing.assert_allclose(S.mean(axis=axis), 0, atol=1e-12)
    np.testing.assert_allclose(S.var(axis=axis), fwd["var1"] / (fwd["var1"] + 1e-5), rtol=1e-12)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_oracle_seed_draws_as_cs231n(layout):
    spec = staged_spec(layout, dropout="seed", m=4)
    shape = (4, 5) if layout == "rows" else (5, 4)
    np.testing.assert_array_equal(ref.mask_of(spec, 1), np.random.RandomState(7).rand(*shape) < 0.75)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("options", [{}, {"norm": "mixed", "params": "2d", "dropout": "seed",
                                          "reg": {"l2": 0.1, "l1": 0.02, "biases": True}}])
def test_oracle_autograd_matches_its_central_differences(options, layout):
    spec = staged_spec(layout, **options)
    auto, numeric = ref.gradients(spec), ref.central_differences(spec)
    assert set(numeric) <= set(auto)
    for name, value in numeric.items():
        np.testing.assert_allclose(auto[name], value, rtol=1e-6, atol=1e-8, err_msg=name)


# --- nngrad against the oracle: one dimension at a time --------------------------------------

ELEMENTWISE = [name for name in nngrad.ACTIVATIONS if name != "softmax"]
REGS = {"off": None, "l2": {"l2": 0.1}, "l2_biases": {"l2": 0.1, "biases": True},
        "l1": {"l1": 0.05}, "l1_biases": {"l1": 0.05, "biases": True},
        "l2_l1_half_over_m_biases": {"l2": 0.3, "form": "half_over_m", "l1": 0.02, "biases": True},
        "l2_full": {"l2": 0.1, "form": "full"}}
AXES = ([("hidden", h) for h in [*ELEMENTWISE, "softmax"]]
        + [("norm", n) for n in ["batchnorm", "layernorm", "mixed", "none"]]
        + [("params", p) for p in ["vector", "2d", "none", "gamma", "beta"]]
        + [("bias", b) for b in ["vector", "2d", "none"]]
        + [("dropout", d) for d in ["mask", "seed", "none"]]
        + [("inverted", False)]
        + [("reg", r) for r in REGS]
        + [("loss", loss) for loss in [*nngrad.LOSSES, "cross_entropy_labels", "svm_labels"]])


def test_the_axes_cover_every_activation_and_loss():
    assert {v for k, v in AXES if k == "hidden"} == set(nngrad.ACTIVATIONS)
    assert {v for k, v in AXES if k == "loss"} >= set(nngrad.LOSSES)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("axis, value", AXES, ids=[f"{k}={v}" for k, v in AXES])
def test_run_matches_oracle(axis, value, layout):
    assert_matches_oracle(staged_spec(layout, **{axis: REGS[value] if axis == "reg" else value}))


COMBINED = [
    {"bias": "2d", "params": "2d", "norm": "layernorm", "dropout": "seed", "inverted": False,
     "reg": REGS["l1_biases"], "loss": "svm_labels", "hidden": "relu"},
    {"bias": "none", "params": "gamma", "norm": "mixed", "dropout": "mask", "hidden": "elu",
     "reg": REGS["l2_l1_half_over_m_biases"], "loss": "cross_entropy"},
    {"params": "beta", "dropout": "seed", "hidden": "softmax", "loss": "bce", "reg": REGS["l2"]},
]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("options", COMBINED, ids=range(len(COMBINED)))
def test_combined_cases_match_oracle(options, layout):
    assert_matches_oracle(staged_spec(layout, **options))


@pytest.mark.parametrize("layout", LAYOUTS)
def test_input_gradient_matches_oracle(layout):
    res = assert_matches_oracle(staged_spec(layout, norm="mixed", reg=REGS["l2_biases"]),
                                input_grad=True)
    assert "dA0" in res


@pytest.mark.parametrize("layout", LAYOUTS)
def test_keep_grads_gives_the_same_parameter_gradients(layout):
    spec = staged_spec(layout, norm="mixed", reg=REGS["l2_biases"])
    res = nngrad.run(network(spec), keep="grads")
    expected = ref.gradients(spec)
    names = {n for n in expected if n.rstrip("0123456789") in ("dW", "dB", "dgamma", "dbeta")}
    assert set(res) == names
    for name in names:
        np.testing.assert_allclose(res[name], expected[name], rtol=RTOL, atol=ATOL, err_msg=name)


# --- edge cases ------------------------------------------------------------------------------

@pytest.mark.parametrize("layout", LAYOUTS)
def test_one_example_batch_with_batchnorm_gives_beta(layout):
    spec = staged_spec(layout, m=1, dropout="none")
    res = assert_matches_oracle(spec)
    beta = np.asarray(spec["layers"][0]["batchnorm"]["beta"]).reshape(-1)
    np.testing.assert_array_equal(res["var1"], 0.0)
    np.testing.assert_allclose(res["S1"].reshape(-1), beta, rtol=0, atol=1e-15)
    np.testing.assert_array_equal(res["dZ1"], 0.0)
    assert res.first_nonfinite() is None


def test_one_example_batch_warns_on_the_command_line(tmp_path):
    path = tmp_path / "one.yaml"
    path.write_text(yaml.safe_dump(staged_spec(m=1, dropout="none")))
    proc = subprocess.run([sys.executable, "-m", "nngrad", "run", str(path)], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "variance is 0" in proc.stdout + proc.stderr
    assert "S1 = beta1" in proc.stdout + proc.stderr


@pytest.mark.parametrize("layout", LAYOUTS)
def test_keep_one_keeps_every_unit(layout):
    spec = staged_spec(layout, dropout="seed")
    for layer in spec["layers"][:-1]:
        layer["dropout"]["keep"] = 1
    res = assert_matches_oracle(spec)
    np.testing.assert_array_equal(res["mask1"], 1.0)
    np.testing.assert_array_equal(res["A1"], res["H1"])


@pytest.mark.parametrize("layout", LAYOUTS)
def test_replace_keeps_the_stages(layout):
    spec = staged_spec(layout, norm="mixed", dropout="seed")
    net = network(spec)
    again = dataclasses.replace(net, loss=net.loss)  # validated again
    for old, new in zip(net.layers[:-1], again.layers[:-1]):
        assert [k for k, _ in new.stages] == [k for k, _ in old.stages] != []
        for (_, a), (_, b) in zip(old.stages, new.stages):
            for x, y in zip(a, b):
                np.testing.assert_array_equal(x, y)
    expected = reference(spec)
    res = nngrad.run(again)
    for name in ("mask1", "S2", "dgamma1", "dbeta2", "A2"):
        np.testing.assert_allclose(res[name], expected[name], rtol=RTOL, atol=ATOL, err_msg=name)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_float32_runs(layout):
    spec = staged_spec(layout, norm="mixed", dropout="seed")
    res = nngrad.run(network(spec, "float32"), input_grad=True)
    expected = reference(spec, input_grad=True)
    for name, value in expected.items():
        assert res[name].dtype == np.float32, name
        np.testing.assert_allclose(res[name], value, rtol=2e-4, atol=2e-5, err_msg=name)


def test_result_names_are_in_the_documented_order():
    # result.py: a staged layer's values between Zl and Al, its stage gradients between dAl and
    # dZl, dgammal and dbetal after dBl; dA0 before dA1
    names = list(nngrad.run(network(staged_spec("columns", norm="mixed")), input_grad=True))
    values = [[f"{n}{l}" for n in ("Z", "mu", "var", "xhat", "S", "H", "mask", "A")] for l in (1, 2)]
    grads = [[f"{n}{l}" for n in ("dA", "dH", "dS", "dxhat", "dZ", "dW", "dB", "dgamma", "dbeta")]
             for l in (1, 2)]
    assert names == [*values[0], *values[1], "Z3", "A3", "dA0", *grads[0], *grads[1],
                     "dA3", "dZ3", "dW3", "dB3"]
