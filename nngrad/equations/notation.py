"""Equations written out: as Unicode text with shapes, as LaTeX, and as NumPy code.

Text notation: ``·`` matrix product, ``⊙`` elementwise product, ``⊘`` elementwise division,
``Aᵀ`` transpose, ``√`` square root, ``[Z > 0]`` 1 where true and 0 elsewhere, ``Σ_rows(M)`` the
sum over the rows of M, ``Σ_cols(M)`` over the columns, ``Σ(M)`` over every entry. A leaf or an
annotated group is followed by its shape, ``A3ᵀ (6×1)``; a shape that does not fit is ``?``.
"""

from __future__ import annotations

import re
from typing import Callable

from ..numerics.stages import STAGES
from .expr import (OPS, SUMS, Div, Expr, Flat, Fn, Mask, Neg, Num, Op, Pow,
                        Scale, Sum, Sym, Tr, shape_text)

POWERS = {2: "²", 3: "³"}


def text(e: Expr, leaf: Callable | None = None) -> str:
    """``e`` in Unicode notation; ``leaf(node, inner)`` renders each annotated node."""
    leaf = leaf or annotated
    return _text(e, leaf)


def annotated(node: Expr, inner: str) -> str:
    return f"{inner} ({shape_text(node.shape)})"


def _wrap(child: Expr, at: int, right: bool = False, op: str = "", code: bool = False) -> bool:
    """Whether ``child`` needs parentheses where precedence ``at`` binds: lower precedence, the
    right side of an equal one, or another operator of equal precedence (``(a · b) ⊙ c``).
    In code a boxed group has no parentheses of its own, so its operator's precedence counts."""
    c = OPS[child.op][3] if code and isinstance(child, Op) else child.prec
    if c < at or (right and c == at < 9):
        return True
    return bool(op) and isinstance(child, Op) and c == at and child.op != op


def _paren(child: Expr, at: int, s: str, right: bool = False, op: str = "") -> str:
    return f"({s})" if _wrap(child, at, right, op) else s


def _text(e: Expr, leaf) -> str:
    if isinstance(e, (Sym, Flat)):
        return leaf(e, e.x.name if isinstance(e, Flat) else e.name)
    if isinstance(e, Num):
        return e.text or f"{e.x:g}"
    if isinstance(e, Tr):
        return leaf(e, e.x.name + "ᵀ") if isinstance(e.x, Sym) else f"({_text(e.x, leaf)})ᵀ"
    if isinstance(e, Op):
        inner = _bare if e.boxed else leaf
        p = OPS[e.op][3]
        s = (f"{_paren(e.a, p, _text(e.a, inner), op=e.op)} {OPS[e.op][0]} "
             f"{_paren(e.b, p, _text(e.b, inner), right=True, op=e.op)}")
        return leaf(e, f"({s})") if e.boxed else s
    if isinstance(e, Scale):
        return f"{_text(e.c, leaf)} {_paren(e.x, 9, _text(e.x, leaf))}"
    if isinstance(e, Neg):
        return f"−{_paren(e.x, 9, _text(e.x, leaf))}"
    if isinstance(e, Div):
        return f"{_paren(e.x, 2, _text(e.x, leaf))} / {number_code(e.k)}"
    if isinstance(e, Pow):
        return f"{_paren(e.x, 9, _text(e.x, leaf))}{POWERS[e.n]}"
    if isinstance(e, Mask):
        return leaf(e, f"[{_text(e.x, _bare)} {'>' if e.positive else '≤'} 0]")
    if isinstance(e, Fn):
        s = f"{e.notation.text}({_text(e.x, _bare if e.boxed else leaf)})"
        return leaf(e, s) if e.boxed else s
    if isinstance(e, Sum):
        s = f"{SUMS[e.axis][0]}({_text(e.x, leaf)})"
        return leaf(e, s) if e.boxed else s
    raise TypeError(e)


def _bare(node, inner):
    return inner


def plain(e: Expr) -> str:
    """``e`` in Unicode notation without shapes."""
    return _text(e, _bare)


TIMES, LE = r" \times ", r"\le"
_LATEX_NAME = re.compile(r"^(d?)([A-Za-z])(\d*)$")


_LATEX_STAGE_NAME = re.compile(r"^(d?)([a-z]+)(\d*)$")
STAGE_NAMES = {k: n.latex for stage in STAGES.values() for k, n in stage.notation.items()}


def latex_name(name: str) -> str:
    r"""``dW4`` -> ``dW_{4}``, ``X`` -> ``X``, a stage's ``dxhat1`` -> ``d\hat{x}_{1}``."""
    m = _LATEX_NAME.match(name) or _LATEX_STAGE_NAME.match(name)
    if not m or len(m.group(2)) > 1 and m.group(2) not in STAGE_NAMES:
        return rf"\mathrm{{{name}}}"
    d, letter, n = m.groups()
    return f"{d}{STAGE_NAMES.get(letter, letter)}" + (f"_{{{n}}}" if n else "")


