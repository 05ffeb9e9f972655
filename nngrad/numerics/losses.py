"""Losses as a table of named (l, dl) pairs, plus fused output/loss pairs.

Every loss has one signature: an elementwise term ``l(y, t)`` and its derivative ``dl(y, t)``,
both (m, n) -> (m, n) in the rows layout. The loss is ``factor * sum(l(Y, T))``, where the
reduction gives the factor: ``mean`` 1 / Y.size, ``sum`` 1, ``batch_mean`` 1 / m.

A fused entry replaces the pair when the output activation and the loss meet: it takes the
output layer's pre-activation ``Z`` and returns the term and ``dZ`` directly, with stable
formulas (log-sum-exp, softplus), so that a saturated output never yields log(0) or 0/0.
Terms with ``t == 0`` contribute 0 even where ``y == 0`` (0 log 0 = 0).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from .activations import log_softmax


@dataclass(frozen=True)
class Loss:
    """One loss: elementwise ``term(y, t)``, its derivative ``dterm(y, t)``, the default reduction."""

    term: Callable
    dterm: Callable
    reduction: str
    formula: str = ""


@dataclass(frozen=True)
class FusedLoss:
    """An output activation fused with its loss: ``term(z, t)`` and ``dz(z, a, t)`` from logits."""

    term: Callable
    dz: Callable
    formula: str = ""


def xlogy(x, y):
    """x * log(y), and 0 wherever x == 0 (even where y == 0)."""
    return np.where(x == 0, 0, x * np.log(np.where(x == 0, 1, y)))


def xdivy(x, y):
    """x / y, and 0 wherever x == 0 (even where y == 0)."""
    return np.where(x == 0, 0, x / np.where(x == 0, 1, y))


LOSSES: dict[str, Loss] = {
    "mse":           Loss(lambda y, t: (y - t) ** 2,
                          lambda y, t: 2 * (y - t), "mean", "(y - t)^2"),
    "sse":           Loss(lambda y, t: (y - t) ** 2,
                          lambda y, t: 2 * (y - t), "sum", "(y - t)^2"),
    "half_sse":      Loss(lambda y, t: (y - t) ** 2 / 2,
                          lambda y, t: y - t, "sum", "(y - t)^2 / 2"),
    "mae":           Loss(lambda y, t: np.abs(y - t),
                          lambda y, t: np.sign(y - t), "mean", "|y - t|"),
    "bce":           Loss(lambda y, t: -(xlogy(t, y) + xlogy(1 - t, 1 - y)),
                          lambda y, t: xdivy(1 - t, 1 - y) - xdivy(t, y), "mean",
                          "-(t log y + (1 - t) log(1 - y))"),
    "cross_entropy": Loss(lambda y, t: -xlogy(t, y),
                          lambda y, t: -xdivy(t, y), "batch_mean", "-t log y"),
}

FUSED: dict[tuple[str, str], FusedLoss] = {
    # sigmoid + bce: l = log(1 + e^z) - t z;  dl/dz = sigmoid(z) - t
    ("sigmoid", "bce"):
        FusedLoss(lambda z, t: np.logaddexp(0, z) - t * z,
                  lambda z, a, t: a - t,
                  "log(1 + exp(z)) - t z, dZ = A - T"),
    # softmax + cross_entropy: l = -t log_softmax(z);  dl/dz = a sum(t) - t  (= a - t, one-hot t)
    ("softmax", "cross_entropy"):
        FusedLoss(lambda z, t: -t * log_softmax(z),
                  lambda z, a, t: a * t.sum(axis=-1, keepdims=True) - t,
                  "-t log_softmax(z), dZ = A - T"),
}

REDUCTIONS = ("mean", "sum", "batch_mean")


def reduction_factor(reduction: str, shape: tuple[int, int]) -> float:
    """The factor that multiplies the summed terms: 1/Y.size, 1, or 1/m; shape is Y's (m, n)."""
    m, n = shape
    return {"mean": 1.0 / (m * n), "sum": 1.0, "batch_mean": 1.0 / m}[reduction]
