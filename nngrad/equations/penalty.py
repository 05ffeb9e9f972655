"""The regularization's part of the equations: its penalty in the loss and its gradient in
every penalized parameter's (dW; with ``biases: true`` also dB, dgamma and dbeta).

    L = loss + c λ2 Σ(W²) + λ1 Σ|W|,   dW = ... + 2 c λ2 W + λ1 sign(W)

``c`` is the form's factor (half: 1/2, full: 1, half_over_m: 1/(2m)).
"""

from __future__ import annotations

from ..numerics.regularization import FORMS
from ..numerics.stages import STAGES
from .expr import Flat, Fn, Num, Op, Pow, Scale, Sum, Sym


def bias_shape(sk, n: int) -> tuple:
    """How a per-unit vector is added: a row (1, n) or a column (n, 1)."""
    return (1, n) if sk.layout == "rows" else (n, 1)


def _parameters(sk):
    """(symbol, is a bias) of every parameter the regularization penalizes."""
    for l, layer in enumerate(sk.layers, start=1):
        yield Sym(f"W{l}", tuple(layer.W)), False
        if sk.regularization.biases:
            added = bias_shape(sk, layer.W[1] if sk.layout == "rows" else layer.W[0])
            yield Sym(f"b{l}", added), True
            if layer.norm is not None:
                yield from ((Sym(f"{k}{l}", added), True) for k in STAGES[layer.norm.key].params)


def penalty(sk):
    """The penalty's expression and its note, or (None, '') without one."""
    reg = sk.regularization
    if reg is None or not (reg.l2 or reg.l1):
        return None, ""
    terms, said = [], []
    params = [s for s, _ in _parameters(sk)]
    if reg.l2:
        form = FORMS[reg.form]
        squares = joined([Sum(Pow(s)) for s in params])
        terms.append(Scale(Num(reg.c(sk.m) * reg.l2, form.penalty(reg.l2, sk.m)), squares))
        said.append(f"the {reg.form} L2 penalty {form.words} (λ = {reg.l2:g})")
    if reg.l1:
        terms.append(Scale(Num(reg.l1), joined([Sum(Fn("abs", s)) for s in params])))
        said.append(f"the L1 penalty {reg.l1:g} Σ|W|")
    what = ("W, b, gamma and beta" if any(l.norm for l in sk.layers) else "W and b") \
        if reg.biases else "W (not b)"
    return joined(terms), " and ".join(said) + f", over every {what}"


def joined(terms: list):
    """``t1 + t2 + ...``."""
    out = terms[0]
    for term in terms[1:]:
        out = Op("+", out, term)
    return out


def penalized(sk, grad, param, bias: bool = False):
    """``grad`` plus the penalty's gradient of ``param`` (when it carries one), and a note;
    ``bias``: b, gamma or beta, penalized only with ``biases: true``."""
    reg = sk.regularization
    if reg is None or (bias and not reg.biases) or not (reg.l2 or reg.l1):
        return grad, ""
    extra = []
    if reg.l2:
        form = FORMS[reg.form]
        grad = Op("+", grad, Scale(Num(2 * reg.c(sk.m) * reg.l2, form.grad(reg.l2, sk.m)), param))
        extra.append(f"the L2 penalty adds 2·({form.penalty(reg.l2, sk.m)}) {_name(param)}")
    if reg.l1:
        grad = Op("+", grad, Scale(Num(reg.l1), Fn("sign", param)))
        extra.append(f"the L1 penalty adds {reg.l1:g} sign({_name(param)}), sign(0) = 0")
    return grad, "; " + " and ".join(extra)


def _name(e) -> str:
    return e.x.name if isinstance(e, Flat) else e.name
