"""A NumPy shape error read against a network's equations (``nngrad explain --error``).

``read_error`` finds, in a message or a whole traceback, the last of the forms NumPy raises:

- ``np.dot``: ``shapes (1,5) and (1,1) not aligned: 5 (dim 1) != 1 (dim 0)`` (both shapes);
- ``@`` / ``np.matmul``: ``matmul: Input operand 1 has a mismatch in its core dimension 0, ...
  (size 1 is different from 5)`` (the inner sizes only: operand 1's first, operand 0's last);
- broadcasting: ``operands could not be broadcast together with shapes (2,3) (3,2)`` and an
  in-place one, ``non-broadcastable output operand with shape (5,1) doesn't match the
  broadcast shape (5,5)``.

``explain_error`` then tries, for every matrix product ``a · b`` of the equations (every
elementwise operation, for a broadcasting error), what a user most likely wrote instead, most
likely first: the factors in the other order (the other layout's order), a transpose left out
or added on one factor, on both, and the other order with one of them. A writing matches when
it fails as the message says, with the message's shapes; each array's equation is told once,
with the writings of its likeliest operation (either factor, where the shapes cannot tell).
Pure: strings and shapes only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

from ..errors import NngradError
from .build import Explanation, explain
from .expr import Equation, Expr, Op, Sym, Tr, shape_text
from .notation import code, plain

FORMS = ('np.dot\'s "shapes (1,5) and (1,1) not aligned: ..."', '@ or np.matmul\'s "matmul: Input '
         'operand 1 has a mismatch in its core dimension 0, ... (size 1 is different from 5)"',
         'broadcasting\'s "operands could not be broadcast together with shapes (2,3) (3,2)" and '
         '"non-broadcastable output operand with shape (5,1) doesn\'t match the broadcast shape '
         '(5,5)"')


def _words(text: str) -> str:
    return text.replace(" ", r"\s+")  # a message wrapped, or pasted with other spacing


_SHAPE = r"\(([\d,\s]*)\)"
_DOT = re.compile(_words("shapes ") + _SHAPE + _words(" and ") + _SHAPE + _words(" not aligned"))
_MATMUL = re.compile(_words("matmul: Input operand 1 has a mismatch in its core dimension 0, with "
                            "gufunc signature ") + r"\S+\s+\(" + _words("size ") + r"(\d+)"
                     + _words(" is different from ") + r"(\d+)\)")
_BROADCAST = re.compile(_words("could not be broadcast together with ") + r"(?:remapped\s+)?shapes"
                        r"\s+(?:\[original->remapped\]:\s+)?((?:\([\d,\s]*\)(?:->\([\d,\s]*\))?\s*)+)")
_OUTPUT = re.compile(_words("non-broadcastable output operand with shape ") + _SHAPE
                     + _words(" doesn't match the broadcast shape ") + _SHAPE)


class Reported(NamedTuple):
    """What a message says: ``form`` dot, matmul or broadcast; ``shapes`` of the operands as
    given (dot, broadcast); for matmul, ``inner`` = (operand 0's last size, operand 1's first);
    ``line`` the words it was read from; ``in_place`` for an output operand that cannot hold the
    broadcast (``a += b``): ``shapes`` are then a's and the broadcast's."""

    form: str
    shapes: tuple
    inner: tuple | None
    line: str
    in_place: bool = False  # "non-broadcastable output operand": shapes are (output, broadcast)


class Match(NamedTuple):
    """An equation whose product (or elementwise operation) ``right`` fails as reported when
    written as ``wrote``: the mistake's ``kind`` (one of ``MISTAKES``) and ``how`` in words,
    ``why`` it fails, and the equation's NumPy line, ``fix``."""

    equation: Equation
    right: Expr
    wrote: Expr
    kind: str
    how: str
    why: str
    fix: str


class NearMiss(NamedTuple):
    """A product of which one factor, ``fits``, has a shape the message names, and the other,
    ``wrong``, does not: the user's array for ``wrong`` is ``given`` where it must be
    ``wrong.shape``."""

    equation: Equation
    right: Expr
    fits: Expr
    wrong: Expr
    given: tuple


