"""The nesting of a YAML text, measured before libyaml parses it (libyaml has crashed on 30,000
nested brackets)."""

from __future__ import annotations

import re

from ..errors import SpecError

MAX_DEPTH = 64
MAX_INDENT = 4 * MAX_DEPTH
_INDENTED = re.compile(r"\n[ \-]{%d}" % (MAX_INDENT + 1))  # searched in "\n" + text


def depth_guard(text: str) -> None:
    """SpecError if brackets nest more than MAX_DEPTH deep, or a line is indented (spaces and
    ``- ``) more than MAX_INDENT columns, which block nesting that deep would need. Counted
    over the raw text (a long one in C-speed passes). Brackets in comments and quotes count too; the depth
    never goes below 0 (a comment of "]"s cannot hide what follows), so the guard is never
    looser than the YAML."""
    first = _too_deep(text) if len(text) <= SMALL else _too_deep_numpy(text)
    if first is not None:
        line = text.count("\n", 0, first) + 1
        raise SpecError(f"nests brackets more than {MAX_DEPTH} levels deep", line=line)
    deep = _INDENTED.search("\n" + text)
    if deep:
        raise SpecError(f"is indented more than {MAX_INDENT} columns; a spec is never nested "
                        "that deep", line=text.count("\n", 0, deep.start()) + 1)


SMALL = 1 << 16  # characters: a text this short (a settings file) is walked without numpy
_BRACKET = re.compile(r"[\[\]{}]")


def _too_deep(text: str) -> int | None:
    """The index of the first bracket deeper than MAX_DEPTH, or None (a stray closing bracket
    never takes the depth below 0)."""
    depth = 0
    for m in _BRACKET.finditer(text):
        depth = depth + 1 if m.group() in "[{" else max(depth - 1, 0)
        if depth > MAX_DEPTH:
            return m.start()
    return None


def _too_deep_numpy(text: str) -> int | None:
    """``_too_deep`` in C-speed passes, for a long text (its index counts characters too)."""
    import numpy as np

    raw = np.frombuffer(text.encode("utf-8", "surrogatepass"), dtype=np.uint8)
    opens = (raw == ord("[")) | (raw == ord("{"))
    at = np.flatnonzero(opens | (raw == ord("]")) | (raw == ord("}")))
    walk = np.cumsum(np.where(opens[at], 1, -1))
    depth = walk - np.minimum(0, np.minimum.accumulate(walk))  # a stray "]" never goes below 0
    if not (depth.size and depth.max() > MAX_DEPTH):
        return None
    first = int(at[np.argmax(depth > MAX_DEPTH)])  # a byte offset: counted back to characters
    return len(raw[:first].tobytes().decode("utf-8", "surrogatepass"))
