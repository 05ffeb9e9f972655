"""Equations as small expression trees: each node knows its shape and evaluates with NumPy.

``notation`` writes the same trees as text, LaTeX and NumPy code, so that what ``nngrad explain``
prints is what it computes. ``Op`` is a binary operation (``@`` matrix product, ``*`` ``/`` ``+``
``-`` elementwise); ``Mask`` is ``[Z > 0]``; ``Sum`` sums over rows, columns or every entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..numerics.activations import ACTIVATIONS
from ..numerics.records import Notation


def shape_text(shape) -> str:
    """``(6, 1)`` -> ``6×1``; ``(6,)`` -> ``6``; None -> ``?``."""
    return "?" if shape is None else "×".join(map(str, shape)) or "scalar"


@dataclass(frozen=True)
class Expr:
    """A node. ``shape`` is None when its operands do not fit; ``boxed`` annotates a group."""

    def value(self, env: dict) -> np.ndarray:
        raise NotImplementedError

    boxed = False
    prec = 9


@dataclass(frozen=True)
class Sym(Expr):
    """A named array: ``X``, ``W2``, ``dZ3``; its shape as used in the equations."""

    name: str
    shape: tuple | None

    def value(self, env):
        return env[self.name]


@dataclass(frozen=True)
class Flat(Expr):
    """A bias added as a row (1, n) or a column (n, 1), read in the shape it is given, (n,)."""

    x: Sym

    @property
    def shape(self):
        return None if self.x.shape is None else (int(np.prod(self.x.shape)),)

    def value(self, env):
        return np.ravel(self.x.value(env))


@dataclass(frozen=True)
class Num(Expr):
    """A scalar constant, written as ``text`` (``2``, ``1``, ``0.01``)."""

    x: float
    text: str = ""
    shape = ()

    def value(self, env):
        return self.x


@dataclass(frozen=True)
class Tr(Expr):
    """The transpose of ``x``."""

    x: Expr

    @property
    def shape(self):
        return None if self.x.shape is None else self.x.shape[::-1]

    def value(self, env):
        return np.asarray(self.x.value(env)).T


OPS = {  # op: (text, latex, code, precedence, function)
    "@": ("·", r"\,", "@", 2, np.matmul),
    "*": ("⊙", r"\odot", "*", 2, np.multiply),
    "/": ("⊘", r"\oslash", "/", 2, np.divide),
    "+": ("+", "+", "+", 1, np.add),
    "-": ("−", "-", "-", 1, np.subtract),
}


@dataclass(frozen=True)
class Op(Expr):
    """A binary operation: ``@`` matrix product, ``*`` ``/`` ``+`` ``-`` elementwise (broadcast)."""

    op: str
    a: Expr
    b: Expr
    boxed: bool = False

    @property
    def prec(self):
        return 9 if self.boxed else OPS[self.op][3]

    @property
    def shape(self):
        a, b = self.a.shape, self.b.shape
        if a is None or b is None:
            return None
        if self.op == "@":
            return (a[0], b[1]) if a[1] == b[0] else None
        try:
            return tuple(np.broadcast_shapes(a, b))
        except ValueError:
            return None

    def value(self, env):
        return OPS[self.op][4](self.a.value(env), self.b.value(env))


@dataclass(frozen=True)
class Scale(Expr):
    """``c x``, a scalar times an array, written side by side: ``2 (A4 − T)``."""

    c: Num
    x: Expr
    prec = 2

    @property
    def shape(self):
        return self.x.shape

    def value(self, env):
        return self.c.x * self.x.value(env)


@dataclass(frozen=True)
class Neg(Expr):
    """``−x``."""

    x: Expr
    prec = 2

    @property
    def shape(self):
        return self.x.shape

    def value(self, env):
        return -self.x.value(env)


@dataclass(frozen=True)
class Div(Expr):
    """``x / k``: the reduction's divisor, ``k`` a whole number (m, or m·n), or dropout's keep."""

    x: Expr
    k: int
    prec = 2

    @property
    def shape(self):
        return self.x.shape

    def value(self, env):
        return self.x.value(env) / self.k


@dataclass(frozen=True)
class Pow(Expr):
    """``x²``, or ``x³`` with ``n = 3``."""

    x: Expr
    n: int = 2
    prec = 8

    @property
    def shape(self):
        return self.x.shape

    def value(self, env):
        return self.x.value(env) ** self.n


@dataclass(frozen=True)
class Mask(Expr):
    """``[x > 0]`` or ``[x ≤ 0]``: 1.0 where true, 0.0 elsewhere."""

    x: Expr
    positive: bool = True
    boxed: bool = True

    @property
    def shape(self):
        return self.x.shape

    def value(self, env):
        z = self.x.value(env)
        return ((z > 0) if self.positive else (z <= 0)).astype(np.asarray(z).dtype)


def _rows_f(f: Callable, layout: str) -> Callable:
    return f if layout == "rows" else (lambda z: f(z.T).T)


FUNCTIONS = {  # the functions an equation names besides the activations: notation, rows function
    "log":  (Notation("log", r"\log", "np.log({x})"), np.log),
    "abs":  (Notation("abs", r"\operatorname{abs}", "np.abs({x})"), np.abs),
    "sign": (Notation("sign", r"\operatorname{sign}", "np.sign({x})"), np.sign),
    "sqrt": (Notation("√", r"\sqrt{{{x}}}", "np.sqrt({x})"), np.sqrt),  # LaTeX with {x}: its argument
}


@dataclass(frozen=True)
class Fn(Expr):
    """A named function applied to ``x``: an activation (its record's notation and f, or with
    ``prime`` its named derivative) or one of ``FUNCTIONS``; softmax runs over each example's
    features in ``layout``; ``alpha`` is the activation's parameter."""

    name: str
    x: Expr
    layout: str = "rows"
    alpha: float | None = None
    boxed: bool = False
    prime: bool = False

    @property
    def shape(self):
        return self.x.shape

    @property
    def notation(self) -> Notation:
        if self.name in FUNCTIONS:
            return FUNCTIONS[self.name][0]
        act = ACTIVATIONS[self.name]
        return act.prime if self.prime else act.notation

    def code(self, x: str) -> str:
        return self.notation.code.format(x=x, a=self.alpha, axis=1 if self.layout == "rows" else 0)

    def value(self, env):
        if self.name in FUNCTIONS:
            f = FUNCTIONS[self.name][1]
        else:
            act = ACTIVATIONS[self.name]
            params = {"alpha": self.alpha} if act.params else {}
            f = (lambda z: act.f_prime(z, **params)) if self.prime else (lambda z: act.f(z, **params))
        return _rows_f(f, self.layout)(np.asarray(self.x.value(env)))