@dataclass(frozen=True)
class ErrorExplanation:
    """``reported`` read against ``explanation``: every ``match``, most likely first; with
    none, the ``near`` misses (np.dot's shapes, one of them right); the ``shapes`` of every
    array the equations name (what the user's arrays should be); ``elsewhere``, the matches
    that a choice of layer left out."""

    reported: Reported
    matches: tuple
    shapes: dict
    explanation: Explanation
    near: tuple = ()
    elsewhere: int = 0

    @property
    def unknown_shapes(self) -> tuple:
        """The reported shapes that no array of the network has, nor its transpose."""
        known = {s for shape in self.shapes.values() for s in (shape, shape[::-1])}
        return tuple(s for s in self.reported.shapes if s not in known)


def read_error(text: str) -> Reported:
    """The last shape error in ``text`` (a message or a traceback); NngradError if none."""
    found = []
    for form, pattern in (("dot", _DOT), ("matmul", _MATMUL), ("broadcast", _BROADCAST),
                          ("broadcast", _OUTPUT)):
        found += [(m.start(), form, m) for m in pattern.finditer(text)]
    if not found:
        raise NngradError("the error text names no shapes that nngrad reads; it understands "
                          + "; ".join(FORMS) + " (a whole traceback too)")
    _, form, m = max(found, key=lambda f: f[0])
    start = text.rfind("\n", 0, m.start()) + 1
    end = text.find("\n", m.end())
    line = " ".join(text[start:end if end >= 0 else len(text)].split())
    line = re.sub(r"^[\w.]*Error: ", "", line)  # the message, without the exception's name
    if form == "matmul":
        return Reported(form, (), (int(m.group(2)), int(m.group(1))), line)
    if form == "dot":
        shapes = (m.group(1), m.group(2))
    elif m.re is _OUTPUT:
        shapes = m.groups()
    else:
        shapes = re.findall(r"\(([\d,\s]*)\)(?:->\([\d,\s]*\))?", m.group(1))
    return Reported(form, tuple(_shape(s) for s in shapes), None, line, m.re is _OUTPUT)


def explain_error(net, text: str) -> ErrorExplanation:
    """Where in ``net``'s equations the error ``text`` most likely comes from (see the module)."""
    reported = read_error(text)
    ex = explain(net)
    matches, seen = [], set()
    for eq in ex.equations:
        for node in _nodes(eq.rhs):
            for wrote, kind, how in _writings(node, ex.skeleton.layout, reported.form):
                key = (_key(node), _key(wrote))  # a product in two equations: the first
                if key not in seen and _fails_as(wrote, reported):
                    seen.add(key)
                    matches.append(Match(eq, node, wrote, kind, how, _why(wrote, reported), _fix(eq)))
    matches.sort(key=lambda m: _likelihood(m, reported))  # stable: in the equations' order
    first: dict = {}  # an array's equation once (a dZ is written two ways): its likeliest
    matches = [m for m in matches if first.setdefault(m.equation.lhs.name, m.right) is m.right]
    near = () if matches else _near(ex, reported)
    return ErrorExplanation(reported, tuple(matches), _shapes(ex), ex, near)


def _near(ex: Explanation, reported: Reported, most: int = 5) -> tuple:
    """The products that np.dot's shapes miss by one factor (each product once), backward
    first."""
    if reported.form != "dot":
        return ()
    out, seen = [], set()
    for eq in ex.equations:
        for node in (n for n in _nodes(eq.rhs) if n.op == "@"):
            for fits, wrong, given, at in ((node.b, node.a, reported.shapes[0], 1),
                                           (node.a, node.b, reported.shapes[1], 0)):
                if fits.shape == reported.shapes[at] and wrong.shape not in (None, given) \
                        and _key(node) not in seen:
                    seen.add(_key(node))  # a product in two equations: the first
                    out.append(NearMiss(eq, node, fits, wrong, given))
    return tuple(sorted(out, key=lambda n: PARTS.index(n.equation.part))[:most])


MISTAKES = ("order", "transpose", "transposes", "order and transpose")  # most likely first
PARTS = ("backward", "forward", "loss")  # a user's shape errors are mostly in backprop


def _likelihood(m: Match, reported: Reported) -> tuple:
    """The sort key: the kind of mistake, a writing in the message's order of shapes before
    one in the other, for an in-place error an addition first, then the backward pass before
    the forward."""
    in_order = (m.wrote.a.shape, m.wrote.b.shape) == tuple(reported.shapes[:2])
    not_a_bias = reported.in_place and m.wrote.op != "+"  # an in-place add is mostly Z += b
    return MISTAKES.index(m.kind), not in_order, not_a_bias, PARTS.index(m.equation.part)