def latex(e: Expr, shapes: bool = True) -> str:
    """``e`` in LaTeX; each annotated node gets its shape underneath (``\\underset``)."""

    def box(node, inner):
        if not shapes or node.shape == ():
            return inner
        dims = shape_text(node.shape).replace("×", TIMES)
        return rf"\underset{{{dims}}}{{{inner}}}"

    def group(child: Expr, s: str, wrap: bool) -> str:
        return rf"\left({s}\right)" if wrap else s

    if isinstance(e, (Sym, Flat)):
        return box(e, latex_name(e.x.name if isinstance(e, Flat) else e.name))
    if isinstance(e, Num):
        t = (e.text or f"{e.x:g}").replace("−", "-")
        m = re.fullmatch(r"(-?[\d.]+)e([-+]?\d+)", t)  # 1e-05 -> 10^{-5}
        return t if not m else (f"{m[1]}" + r" \times " if m[1] != "1" else "") + f"10^{{{int(m[2])}}}"
    if isinstance(e, Tr):
        if isinstance(e.x, Sym):
            return box(e, latex_name(e.x.name) + r"^{\top}")
        return rf"\left({latex(e.x, shapes)}\right)^{{\top}}"
    inner = shapes and not e.boxed
    if isinstance(e, Op):
        p = OPS[e.op][3]
        a = group(e.a, latex(e.a, inner), _wrap(e.a, p, op=e.op))
        b = group(e.b, latex(e.b, inner), _wrap(e.b, p, right=True, op=e.op))
        s = f"{a} {OPS[e.op][1]} {b}"
        return box(e, rf"\left({s}\right)") if e.boxed else s
    if isinstance(e, Scale):
        return f"{latex(e.c)} " + group(e.x, latex(e.x, shapes), e.x.prec < 9)
    if isinstance(e, Neg):
        return "-" + group(e.x, latex(e.x, shapes), e.x.prec < 9)
    if isinstance(e, Div):
        return rf"\frac{{{latex(e.x, shapes)}}}{{{number_code(e.k)}}}"
    if isinstance(e, Pow):
        return group(e.x, latex(e.x, shapes), e.x.prec < 9) + f"^{{{e.n}}}"
    if isinstance(e, Mask):
        rel = ">" if e.positive else LE
        return box(e, rf"\mathbb{{1}}[{latex(e.x, False)} {rel} 0]")
    if isinstance(e, Fn):
        name = e.notation.latex
        if "{x}" in name:  # a template: \sqrt{x}
            s = name.format(x=latex(e.x, inner if e.boxed else shapes))
            return box(e, s) if e.boxed else s
        return box(e, rf"{name}\left({latex(e.x, inner)}\right)") if e.boxed \
            else rf"{name}\left({latex(e.x, shapes)}\right)"
    if isinstance(e, Sum):
        s = rf"{SUMS[e.axis][1]}\left({latex(e.x, shapes)}\right)"
        return box(e, s) if e.boxed else s
    raise TypeError(e)


def number_code(x: float) -> str:
    """A number as code that reads back to it: ``2``, ``0.123456789``."""
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else repr(float(x))


def code(e: Expr) -> str:
    """``e`` as NumPy code over arrays named as in the results (``dZ4 @ W4.T``)."""
    if isinstance(e, Sym):
        return e.name
    if isinstance(e, Flat):
        return f"{e.x.name}.ravel()"
    if isinstance(e, Num):
        return number_code(e.x)
    if isinstance(e, Tr):
        inner = code(e.x)
        return f"{inner}.T" if isinstance(e.x, Sym) else f"({inner}).T"
    if isinstance(e, Op):
        a, b = code(e.a), code(e.b)
        p = OPS[e.op][3]
        a = f"({a})" if _wrap(e.a, p, op=e.op, code=True) else a
        b = f"({b})" if _wrap(e.b, p, right=True, op=e.op, code=True) else b
        return f"{a} {OPS[e.op][2]} {b}"
    if isinstance(e, Scale):
        return f"{code(e.c)} * " + (f"({code(e.x)})" if _wrap(e.x, 9, code=True) else code(e.x))
    if isinstance(e, Neg):
        return "-" + (f"({code(e.x)})" if _wrap(e.x, 9, code=True) else code(e.x))
    if isinstance(e, Div):
        return (f"({code(e.x)})" if _wrap(e.x, 2, code=True) else code(e.x)) + f" / {number_code(e.k)}"
    if isinstance(e, Pow):
        return (f"({code(e.x)})" if _wrap(e.x, 9, code=True) else code(e.x)) + f"**{e.n}"
    if isinstance(e, Mask):
        return f"({code(e.x)} {'>' if e.positive else '<='} 0)"
    if isinstance(e, Fn):
        return e.code(code(e.x))
    if isinstance(e, Sum):
        x = f"({code(e.x)})" if _wrap(e.x, 9, code=True) else code(e.x)
        if e.axis == "all":
            return f"{x}.sum()"
        keep = ", keepdims=True" if e.keepdims else ""
        return f"{x}.sum(axis={SUMS[e.axis][2]}{keep})"
    raise TypeError(e)
