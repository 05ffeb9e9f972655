"""Errors that nngrad raises for bad input, each carrying the place it concerns.

Every error derives from ``NngradError``. The command line turns one into a single line
``nngrad: error: FILE:LINE: PLACE: message`` and the error's ``exit_code``; the Python API
lets it propagate.
"""

from __future__ import annotations


class NngradError(Exception):
    """Base class of every error nngrad raises on purpose."""

    exit_code = 2

    def __init__(self, message: str, *, file: str | None = None):
        super().__init__(message)
        self.message = message
        self.file = file

    def __str__(self) -> str:
        return f"{self.file}: {self.message}" if self.file else self.message


class SpecError(NngradError):
    """A network spec is invalid: unreadable, malformed, wrong shapes, unknown names.

    ``path`` locates the problem inside the spec as keys and indices, e.g.
    ``("layers", 1, "W", 3, 0)``; ``place`` renders it in the result names' terms (``W2[3][0]``,
    layers counted from 1, entries from 0 as in NumPy). ``line`` is the YAML line, when known.
    ``context``, when set, is more for a command to show before the one-line message (for
    ``nngrad explain``, the equations up to the one whose shapes do not fit).
    """

    def __init__(self, message: str, *, path: tuple = (), file: str | None = None,
                 line: int | None = None):
        super().__init__(message, file=file)
        self.path = tuple(path)
        self.line = line
        self.context = None

    @property
    def place(self) -> str:
        return place_name(self.path)

    def located(self, *, file: str | None = None, line: int | None = None) -> "SpecError":
        """This error with a file name and a line filled in where they were missing."""
        self.file = self.file or file
        self.line = self.line if self.line is not None else line
        return self

    def __str__(self) -> str:
        where = [self.file] if self.file else []
        if self.line is not None:
            where = [f"{self.file or '<spec>'}:{self.line}"]
        if self.place:
            where.append(self.place)
        return ": ".join([*where, self.message])


class NonFiniteError(NngradError):
    """A valid spec whose values overflowed to a non-finite number (exit status 1)."""

    exit_code = 1


class OutputError(NngradError):
    """An output file (or standard output) could not be written."""


QUOTED_MAX = 40  # characters of a user's value quoted in a message


def quoted(value, limit: int = QUOTED_MAX) -> str:
    """``repr(value)``, cut in the middle past ``limit`` characters, so that an error stays one
    readable line: ``'1111...1111' (5,000 characters)``."""
    try:
        text = repr(value)
    except ValueError:  # an int past Python's digit limit
        return f"an integer of about {value.bit_length() * 0.30103:,.0f} digits"
    if len(text) <= limit:
        return text
    half = (limit - 3) // 2
    return f"{text[:half]}...{text[-half:]} ({len(text):,} characters)"


def place_name(path: tuple) -> str:
    """``("layers", 1, "W", 3, 0)`` -> ``W2[3][0]``; ``("loss", "reduction")`` -> ``loss.reduction``.
    A user's key longer than QUOTED_MAX is ``quoted``, cut in the middle."""
    if not path:
        return ""
    path = tuple(quoted(k) if isinstance(k, str) and len(k) > QUOTED_MAX else k for k in path)
    if path[0] == "layers" and len(path) >= 2 and isinstance(path[1], int):
        layer = path[1] + 1
        if len(path) == 2:
            return f"layer {layer}"
        key, rest = path[2], path[3:]
        if key in ("W", "b", "gamma", "beta"):
            return f"{key}{layer}" + _indices(rest)
        return f"layer {layer} {key}" + "".join(f"[{k}]" if isinstance(k, int) else f".{k}"
                                                 for k in rest)
    head, rest = str(path[0]), path[1:]
    if all(isinstance(k, int) for k in rest):
        return head + _indices(rest)
    return ".".join(str(k) for k in path)


def _indices(keys: tuple) -> str:
    return "".join(f"[{k}]" for k in keys)


def size_text(n: float) -> str:
    """``4.3 GiB``, ``512 bytes``: a byte count for a person."""
    units, k = ("bytes", "KiB", "MiB", "GiB", "TiB"), 0
    while n >= 1024 and k < len(units) - 1:
        n, k = n / 1024, k + 1
    return f"{n:,.0f} bytes" if k == 0 else f"{n:.1f} {units[k]}"
