"""Each loss, reduction and fused pair against autograd; fused pairs stay finite at saturation."""

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad

import nngrad
from nngrad.numerics.losses import LOSSES, reduction_factor
from oracle import ACT, HINGE_TERM, TERM, svm_terms
from conftest import network, random_spec

rng = np.random.default_rng(0)
Y = rng.uniform(0.05, 0.95, (4, 3))
T01 = rng.uniform(0, 1, (4, 3)).round(1)
ONE_HOT = np.eye(3)[[0, 2, 1, 2]]
SIGNS = np.where(T01 > 0.5, 1.0, -1.0)
ORACLE = {**TERM, **HINGE_TERM, "svm": lambda y, t: svm_terms(y, t, -1)}  # every loss, by name
TARGETS = {"svm": ONE_HOT, "hinge": SIGNS}  # the targets a loss takes, where T01 does not fit


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_term_and_derivative_match_autograd(name):
    loss, T = LOSSES[name], TARGETS.get(name, T01)
    np.testing.assert_allclose(loss.term(Y, T, **loss.params), ORACLE[name](Y, T), rtol=1e-12)
    np.testing.assert_allclose(loss.dterm(Y, T, **loss.params),
                               grad(lambda y: anp.sum(ORACLE[name](y, T)))(Y), rtol=1e-10)


@pytest.mark.parametrize("reduction, expected", [("mean", 1 / 12), ("sum", 1.0), ("batch_mean", 1 / 4)])
def test_reduction_factor_divides_by_what_the_contract_says(reduction, expected):
    assert reduction_factor(reduction, (4, 3)) == expected


@pytest.mark.parametrize("loss, reduction, divisor", [
    ("mse", "sum", 1), ("mse", "batch_mean", 5), ("sse", "mean", 10), ("bce", "sum", 1),
    ("cross_entropy", "mean", 10), ("mae", "batch_mean", 5)])
def test_reduction_override(loss, reduction, divisor):
    output = {"bce": "sigmoid", "cross_entropy": "softmax"}.get(loss, "identity")
    spec = random_spec(loss=loss, output=output, widths=(3, 2), m=5)
    summed = float(np.sum(TERM[loss](*_y_and_t(spec))))
    res = nngrad.run(network({**spec, "loss": {"name": loss, "reduction": reduction}}))
    assert res.loss == pytest.approx(summed / divisor, rel=1e-12)
    assert res.reduction == reduction


def _y_and_t(spec):
    from oracle import forward
    return forward(spec)["A1"], np.asarray(spec["T"], dtype=float)


def test_fused_bce_is_finite_where_the_sigmoid_saturates():
    spec = {"X": [[1.0]], "T": [[0.0, 1.0]], "loss": "bce",
            "layers": [{"W": [[1000.0, -1000.0]], "activation": "sigmoid"}]}
    res = nngrad.run(network(spec))
    # l = log(1 + e^z) - t z: 1000 for z = 1000, t = 0, and 1000 for z = -1000, t = 1
    assert res.loss == pytest.approx(1000.0)
    np.testing.assert_allclose(res["dZ1"], [[0.5, -0.5]])


def test_fused_cross_entropy_is_finite_at_large_logits():
    spec = {"X": [[1.0]], "T": [2], "loss": "cross_entropy",
            "layers": [{"W": [[1000.0, 0.0, -1000.0]], "activation": "softmax"}]}
    res = nngrad.run(network(spec))
    assert res.loss == pytest.approx(2000.0)
    np.testing.assert_allclose(res["dZ1"], [[1.0, 0.0, -1.0]], atol=1e-300)


def test_fused_and_unfused_bce_agree_in_the_normal_range():
    spec = random_spec(loss="bce", output="sigmoid", widths=(3, 2), m=4)
    z = np.asarray(_z_out(spec))
    expected = np.mean(TERM["bce"](ACT["sigmoid"](z, -1), np.asarray(spec["T"])))
    assert nngrad.run(network(spec)).loss == pytest.approx(expected, rel=1e-12)


def _z_out(spec):
    from oracle import forward
    return forward(spec)["Z1"]


def test_cross_entropy_labels_equal_one_hot():
    spec = random_spec(loss="cross_entropy", output="softmax", labels=True, widths=(3, 4), m=6)
    onehot = np.eye(4)[spec["T"]].tolist()
    a, b = nngrad.run(network(spec)), nngrad.run(network({**spec, "T": onehot}))
    assert a.loss == b.loss
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])
