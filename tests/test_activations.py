"""Each activation against an independent oracle (autograd), plus the stated conventions."""

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import elementwise_grad, grad

from nngrad import ACTIVATIONS
from oracle import ACT

NAMES = sorted(ACTIVATIONS)


def _z(seed=0, shape=(4, 5), dtype=np.float64):
    return np.random.default_rng(seed).normal(0, 2, shape).astype(dtype)


@pytest.mark.parametrize("name", NAMES)
def test_forward_matches_oracle(name):
    z = _z()
    np.testing.assert_allclose(ACTIVATIONS[name].f(z, **ACTIVATIONS[name].params),
                               ACT[name](z, -1), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", NAMES)
def test_vjp_matches_autograd(name):
    act, z = ACTIVATIONS[name], _z(1)
    g = np.random.default_rng(2).normal(size=z.shape)
    expected = grad(lambda zz: anp.sum(ACT[name](zz, -1) * g))(z)
    a = act.f(z, **act.params)
    np.testing.assert_allclose(act.vjp(g, z, a, **act.params), expected, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("name, alpha", [("leaky_relu", 0.2), ("elu", 0.7)])
def test_parameter_alpha_is_used(name, alpha):
    z = _z(3)
    g = np.ones_like(z)
    expected = elementwise_grad(lambda zz: ACT[name](zz, -1, alpha=alpha))(z)
    act = ACTIVATIONS[name]
    np.testing.assert_allclose(act.vjp(g, z, act.f(z, alpha=alpha), alpha=alpha), expected,
                               rtol=1e-12)


@pytest.mark.parametrize("name, expected", [("relu", 0.0), ("leaky_relu", 0.01), ("elu", 1.0)])
def test_derivative_at_the_kink_is_pytorchs(name, expected):
    act, z = ACTIVATIONS[name], np.zeros((1, 1))
    assert act.vjp(np.ones_like(z), z, act.f(z, **act.params), **act.params)[0, 0] == expected


def test_relu_gradient_has_no_negative_zero():
    act, z = ACTIVATIONS["relu"], np.array([[-1.0, 2.0]])
    dz = act.vjp(np.array([[-3.0, -3.0]]), z, act.f(z))
    assert not np.signbit(dz[0, 0])


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "softplus", "silu", "gelu", "elu", "softmax"])
def test_saturated_inputs_stay_finite_without_warnings(name):
    act = ACTIVATIONS[name]
    z = np.array([[-1000.0, 1000.0, 0.0]])
    a = act.f(z, **act.params)  # RuntimeWarning is an error in this suite
    dz = act.vjp(np.ones_like(z), z, a, **act.params)
    assert np.isfinite(a).all() and np.isfinite(dz).all()


def test_sigmoid_limits_are_exact():
    a = ACTIVATIONS["sigmoid"].f(np.array([-1000.0, 1000.0]))
    assert a[0] == 0.0 and a[1] == 1.0


def test_softmax_is_shift_invariant_at_large_logits():
    z = np.array([[1000.0, 1001.0, 999.0]])
    np.testing.assert_allclose(ACTIVATIONS["softmax"].f(z), ACT["softmax"](z - 1000, -1), rtol=1e-14)


@pytest.mark.parametrize("name", NAMES)
def test_float32_stays_float32(name):
    act, z = ACTIVATIONS[name], _z(dtype=np.float32)
    a = act.f(z, **act.params)
    assert a.dtype == np.float32
    assert act.vjp(np.ones_like(z), z, a, **act.params).dtype == np.float32
