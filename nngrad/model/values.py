"""A user's values, checked: arrays of numbers, names from a list, and how a value is shown in
a message (``shown``: null, true, false, or the value ``quoted``; ``described``: a list or a
mapping as that).

numpy only. Every problem is a ``SpecError`` naming its place.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from ..errors import SpecError, quoted

_KIND_NAMES = {"b": "booleans", "U": "strings", "S": "bytes", "O": "objects", "c": "complex numbers",
               "V": "records"}


def choice(value, choices, path, what, default: str = "", others: Mapping = {}) -> str:
    """``value`` if it is one of ``choices``, else SpecError: did you mean (see ``suggestion``;
    ``others`` maps other names of a choice to it), choices, ``default``."""
    if isinstance(value, str) and value in choices:
        return value
    near = suggestion(value if isinstance(value, str) else quoted(value), choices, others)
    hint = f" (did you mean {near!r}?)" if near else ""
    told = f"unknown {what} {quoted(value)}" if isinstance(value, str) and value else f"is {shown(value)}"
    raise SpecError(f"{told}{hint}; expected one of: {', '.join(choices)}{default}", path=path)


def suggestion(word: str, choices, others: Mapping = {}) -> str | None:
    """The choice a user most likely meant by ``word``: one written the same but for case and
    separators (``ReLU``, ``Leaky-ReLU``, ``B1``), else one that ``others`` knows by that name
    (``{"BCELoss": "bce"}``), else difflib's closest of all those names, case aside; None if
    none is close. A suggestion only: the caller still refuses ``word``."""
    others = {o: c for o, c in others.items() if c in choices}
    for table in ({c: c for c in choices}, others):
        same = [c for o, c in table.items() if folded(o) == folded(word)]
        if same:
            return same[0]
    names = {**{o.lower(): c for o, c in others.items()}, **{c.lower(): c for c in choices}}
    near = close_matches(word.lower(), list(names), n=1)
    return names[near[0]] if near else None


def folded(name: str) -> str:
    """``name`` compared without regard to case or separators: ``Leaky_ReLU`` -> ``leakyrelu``."""
    return name.lower().replace("_", "").replace("-", "").replace(" ", "")


def described(value) -> str:
    """A user's value where a number or a list was expected: a list, a mapping, or ``shown``."""
    return f"a {kind_of(value)}" if isinstance(value, (list, dict)) else shown(value)


def shown(value) -> str:
    """A user's value in a message, in the spec's terms: null, true, false, or ``quoted``."""
    if value is None or isinstance(value, (bool, np.bool_)):
        return "null" if value is None else str(bool(value)).lower()
    return quoted(value)


def real(x) -> bool:  # an int or a float of Python or NumPy, not a bool
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, (bool, np.bool_))


def array(value, path, dtype, what="numbers") -> np.ndarray:
    try:
        a = np.asarray(value)
    except (ValueError, TypeError) as e:
        raise SpecError(f"is not an array of {what}: {e}", path=path) from None
    if a.dtype.kind == "O" and all(map(real, a.flat)):  # Python ints past int64
        big = next((i for i, x in enumerate(a.flat) if isinstance(x, int)
                    and abs(x) > np.finfo(dtype).max.item()), None)  # exact for any int
        if big is not None:
            bad = tuple(int(i) for i in np.unravel_index(big, a.shape))
            raise SpecError(f"is {quoted(a[bad])}, too large for {np.dtype(dtype).name}",
                            path=(*path, *bad))
        a = a.astype(np.float64)
    if a.dtype.kind not in "iuf":
        raise SpecError(f"must hold {what}, not {_KIND_NAMES.get(a.dtype.kind, a.dtype)}", path=path)
    if a.size == 0:
        raise SpecError("is empty", path=path)
    bad = nonfinite_at(a) if a.dtype.kind == "f" else None
    if bad is not None:
        raise SpecError(f"is {a[bad]}; every number must be finite", path=(*path, *bad))
    with np.errstate(over="ignore"):
        out = a.astype(dtype, copy=False)
    bad = nonfinite_at(out) if out is not a else None
    if bad is not None:
        raise SpecError(f"is {a[bad]}, too large for {np.dtype(dtype).name}", path=(*path, *bad))
    return out


def nonfinite_at(a) -> tuple | None:
    """The index of the first entry of ``a`` that is not finite, in C order; None if none."""
    finite = np.isfinite(a)
    if finite.all():
        return None
    return tuple(int(i) for i in np.argwhere(~finite)[0])


def close_matches(word: str, choices: list, n: int) -> list:
    """difflib's close matches of ``word`` (for a word of 2 or 3 letters, one letter may differ:
    ``l3`` is near ``l2``); difflib is imported on this error path only."""
    import difflib

    return difflib.get_close_matches(word, choices, n=n, cutoff=0.5 if len(word) <= 3 else 0.6)


def kind_of(x) -> str:
    """``mapping``, ``list``, ``string``, ``null``, or the type's name."""
    return {dict: "mapping", list: "list", str: "string", type(None): "null"}.get(
        type(x), type(x).__name__)
