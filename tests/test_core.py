"""Every tensor of nngrad.run against autograd and central differences, on small random nets."""

import copy

import numpy as np
import pytest

import nngrad
import oracle
from nngrad.numerics.losses import LOSSES
from conftest import network, random_spec
from nngrad.numerics.activations import ACTIVATIONS

LAYOUTS = ["rows", "columns"]
OUTPUT_FOR = {"bce": "sigmoid", "cross_entropy": "softmax"}


def assert_matches_oracle(spec, rtol=1e-9, atol=1e-11):
    res = nngrad.run(network(spec))
    expected = {**oracle.forward(spec), **oracle.gradients(spec)}
    assert set(res) == set(expected)
    for name, value in expected.items():
        assert res[name].shape == np.shape(value), name
        np.testing.assert_allclose(res[name], value, rtol=rtol, atol=atol, err_msg=name)
    assert res.loss == pytest.approx(float(oracle.loss(spec)), rel=1e-12)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("hidden", sorted(ACTIVATIONS))
def test_every_hidden_activation(hidden, layout):
    assert_matches_oracle(random_spec(seed=1, widths=(3, 4, 3, 2), hidden=hidden, layout=layout))


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_every_loss(loss, layout):
    spec = random_spec(seed=2, loss=loss, output=OUTPUT_FOR.get(loss, "tanh"), layout=layout)
    assert_matches_oracle(spec)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_cross_entropy_with_integer_labels(layout):
    assert_matches_oracle(random_spec(seed=3, loss="cross_entropy", output="softmax",
                                      labels=True, layout=layout, widths=(3, 4, 4)))


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("bias", ["vector", "2d", "omitted"])
def test_bias_shapes_are_kept(bias, layout):
    spec = random_spec(seed=4, bias=bias, layout=layout, hidden="relu")
    assert_matches_oracle(spec)
    res = nngrad.run(network(spec))
    for l, layer in enumerate(spec["layers"], start=1):
        n_out = np.shape(layer["W"])[1 if layout == "rows" else 0]
        assert res[f"dB{l}"].shape == (np.shape(layer["b"]) if "b" in layer else (n_out,))
        assert res[f"dW{l}"].shape == np.shape(layer["W"])


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("hidden, loss", [("sigmoid", "mse"), ("gelu", "bce"),
                                          ("leaky_relu", "cross_entropy"), ("softplus", "mae")])
def test_central_differences(hidden, loss, layout):
    spec = random_spec(seed=5, widths=(2, 3, 2), hidden=hidden, loss=loss, layout=layout,
                       output=OUTPUT_FOR.get(loss, "identity"))
    res = nngrad.run(network(spec))
    for name, value in oracle.central_differences(spec).items():
        np.testing.assert_allclose(res[name], value, rtol=1e-6, atol=1e-8, err_msg=name)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_float32_is_kept_and_close_to_float64(layout):
    spec = random_spec(seed=6, layout=layout, hidden="sigmoid")
    r32, r64 = nngrad.run(network(spec, "float32")), nngrad.run(network(spec))
    for name in r64:
        assert r32[name].dtype == np.float32, name
        np.testing.assert_allclose(r32[name], r64[name], rtol=1e-4, atol=1e-5, err_msg=name)
    assert r32.dtype == "float32"


def test_run_does_not_change_the_network():
    net = network(random_spec(seed=7, hidden="relu"))
    before = copy.deepcopy(net)
    nngrad.run(net)
    for a, b in zip([net.X, net.T, *[x for l in net.layers for x in (l.W, l.b)]],
                    [before.X, before.T, *[x for l in before.layers for x in (l.W, l.b)]]):
        np.testing.assert_array_equal(a, b)


def test_result_order_and_names():
    res = nngrad.run(network(random_spec(widths=(3, 4, 2))))
    assert list(res) == ["Z1", "A1", "Z2", "A2", "dA1", "dZ1", "dW1", "dB1",
                         "dA2", "dZ2", "dW2", "dB2"]


def test_no_python_loop_over_examples():
    # one example or a thousand: the same number of calls into the activation table
    calls = []
    sig = ACTIVATIONS["sigmoid"]
    counting = sig._replace(f=lambda z: calls.append(z.shape) or sig.f(z))
    ACTIVATIONS["sigmoid"] = counting
    try:
        for m in (1, 1000):
            nngrad.run(network(random_spec(hidden="sigmoid", m=m)))
    finally:
        ACTIVATIONS["sigmoid"] = sig
    assert calls == [(1, 4), (1000, 4)]


def test_first_nonfinite_names_where_the_overflow_began():
    spec = {"X": [[1.0, 1.0]], "T": [[0.0]], "loss": "mse", "layers": [
        {"W": [[1e200, 1.0], [1e200, 1.0]], "activation": "identity"},
        {"W": [[1e200], [1.0]], "activation": "identity"}]}
    name, index, value = nngrad.run(network(spec)).first_nonfinite()
    assert (name, index, value) == ("Z2", (0, 0), np.inf)


def test_first_nonfinite_is_none_for_a_finite_run():
    assert nngrad.run(network(random_spec())).first_nonfinite() is None
