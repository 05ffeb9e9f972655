"""Every record of every table is complete, and each of its parts agrees with the oracle.

An activation or a loss is one record (``nngrad.numerics.records``). These tests walk the tables,
never a list kept by hand: a new record that leaves a part out, or whose part is wrong, or that
has no oracle line in ``tests/oracle.py``, fails here.
"""

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import grad

import oracle
from nngrad.equations import expr as E
from nngrad.numerics.activations import ACTIVATIONS
from nngrad.numerics.losses import FUSED, LOSSES
from nngrad.numerics.records import Activation, FusedLoss, Loss, Notation

rng = np.random.default_rng(31)
Z = rng.normal(0, 1.5, (4, 3))
G = rng.normal(size=(4, 3))
Y = rng.uniform(0.05, 0.95, (4, 3))


def _targets(name):
    """Targets each loss takes, from its own record's init_targets (labels made one-hot)."""
    T = LOSSES[name].init_targets(np.random.default_rng(7), 4, 3)
    return np.eye(3)[T.astype(int)] if T.ndim == 1 else T


TARGETS = {name: _targets(name) for name in LOSSES}


def oracle_term(name, y, t, ax=-1, **params):
    """The loss's terms by the oracle: every loss must have one."""
    if name == "svm":
        return oracle.svm_terms(y, t, ax, **params)
    return {**oracle.TERM, **oracle.HINGE_TERM}[name](y, t)


def test_a_record_cannot_leave_out_a_part():
    required = set(Activation._fields) - set(Activation._field_defaults)
    assert required == {"f", "vjp", "formula", "derivative", "rule", "why", "notation", "kink",
                        "mistakes"}
    required = set(Loss._fields) - set(Loss._field_defaults)
    assert required == {"term", "dterm", "reduction", "formula", "rule", "grad_rule", "why", "kink",
                        "mistakes"}
    with pytest.raises(TypeError):
        Activation(np.tanh, lambda g, z, a: g, "tanh(z)", "1 - a^2", None, "", None, None)  # no mistakes


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_record_is_complete(name):
    act = ACTIVATIONS[name]
    assert name in oracle.ACT, "the oracle line of this activation is missing in tests/oracle.py"
    assert act.formula and act.derivative and act.why
    assert isinstance(act.notation, Notation) and all(act.notation)
    assert (act.prime is None) == (act.f_prime is None)
    assert all(isinstance(label, str) and label and callable(f) for label, f in act.mistakes)
    assert act.kink is None or np.shape(act.kink(Z)) == Z.shape


