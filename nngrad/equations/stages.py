"""The equations of a layer's stages, written by their records' rules (``numerics.stages``).

A layer with stages is Z = affine, S = norm(Z), H = f(S), A = dropout(H); its backward runs
dA -> dH -> dS -> (the norm's graph) -> dZ. This module gives each rule its symbols with their
shapes, in the spec's layout:

    rows:     Z (m, n); batchnorm's mu, var, sigma (1, n), layernorm's (m, 1); gamma, beta (1, n)
    columns:  Z (n, m); batchnorm's (n, 1), layernorm's (1, m); gamma, beta (n, 1)

and its parameters: ``over`` (the sums' axis, ``rows`` or ``cols``), ``batch`` (the batch's),
``N`` (the entries summed: m for batchnorm, n for layernorm), the state's eps, keep, seed.
"""

from __future__ import annotations

from ..numerics.stages import STAGES
from . import expr as E
from .expr import Equation, Flat, Sum, Sym, shape_text
from .penalty import bias_shape, penalized


def _axes(sk) -> tuple:
    return ("rows", "cols") if sk.layout == "rows" else ("cols", "rows")  # (batch, features)


def _norm_symbols(sk, l: int, st, Z: Sym, n: int) -> tuple[dict, dict]:
    batch, features = _axes(sk)
    over = batch if st.key == "batchnorm" else features
    stat = Sum(Z, over).shape
    added = bias_shape(sk, n)
    s = {"Z": Z, **{k: Sym(f"{k}{l}", stat) for k in ("mu", "var", "sigma", "dvar", "dmu")},
         **{k: Sym(f"{k}{l}", Z.shape) for k in ("xhat", "S", "dS", "dxhat", "dZ")},
         **{k: Sym(f"{k}{l}", added if getattr(st, k) in ((n,), added) else getattr(st, k))
            for k in STAGES[st.key].params}}
    N = sk.m if over == batch else n
    return s, {"layout": sk.layout, "over": over, "batch": batch, "N": N, "m": sk.m, "l": l,
               "eps": st.eps, "keepdims": {k: len(getattr(st, k)) == 2 for k in STAGES[st.key].params}}


def _dropout_symbols(sk, l: int, st, shape: tuple) -> tuple[dict, dict]:
    s = {"H": Sym(f"H{l}", shape), "dA": Sym(f"dA{l}", shape), "mask": Sym(f"mask{l}", st.mask or shape)}
    return s, {"layout": sk.layout, "m": sk.m, "l": l, "keep": st.keep, "seed": st.seed,
               "inverted": st.inverted, "shape": tuple(shape)}


def _needed(sk, l: int, s: dict, shape: tuple, names: tuple, n: int) -> str:
    """What a stage's given array needed, when its shape does not fit."""
    for k in names:
        given = s[k].shape
        if k == "mask" and given != shape:
            return (f"mask{l} must be ({shape_text(shape)}), the shape of A{l} in the {sk.layout} "
                    f"layout, not ({shape_text(given)})")
        if k != "mask" and given != bias_shape(sk, n):
            return (f"{k}{l} must be ({n},) or ({shape_text(bias_shape(sk, n))}), one per unit, "
                    f"not ({shape_text(given)})")
    return ""


def forward(sk, l: int, st, x: Sym, n: int, eqs: list) -> Sym | None:
    """Append the forward equations of stage ``st`` of layer l on ``x`` (Z for a norm, H for
    dropout); its output (S or A), or None when its shapes do not fit (the last equation)."""
    norm = st.key != "dropout"
    s, p = _norm_symbols(sk, l, st, x, n) if norm else _dropout_symbols(sk, l, st, x.shape)
    needed = _needed(sk, l, s, x.shape, STAGES[st.key].arrays, n)
    for name, rhs, why in STAGES[st.key].rule(E, s, p):
        last = name == ("S" if norm else "A")
        eq = Equation(Sym(f"{name}{l}", rhs.shape), rhs, l, "forward", why, needed if last else "")
        eqs.append(eq)
        if not eq.fits:
            return None
    return eq.lhs


def backward(sk, l: int, st, g: Sym, n: int, eqs: list) -> Sym:
    """Append the backward equations of stage ``st`` of layer l from ``g`` (dA for dropout, dS
    for a norm); its input's gradient (dH or dZ). A norm's dgamma and dbeta carry the penalty's
    gradient with ``biases: true``."""
    norm = st.key != "dropout"
    if norm:
        Z = Sym(f"Z{l}", g.shape)
        s, p = _norm_symbols(sk, l, st, Z, n)
    else:
        s, p = _dropout_symbols(sk, l, st, g.shape)
    for name, rhs, why in STAGES[st.key].grad_rule(E, s, p):
        lhs = Sym(f"{name}{l}", rhs.shape)
        if name in ("dgamma", "dbeta"):
            param = s[name[1:]]
            rhs, extra = penalized(sk, rhs, param if p["keepdims"][name[1:]] else Flat(param), bias=True)
            lhs, why = Sym(lhs.name, getattr(st, name[1:])), why + extra
        eqs.append(Equation(lhs, rhs, l, "backward", why))
    return Sym(f"{'dZ' if norm else 'dH'}{l}", g.shape)
