"""Weight penalties added to the loss: L2 in three forms, and L1.

    P = c * l2 * sum_l sum(W_l^2) + l1 * sum_l sum(|W_l|),   dP/dW_l = 2 c l2 W_l + l1 sign(W_l)

with c from the form: ``half`` 1/2 (cs231n's FullyConnectedNet, PyTorch's weight decay),
``full`` 1 (cs231n's TwoLayerNet), ``half_over_m`` 1/(2m) (deeplearning.ai's, m examples).
With ``biases=True`` every b carries the same penalty. sign(0) = 0, so an L1 weight of exactly 0
gets no gradient from the penalty.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FORMS = {  # form: (c for m examples; c λ and 2 c λ as explain writes them; the penalty in words)
    "half":        (lambda m: 0.5, lambda lam, m: f"{lam:g}/2", lambda lam, m: f"{lam:g}",
                    "λ/2 Σ W²"),
    "full":        (lambda m: 1.0, lambda lam, m: f"{lam:g}", lambda lam, m: f"{2 * lam:g}",
                    "λ Σ W²"),
    "half_over_m": (lambda m: 0.5 / m, lambda lam, m: f"{lam:g}/{2 * m}", lambda lam, m: f"{lam:g}/{m}",
                    "λ/(2m) Σ W²"),
}
KEYS = ("l2", "form", "l1", "biases")


@dataclass(frozen=True)
class Regularization:
    """A validated penalty: ``l2`` and ``l1`` (>= 0, finite), the L2 ``form``, and ``biases``."""

    l2: float = 0.0
    form: str = "half"
    l1: float = 0.0
    biases: bool = False

    def c(self, m: int) -> float:
        """The factor of l2 * sum W^2 in the penalty, for m examples."""
        return FORMS[self.form][0](m)

    def penalized(self, kind: str) -> bool:
        """Whether a parameter of ``kind`` (``W`` or ``b``) carries the penalty."""
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

    def grad(self, p: np.ndarray, m: int) -> np.ndarray:
        """dP/dp for one penalized array, in its dtype."""
        g = (2 * self.c(m) * self.l2) * p
        if self.l1:
            g += self.l1 * np.sign(p)
        return g.astype(p.dtype, copy=False)
