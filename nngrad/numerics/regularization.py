"""Weight penalties added to the loss: L2 in three forms, and L1.

    P = c * l2 * sum_l sum(W_l^2) + l1 * sum_l sum(|W_l|),   dP/dW_l = 2 c l2 W_l + l1 sign(W_l)

with c from the form: ``half`` 1/2 (cs231n's FullyConnectedNet, PyTorch's weight decay),
``full`` 1 (cs231n's TwoLayerNet), ``half_over_m`` 1/(2m) (deeplearning.ai's, m examples).
With ``biases=True`` every b (and a norm's gamma and beta) carries the same penalty. sign(0) = 0, so an L1 weight of exactly 0
gets no gradient from the penalty.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

class Form(NamedTuple):
    """One L2 form: ``c(m)``, the factor of l2 Σ W² for m examples; ``penalty(λ, m)`` and
    ``grad(λ, m)``, c λ and 2 c λ as explain writes them; ``words`` and ``grad_words``, the
    penalty and its gradient in symbols."""

    c: Callable
    penalty: Callable
    grad: Callable
    words: str
    grad_words: str


FORMS = {
    "half":        Form(lambda m: 0.5, lambda lam, m: f"{lam:g}/2", lambda lam, m: f"{lam:g}",
                        "λ/2 Σ W²", "λ W"),
    "full":        Form(lambda m: 1.0, lambda lam, m: f"{lam:g}", lambda lam, m: f"{2 * lam:g}",
                        "λ Σ W²", "2λ W"),
    "half_over_m": Form(lambda m: 0.5 / m, lambda lam, m: f"{lam:g}/{2 * m}",
                        lambda lam, m: f"{lam:g}/{m}", "λ/(2m) Σ W²", "λ/m W"),
}
KEYS = ("l2", "form", "l1", "biases")


class Regularization(NamedTuple):
    """A validated penalty: ``l2`` and ``l1`` (>= 0, finite), the L2 ``form``, and ``biases``
    (a named tuple: cheap to define when the command line starts)."""

    l2: float = 0.0
    form: str = "half"
    l1: float = 0.0
    biases: bool = False

    def c(self, m: int) -> float:
        """The factor of l2 * sum W^2 in the penalty, for m examples."""
        return FORMS[self.form].c(m)

    def penalized(self, kind: str) -> bool:
        """Whether a parameter of ``kind`` (``W``, ``b``, ``gamma`` or ``beta``) carries the penalty."""
        return kind == "W" or self.biases

    def penalty(self, params, m: int) -> float:
        """P over ``params``, the arrays that carry it."""
        total = 0.0
        for p in params:
            if self.l2:
                total += self.c(m) * self.l2 * float(np.vdot(p, p))
            if self.l1:
                total += self.l1 * float(np.abs(p).sum())
        return total

    def grad(self, p: np.ndarray, m: int, parts: str = "l2 l1") -> np.ndarray:
        """dP/dp for one penalized array, in its dtype; ``parts`` "l2" or "l1" gives one term."""
        g = (2 * self.c(m) * self.l2 if "l2" in parts else 0.0) * p
        if self.l1 and "l1" in parts:
            g += self.l1 * np.sign(p)
        return g.astype(p.dtype, copy=False)


def penalized(net) -> list:
    """(name of the gradient, parameter) for every W (and b, gamma and beta) that the
    regularization penalizes."""
    reg = net.regularization
    if reg is None:
        return []
    return [(name, p) for name, _, kind, p in net.parameters() if reg.penalized(kind)]


def penalty(net) -> float:
    """The regularization's penalty of ``net`` (0.0 without one)."""
    if net.regularization is None:
        return 0.0
    with np.errstate(all="ignore"):
        return net.regularization.penalty([p for _, p in penalized(net)], net.batch)


def penalty_grads(net, parts: str = "l2 l1") -> dict:
    """dP/dW (and dP/db) by gradient name, each in its parameter's shape; ``parts`` as for
    ``Regularization.grad``."""
    reg = net.regularization
    with np.errstate(all="ignore"):
        return {name: reg.grad(p, net.batch, parts) for name, p in penalized(net)}
