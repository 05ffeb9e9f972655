"""Losses: one ``Loss`` record each in ``LOSSES``, and the fused output/loss pairs in ``FUSED``.

Every loss has one signature: a term ``l(y, t, **params)`` and its derivative ``dl(y, t, **params)``,
both (m, n) -> (m, n) in the rows layout; all are elementwise but svm, whose term reads each
example's row. The loss is ``factor * sum(l(Y, T))``, where the reduction gives the factor:
``mean`` 1 / Y.size, ``sum`` 1, ``batch_mean`` 1 / m. T is as Y (class labels made one-hot).

A fused entry replaces the pair when the output activation and the loss meet: it takes the
output layer's pre-activation ``Z`` and returns the term and ``dZ`` directly, with stable
formulas (log-sum-exp, softplus), so that a saturated output never yields log(0) or 0/0.
Terms with ``t == 0`` contribute 0 even where ``y == 0`` (0 log 0 = 0).
"""

from __future__ import annotations

import numpy as np

from .activations import log_softmax
from .records import FusedLoss, Loss


def xlogy(x, y):
    """x * log(y), and 0 wherever x == 0 (even where y == 0)."""
    return np.where(x == 0, 0, x * np.log(np.where(x == 0, 1, y)))


def xdivy(x, y):
    """x / y, and 0 wherever x == 0 (even where y == 0)."""
    return np.where(x == 0, 0, x / np.where(x == 0, 1, y))


def _svm_margins(y, t, margin):
    """y_j - y_label + margin for every j, and -1 (no kink, no term) at the label (t one-hot)."""
    return np.where(t == 1, -1.0, y - (y * t).sum(axis=-1, keepdims=True) + margin)


def _svm_dterm(y, t, margin):
    on = (_svm_margins(y, t, margin) > 0).astype(y.dtype)  # a margin of exactly 0 is off
    return on - t * on.sum(axis=-1, keepdims=True)


def _svm_rule(E, Y, T, p):
    """M = Y − Σ_features(Y ⊙ T) + margin: each class's margin over the label's score."""
    label = E.Sum(E.Op("*", Y, T), _features(p["layout"]))
    return E.Op("+", E.Op("-", Y, label), E.Num(p["margin"]))


def _svm_on(E, Y, T, p):
    return E.Op("*", E.Op("-", E.Num(1), T), E.Mask(_svm_rule(E, Y, T, p)), boxed=True)


def _diff(E, Y, T):
    return E.Op("-", Y, T)


def _signs(t):
    return (t == 1) | (t == -1)


def _one_hot(t):
    """Valid entries of one-hot rows: 0 or 1, no second 1 in a row, and a row of zeros is
    marked at its first entry."""
    ones = (t == 1).sum(axis=-1, keepdims=True)
    bad = ~((t == 0) | (t == 1)) | ((t == 1) & (ones > 1))
    bad[:, :1] |= ones == 0
    return ~bad


def _unit(t):
    return (t >= 0) & (t <= 1)