def _writings(node: Op, layout: str, form: str):
    """(expression, kind, how) for each likely wrong writing of ``node``, ``kind`` one of
    ``MISTAKES``; a transpose only where it changes the shape (a square factor's would fail the
    same way)."""
    a, b = node.a, node.b
    other = "columns" if layout == "rows" else "rows"
    fa, fb = _flips(a), _flips(b)
    if node.op == "@" and form != "broadcast":
        yield Op("@", b, a), "order", f"the factors in the other order (the {other} layout's)"
        for x, y, kind, said in ((fa, b, "transpose", (a,)), (a, fb, "transpose", (b,)),
                                 (fa, fb, "transposes", (a, b)),
                                 (fb, a, "order and transpose", (b,)),
                                 (b, fa, "order and transpose", (a,))):
            if x is not None and y is not None:
                words = " and ".join(map(_word, said))
                yield Op("@", x, y), kind, ("the other order, and " if kind.startswith("order")
                                            else "") + words
    elif node.op != "@" and form == "broadcast":
        for x, y, said in ((fa, b, a), (a, fb, b)):
            if x is not None and y is not None:
                yield Op(node.op, x, y), "transpose", _word(said)


def _flips(e: Expr) -> Expr | None:
    """``e`` with its transpose added or taken away, or None where that keeps its shape."""
    s = e.shape
    if s is None or len(s) != 2 or s[0] == s[1]:
        return None
    return e.x if isinstance(e, Tr) else Tr(e)


def _nodes(e: Expr):
    """Every binary operation in ``e``, outermost first."""
    if isinstance(e, Op):
        yield e
    for child in (getattr(e, k, None) for k in ("x", "a", "b")):
        if isinstance(child, Expr):
            yield from _nodes(child)


def _word(e: Expr) -> str:
    """``W3ᵀ`` -> "W3 without its transpose"; ``dZ3`` -> "dZ3 transposed"."""
    return f"{plain(e.x)} without its transpose" if isinstance(e, Tr) else f"{plain(e)} transposed"


def _fails_as(e: Op, reported: Reported) -> bool:
    a, b = e.a.shape, e.b.shape
    if a is None or b is None or len(a) != 2 or len(b) != 2:
        return False
    if e.op == "@":
        if a[1] == b[0]:
            return False  # it would not fail
        return (a, b) == reported.shapes if reported.form == "dot" else (a[1], b[0]) == reported.inner
    if reported.in_place:  # a op= b: a is the output, which cannot hold the broadcast
        out, wide = reported.shapes[:2]
        return a == out and _broadcasts(a, b) and _broadcast(a, b) == wide != out
    if _broadcasts(a, b):
        return False
    return set(reported.shapes[:2]) == {a, b}


def _broadcasts(a: tuple, b: tuple) -> bool:
    return all(x == y or 1 in (x, y) for x, y in zip(a[::-1], b[::-1]))


def _broadcast(a: tuple, b: tuple) -> tuple:
    """The broadcast shape of two 2-D shapes that broadcast."""
    return tuple(max(x, y) for x, y in zip(a, b))


def _why(e: Op, reported: Reported) -> str:
    a, b = e.a.shape, e.b.shape
    if reported.in_place:
        return (f"({shape_text(a)}) and ({shape_text(b)}) broadcast to "
                f"({shape_text(_broadcast(a, b))}), which the ({shape_text(a)}) written into in "
                "place (+=) cannot hold")
    if e.op == "@":
        return f"({shape_text(a)}) · ({shape_text(b)}), whose inner sizes {a[1]} and {b[0]} differ"
    return f"({shape_text(a)}) and ({shape_text(b)}) do not broadcast: no size of one is 1 where they differ"


def _fix(eq: Equation) -> str:
    return f"{eq.lhs.name} = {code(eq.rhs)}"


_key = code  # an expression told by its NumPy code


def _shapes(ex: Explanation) -> dict:
    """Every named array of the equations, with its shape, in the order they appear."""
    out: dict = {}

    def walk(e):
        if isinstance(e, Sym) and e.shape:
            out.setdefault(e.name, tuple(e.shape))
        for child in (getattr(e, k, None) for k in ("x", "a", "b")):
            if isinstance(child, Expr):
                walk(child)
    for eq in ex.equations:
        walk(eq.rhs)
        walk(eq.lhs)
    return out


def _shape(s: str) -> tuple:
    return tuple(int(n) for n in "".join(s.split()).split(",") if n)