@pytest.mark.parametrize("layout", ["rows", "columns"])
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_rule_is_the_oracles_derivative(name, layout):
    act, ax = ACTIVATIONS[name], -1 if layout == "rows" else 0
    z, g = (Z, G) if layout == "rows" else (Z.T, G.T)
    a = oracle.ACT[name](z, ax)
    env = {"dA": g, "Z": z, "A": a}
    rule = act.rule(E, *(E.Sym(k, env[k].shape) for k in ("dA", "Z", "A")), {**act.params, "layout": layout})
    expected = grad(lambda zz: anp.sum(oracle.ACT[name](zz, ax) * g))(z)
    np.testing.assert_allclose(rule.value(env), expected, rtol=1e-10, atol=1e-13)
    assert rule.shape == z.shape


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_code_notation_is_the_oracles_forward(name):
    act = ACTIVATIONS[name]
    gelu = lambda z: oracle.ACT["gelu"](z, -1)  # noqa: E731 - explain's code names it gelu()
    code = act.notation.code.format(x="Z", a=act.params.get("alpha"), axis=1)
    np.testing.assert_allclose(eval(code, {"np": np, "gelu": gelu}, {"Z": Z}),
                               oracle.ACT[name](Z, -1, **act.params), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_kink_is_where_the_derivative_jumps(name):
    act, h = ACTIVATIONS[name], 1e-7
    z = np.array([[-h, h]])
    d = grad(lambda zz: anp.sum(oracle.ACT[name](zz, -1, **act.params)))(z)
    if act.kink is None:
        assert abs(d[0, 1] - d[0, 0]) < 1e-5 or not act.elementwise
    else:
        assert act.kink(np.zeros((1, 1)))[0, 0] == 0 and act.kink(z)[0, 0] < 0 < act.kink(z)[0, 1]


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_mistakes_differ_from_the_right_derivative(name):
    act = ACTIVATIONS[name]
    a = act.f(Z, **act.params)
    right = act.vjp(G, Z, a, **act.params)
    for label, wrong in act.mistakes:
        assert not np.allclose(wrong(G, Z, a, **act.params), right), label


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_record_is_complete(name):
    loss = LOSSES[name]
    T = TARGETS[name]
    oracle_term(name, Y, T, **loss.params)  # the oracle line exists
    assert name in oracle.DEFAULT_REDUCTION and oracle.DEFAULT_REDUCTION[name] == loss.reduction
    assert loss.formula and loss.why and loss.init_targets_text
    assert (loss.targets is None) == (not loss.targets_text)
    assert loss.targets is None or loss.targets(T).all()
    assert (loss.kink is None) == (not loss.kink_at)
    assert all(isinstance(label, str) and label and callable(f) for label, f in loss.mistakes)
    made = loss.init_targets(np.random.default_rng(0), 4, 3)
    assert loss.targets is None or loss.targets(made if made.ndim == 2 else np.eye(3)[made.astype(int)]).all()


@pytest.mark.parametrize("layout", ["rows", "columns"])
@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_rules_are_the_oracles_term_and_derivative(name, layout):
    loss, ax = LOSSES[name], -1 if layout == "rows" else 0
    y, t = (Y, TARGETS[name]) if layout == "rows" else (Y.T, TARGETS[name].T)
    env = {"Y": y, "T": t}
    p = {**loss.params, "layout": layout}
    syms = [E.Sym(k, env[k].shape) for k in ("Y", "T")]
    term = oracle_term(name, y, t, ax, **loss.params)
    np.testing.assert_allclose(loss.rule(E, *syms, p).value(env), term, rtol=1e-12, atol=1e-15)
    expected = grad(lambda yy: anp.sum(oracle_term(name, yy, t, ax, **loss.params)))(y)
    np.testing.assert_allclose(loss.grad_rule(E, *syms, p).value(env), expected, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_kink_is_where_the_derivative_jumps(name):
    loss, T = LOSSES[name], TARGETS[name]
    if loss.kink is None:
        d = grad(lambda yy: anp.sum(oracle_term(name, yy, T, **loss.params)))
        assert np.allclose(d(Y + 1e-7), d(Y - 1e-7), atol=1e-4)
        return
    kink = lambda y: loss.kink(y, T, **loss.params)  # noqa: E731
    i, j = np.argwhere(T == 0)[0] if name == "svm" else (0, 0)
    unit = np.zeros_like(Y)
    unit[i, j] = 1.0
    on = Y - unit * kink(Y)[i, j] / (kink(Y + unit) - kink(Y))[i, j]  # each kink is affine in Y
    assert abs(kink(on)[i, j]) < 1e-12
    d = grad(lambda yy: anp.sum(oracle_term(name, yy, T, **loss.params)))
    assert not np.isclose(d(on + 1e-7 * unit)[i, j], d(on - 1e-7 * unit)[i, j])


@pytest.mark.parametrize("pair", sorted(FUSED))
def test_fused_rule_is_the_oracles_gradient_from_the_logits(pair):
    act, name = pair
    fused, T = FUSED[pair], TARGETS[name]
    env = {"A": oracle.ACT[act](Z, -1), "T": T}
    rule = fused.rule(E, E.Sym("A", Z.shape), E.Sym("T", T.shape), False, "rows")
    expected = grad(lambda z: anp.sum(oracle_term(name, oracle.ACT[act](z, -1), T)))(Z)
    np.testing.assert_allclose(rule.value(env), expected, rtol=1e-10, atol=1e-13)
    assert isinstance(fused, FusedLoss) and fused.formula and fused.why