SUMS = {  # axis: (text, latex, NumPy axis)
    "rows": ("Σ_rows", r"\textstyle\sum_{\mathrm{rows}}", 0),
    "cols": ("Σ_cols", r"\textstyle\sum_{\mathrm{cols}}", 1),
    "all": ("Σ", r"\textstyle\sum", None),
}


@dataclass(frozen=True)
class Sum(Expr):
    """The sum of ``x`` over ``rows``, ``cols`` or ``all``; ``keepdims=False`` drops the summed axis."""

    x: Expr
    axis: str = "all"
    keepdims: bool = True

    @property
    def boxed(self):
        return self.axis != "all"

    @property
    def shape(self):
        s = self.x.shape
        if s is None or self.axis == "all":
            return None if s is None else ()
        ax = SUMS[self.axis][2]
        if self.keepdims:
            return tuple(1 if i == ax else n for i, n in enumerate(s))
        return tuple(n for i, n in enumerate(s) if i != ax)

    def value(self, env):
        return np.sum(self.x.value(env), axis=SUMS[self.axis][2],
                      keepdims=self.keepdims and self.axis != "all")


@dataclass(frozen=True)
class Equation:
    """``lhs = rhs``, with the layer it belongs to, its part (forward, loss, backward) and a note."""

    lhs: Sym
    rhs: Expr
    layer: int
    part: str
    note: str = ""
    needed: str = ""  # set when the shapes do not fit: what was needed

    @property
    def fits(self) -> bool:
        return self.rhs.shape is not None and not self.needed
