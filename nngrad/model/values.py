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
    """``value`` as an array of numbers cast to ``dtype``, every entry finite before and after
    the cast; SpecError naming the first bad entry. An array already of ``dtype`` is not
    copied (a memory map stays one).

    The checks hold at most ``CHECK_ENTRIES`` entries of temporaries at a time.
    """
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


CHECK_ENTRIES = 1 << 21  # entries judged at once: a 2 MiB boolean temporary at most


def nonfinite_at(a, entries: int = CHECK_ENTRIES) -> tuple | None:
    """The index of the first entry of ``a`` that is not finite, in C order; None if none.

    ``a`` is judged in blocks along its first axis of at most ``entries`` entries (a block is
    one index of that axis, split again, when one is larger), so that the temporaries are
    bounded whatever ``a``'s size; each block is handed to ``done_with`` once judged.
    """
    return _first_bad(a, lambda part: ~np.isfinite(part), entries)


def _first_bad(a, bad, entries: int) -> tuple | None:
    """The C-order index of the first entry where ``bad(part)`` (a boolean array of part's
    shape) is true, judging blocks of at most ``entries`` entries along the first axis."""
    if a.ndim == 0 or a.size <= entries:
        where = bad(a)
        done_with(a)
        return tuple(int(i) for i in np.argwhere(where)[0]) if where.any() else None
    per = a.size // a.shape[0]  # the entries of one index of the first axis
    if per > entries:  # even one is too many: each is split in turn
        for i in range(a.shape[0]):
            at = _first_bad(a[i], bad, entries)
            if at is not None:
                return (i, *at)
        return None
    step = entries // per
    for start in range(0, a.shape[0], step):
        at = _first_bad(a[start:start + step], bad, entries)
        if at is not None:
            return (start + at[0], *at[1:])
    return None


def done_with(view) -> None:
    """Tell the owner of ``view``'s memory that ``view`` has been read and is not needed again
    soon, if the owner asks to be told: a read-only memory map made by the command line
    (``specs.npzmap``) gives back the pages under it (they are read again from the file if ever
    touched). For any other array, nothing. Here the owner is only called; it decides."""
    owner = getattr(view, "base", None)
    while isinstance(owner, np.ndarray):  # a view of a view of ...: numpy keeps the chain
        owner = owner.base
    tell = getattr(owner, "done_with", None)
    if tell is not None:
        tell(view)


def close_matches(word: str, choices: list, n: int) -> list:
    """difflib's close matches of ``word`` (for a word of 2 or 3 letters, one letter may differ:
    ``l3`` is near ``l2``); difflib is imported on this error path only."""
    import difflib

    return difflib.get_close_matches(word, choices, n=n, cutoff=0.5 if len(word) <= 3 else 0.6)


def kind_of(x) -> str:
    """``mapping``, ``list``, ``string``, ``null``, or the type's name."""
    return {dict: "mapping", list: "list", str: "string", type(None): "null"}.get(
        type(x), type(x).__name__)
