"""The derivative rules as expressions: each loss's term and dl/dY, each activation's VJP.

A table of named rules, each one line beside its twin, as in ``activations`` and ``losses``:
``TERMS[loss] = (l(Y, T), dl/dY, where dl/dY comes from)`` and ``VJPS[activation] = (dZ from
dA, Z, A, alpha, layout; why)``. A derivative may reuse the forward output A (σ′ = A ⊙ (1 − A)).
"""

from __future__ import annotations

from .expr import Div, Fn, Mask, Num, Op, Pow, Scale, Sum, Sym


TERMS = {  # loss: (l(Y, T), dl/dY, what dl/dY comes from)
    "mse": (lambda Y, T: Pow(Op("-", Y, T)), lambda Y, T: Scale(Num(2), Op("-", Y, T)),
            "2 from d/dY (Y − T)²"),
    "sse": (lambda Y, T: Pow(Op("-", Y, T)), lambda Y, T: Scale(Num(2), Op("-", Y, T)),
            "2 from d/dY (Y − T)²"),
    "half_sse": (lambda Y, T: Div(Pow(Op("-", Y, T)), 2), lambda Y, T: Op("-", Y, T),
                 "the 1/2 in (Y − T)²/2 cancels the 2 of its derivative"),
    "mae": (lambda Y, T: Fn("abs", Op("-", Y, T)), lambda Y, T: Fn("sign", Op("-", Y, T)),
            "d/dY |Y − T| = sign(Y − T), with sign(0) = 0"),
    "bce": (lambda Y, T: Scale(Num(-1, "−"), Op("+", Op("*", T, Fn("log", Y)),
                                             Op("*", Op("-", Num(1), T), Fn("log", Op("-", Num(1), Y))))),
            lambda Y, T: Op("-", Op("/", Op("-", Num(1), T), Op("-", Num(1), Y)), Op("/", T, Y)),
            "d/dY of −(T log Y + (1 − T) log(1 − Y))"),
    "cross_entropy": (lambda Y, T: Scale(Num(-1, "−"), Op("*", T, Fn("log", Y))),
                      lambda Y, T: Scale(Num(-1, "−"), Op("/", T, Y)),
                      "d/dY of −T log Y"),
}


def _features(layout: str) -> str:
    return "cols" if layout == "rows" else "rows"


VJPS = {  # activation: (dZ from dA, Z, A, alpha, layout; why)
    "identity":   (lambda g, z, a, al, lay: g, "identity′ = 1, so dZ = dA"),
    "relu":       (lambda g, z, a, al, lay: Op("*", g, Mask(z)),
                   "relu′(Z) = [Z > 0]: 1 where Z > 0, else 0 (relu′(0) = 0)"),
    "leaky_relu": (lambda g, z, a, al, lay: Op("*", g, Op("+", Mask(z), Scale(Num(al), Mask(z, False)),
                                                       boxed=True)),
                   "leaky_relu′(Z) = 1 where Z > 0, else α (α at 0)"),
    "elu":        (lambda g, z, a, al, lay: Op("*", g, Op("+", Mask(z), Op("*", Op("+", a, Num(al)),
                                                                           Mask(z, False)), boxed=True)),
                   "elu′(Z) = 1 where Z > 0, else α e^Z = A + α (α at 0)"),
    "sigmoid":    (lambda g, z, a, al, lay: Op("*", g, Op("*", a, Op("-", Num(1), a), boxed=True)),
                   "σ′(Z) = σ(Z)(1 − σ(Z)) = A ⊙ (1 − A), from the forward output"),
    "tanh":       (lambda g, z, a, al, lay: Op("*", g, Op("-", Num(1), Pow(a), boxed=True)),
                   "tanh′(Z) = 1 − tanh²(Z) = 1 − A², from the forward output"),
    "softplus":   (lambda g, z, a, al, lay: Op("*", g, Fn("sigmoid", z, boxed=True)),
                   "softplus′(Z) = σ(Z)"),
    "silu":       (lambda g, z, a, al, lay: Op("*", g, _silu_prime(z)),
                   "silu′(Z) = σ(Z) ⊙ (1 + Z ⊙ (1 − σ(Z)))"),
    "gelu":       (lambda g, z, a, al, lay: Op("*", g, Fn("gelu′", z, boxed=True)),
                   "gelu′(z) = (1 + t)/2 + z/2 (1 − t²) √(2/π) (1 + 0.134145 z²), "
                   "t = tanh(√(2/π) (z + 0.044715 z³))"),
    "softmax":    (lambda g, z, a, al, lay: Op("*", a, Op("-", g, Sum(Op("*", g, a), _features(lay)))),
                   "softmax mixes each example's features: dZ = A ⊙ (dA − the sum of dA ⊙ A over "
                   "the example's features)"),
}


def _silu_prime(z: Sym):
    s = Fn("sigmoid", z)
    return Op("*", s, Op("+", Num(1), Op("*", z, Op("-", Num(1), s))), boxed=True)