LOSSES: dict[str, Loss] = {
    "mse": Loss(
        lambda y, t: (y - t) ** 2, lambda y, t: 2 * (y - t), "mean", "(y - t)^2",
        lambda E, Y, T, p: E.Pow(_diff(E, Y, T)), lambda E, Y, T, p: E.Scale(E.Num(2), _diff(E, Y, T)),
        "2 from d/dY (Y − T)²", None, (),
        aliases=("MSELoss", "mean_squared_error")),  # a lost 2 is diagnosed as a scale
    "sse": Loss(
        lambda y, t: (y - t) ** 2, lambda y, t: 2 * (y - t), "sum", "(y - t)^2",
        lambda E, Y, T, p: E.Pow(_diff(E, Y, T)), lambda E, Y, T, p: E.Scale(E.Num(2), _diff(E, Y, T)),
        "2 from d/dY (Y − T)²", None, (),
        aliases=("sum_squared_error",)),  # a lost 2 is diagnosed as a scale
    "half_sse": Loss(
        lambda y, t: (y - t) ** 2 / 2, lambda y, t: y - t, "sum", "(y - t)^2 / 2",
        lambda E, Y, T, p: E.Div(E.Pow(_diff(E, Y, T)), 2), lambda E, Y, T, p: _diff(E, Y, T),
        "the 1/2 in (Y − T)²/2 cancels the 2 of its derivative", None, (),
        aliases=("quadratic", "QuadraticCost")),  # Nielsen's network.py and network2.py
    "mae": Loss(
        lambda y, t: np.abs(y - t), lambda y, t: np.sign(y - t), "mean", "|y - t|",
        lambda E, Y, T, p: E.Fn("abs", _diff(E, Y, T)), lambda E, Y, T, p: E.Fn("sign", _diff(E, Y, T)),
        "d/dY |Y − T| = sign(Y − T), with sign(0) = 0", lambda y, t: y - t,
        (("Y − T, the squared error's derivative", lambda y, t: y - t),), "where Y = T",
        aliases=("L1Loss", "mean_absolute_error")),
    "bce": Loss(
        lambda y, t: -(xlogy(t, y) + xlogy(1 - t, 1 - y)),
        lambda y, t: xdivy(1 - t, 1 - y) - xdivy(t, y), "mean", "-(t log y + (1 - t) log(1 - y))",
        lambda E, Y, T, p: E.Scale(E.Num(-1, "−"), E.Op("+", E.Op("*", T, E.Fn("log", Y)), E.Op(
            "*", E.Op("-", E.Num(1), T), E.Fn("log", E.Op("-", E.Num(1), Y))))),
        lambda E, Y, T, p: E.Op("-", E.Op("/", E.Op("-", E.Num(1), T), E.Op("-", E.Num(1), Y)),
                                E.Op("/", T, Y)),
        "d/dY of −(T log Y + (1 − T) log(1 − Y))", None,
        (("−T / Y, without the (1 − T) / (1 − Y) term", lambda y, t: -xdivy(t, y)),),
        targets=_unit, targets_text="targets in [0, 1]", init_output="sigmoid",
        init_outputs=("sigmoid", "softmax"), init_targets_text="0 or 1",
        init_targets=lambda rng, m, n: rng.integers(0, 2, (m, n)).astype(float),
        # Nielsen's network2.py CrossEntropyCost is this one: sum(-y log a - (1 - y) log(1 - a))
        aliases=("BCELoss", "binary_crossentropy", "CrossEntropyCost")),
    "cross_entropy": Loss(
        lambda y, t: -xlogy(t, y), lambda y, t: -xdivy(t, y), "batch_mean", "-t log y",
        lambda E, Y, T, p: E.Scale(E.Num(-1, "−"), E.Op("*", T, E.Fn("log", Y))),
        lambda E, Y, T, p: E.Scale(E.Num(-1, "−"), E.Op("/", T, Y)), "d/dY of −T log Y", None, (),
        labels=True, output=("softmax",), init_output="softmax", init_targets_text="one-hot rows",
        init_targets=lambda rng, m, n: np.eye(n)[rng.integers(0, n, m)],
        aliases=("CrossEntropyLoss", "categorical_crossentropy", "sparse_categorical_crossentropy",
                 "softmax_loss")),
    "svm": Loss(
        lambda y, t, margin: np.maximum(_svm_margins(y, t, margin), 0), _svm_dterm, "batch_mean",
        "sum over j != label of max(0, y_j - y_label + margin)",
        lambda E, Y, T, p: E.Op("*", E.Op("-", E.Num(1), T), E.Fn("relu", _svm_rule(E, Y, T, p))),
        lambda E, Y, T, p: E.Op("-", _svm_on(E, Y, T, p), E.Op("*", T, E.Sum(_svm_on(E, Y, T, p),
                                                                           _features(p["layout"])))),
        "each class j whose margin M = Y_j − Y_label + Δ is above 0 adds 1 to dY_j and takes 1 from "
        "dY_label (a margin of exactly 0 adds nothing)", _svm_margins,
        (("the mask without the label's column, −T ⊙ Σ[M > 0]", lambda y, t, margin:
          (_svm_margins(y, t, margin) > 0).astype(y.dtype)),),
        "at a margin of 0", targets=_one_hot,
        targets_text="one-hot targets: one 1 per example, the rest 0 (or m class labels)",
        labels=True, params={"margin": 1.0}, init_targets_text="class labels",
        init_targets=lambda rng, m, n: rng.integers(0, n, m).astype(float),
        aliases=("MultiMarginLoss", "multiclass_hinge", "svm_loss")),
    "hinge": Loss(
        lambda y, t: np.maximum(1 - t * y, 0), lambda y, t: -t * (1 - t * y > 0), "mean",
        "max(0, 1 - t y), t in {-1, +1}",
        lambda E, Y, T, p: E.Fn("relu", E.Op("-", E.Num(1), E.Op("*", T, Y))),
        lambda E, Y, T, p: E.Scale(E.Num(-1, "−"), E.Op("*", T, E.Mask(E.Op("-", E.Num(1), E.Op("*", T, Y))))),
        "d/dY max(0, 1 − T Y) = −T where 1 − T Y > 0, else 0 (0 at the kink)",
        lambda y, t: 1 - t * y, (("−T everywhere, without the mask", lambda y, t: -t + 0 * y),),
        "where T Y = 1", targets=_signs, targets_text="targets -1 or +1", init_targets_text="-1 or +1",
        init_targets=lambda rng, m, n: rng.choice([-1.0, 1.0], (m, n)), aliases=("hinge_loss",)),
    "dot": Loss(
        lambda y, t: t * y, lambda y, t: t + 0 * y, "sum", "t y",
        lambda E, Y, T, p: E.Op("*", T, Y), lambda E, Y, T, p: T,
        "d/dY (T ⊙ Y) = T: the upstream gradient injected as it is", None, ()),
}

FUSED: dict[tuple[str, str], FusedLoss] = {
    # sigmoid + bce: l = log(1 + e^z) - t z;  dl/dz = sigmoid(z) - t
    ("sigmoid", "bce"): FusedLoss(
        lambda z, t: np.logaddexp(0, z) - t * z, lambda z, a, t: a - t,
        "log(1 + exp(z)) - t z, dZ = A - T",
        lambda E, A, T, soft, layout: E.Op("-", A, T), "dA ⊙ A(1 − A)"),
    # softmax + cross_entropy: l = -t log_softmax(z);  dl/dz = a sum(t) - t  (= a - t, one-hot t)
    ("softmax", "cross_entropy"): FusedLoss(
        lambda z, t: -t * log_softmax(z), lambda z, a, t: a * t.sum(axis=-1, keepdims=True) - t,
        "-t log_softmax(z), dZ = A - T",
        lambda E, A, T, soft, layout: E.Op("-", E.Op("*", A, E.Sum(T, _features(layout))), T)
        if soft else E.Op("-", A, T), "softmax's Jacobian applied to dA"),
}


def _features(layout: str) -> str:
    return "cols" if layout == "rows" else "rows"


REDUCTIONS = ("mean", "sum", "batch_mean")


def reduction_factor(reduction: str, shape: tuple[int, int]) -> float:
    """The factor that multiplies the summed terms: 1/Y.size, 1, or 1/m; shape is Y's (m, n)."""
    if reduction == "sum":
        return 1.0
    return 1.0 / (shape[0] * shape[1]) if reduction == "mean" else 1.0 / shape[0]  # batch_mean
