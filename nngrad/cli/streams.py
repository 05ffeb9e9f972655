"""Standard streams as the commands see them, so that every fault of theirs has one outcome.

``guard_streams`` runs first in ``main``. A standard descriptor that the shell closed (``>&-``,
``<&-``) is reopened on ``/dev/null``, so that no file nngrad opens can take its number; writing
to a closed standard output is then an error, not a write into that file. ``sys.stdout`` becomes
a ``GuardedStream``:

- a reader that went away (``| head -1``) raises ``PipeClosed``, which click does not catch, so
  that ``main`` exits 141 quietly;
- any other write error (``> /dev/full``) raises ``OutputError``: exit 2 and one line;
- text that the stream's encoding cannot hold (``PYTHONIOENCODING=ascii``) is written in ASCII
  notation: ``·`` as ``*``, ``ᵀ`` as ``^T``, ``⊙`` as ``(.)``, and so on (``ASCII``); a user's
  data (a spec written to ``-``) goes through ``write_bytes`` instead, as the UTF-8 it is.

``sys.stderr`` becomes a quiet ``GuardedStream``: what it cannot write is dropped, so that a
full or closed standard error never changes an outcome.

``console`` makes the rich consoles the commands print with, by one set of rules: a stream that
is not a terminal, with COLUMNS unset, is never hard-wrapped (a matrix row or a diagnosis stays
one line, for grep); ``NO_COLOR`` (set and not empty) turns off every style, bold and dim too
(no-color.org); and no line ends in spaces (``TrimmedLines``), on a terminal or not.
"""

from __future__ import annotations

import codecs
import os
import re
import sys

from ..errors import OutputError

ASCII = str.maketrans({"·": "*", "ᵀ": "^T", "⊙": "(.)", "⊘": "(/)", "×": "x", "−": "-",
                       "′": "'", "²": "^2", "³": "^3", "Σ": "sum", "σ": "sigma", "α": "alpha",
                       "±": "+/-", "≤": "<=", "≈": "~", "√": "sqrt", "π": "pi", "µ": "u",
                       "…": "...", "✗": "x", "─": "-", "━": "=", "│": "|", "→": "->"})


LARGE = 1 << 16  # characters; see GuardedStream._write


class PipeClosed(Exception):
    """Standard output was closed by its reader: stop quietly (exit 141)."""


class GuardedStream:
    """A text stream whose faults become ``PipeClosed`` or ``OutputError`` (see the module); a
    ``quiet`` one (standard error) drops what it cannot write instead."""

    def __init__(self, stream, name: str, closed: bool = False, quiet: bool = False):
        self._stream, self._name, self._quiet = stream, name, quiet
        self._failure = OutputError("is closed, so nothing can be written to it",
                                    file=name) if closed else None

    def write(self, text: str) -> int:
        if isinstance(text, (bytes, bytearray)):  # click.echo(bytes), as shell completion's
            return self.write_bytes(bytes(text))
        if not isinstance(text, str):
            raise TypeError(f"write() takes str, not {type(text).__name__}")
        if not self._open() or not text:
            return len(text)
        try:
            return self._write(text)
        except UnicodeEncodeError:
            encoding = getattr(self._stream, "encoding", None) or "ascii"
            data = text.translate(ASCII).encode(encoding, _FALLBACK)
            if getattr(self._stream, "buffer", None) is None:
                return self._attempt(self._stream.write, data.decode(encoding, "replace"))
            self._attempt(self.write_bytes, data)
            return len(text)
        except OSError as e:
            return self._fail(e, len(text))

    def write_bytes(self, data: bytes) -> int:
        """Bytes as they are (a spec's UTF-8 text), after any text still buffered."""
        if not self._open() or not data:
            return len(data)
        buffer = getattr(self._stream, "buffer", None)
        if buffer is None:  # a text-only stream, as a notebook's
            return self.write(data.decode("utf-8"))
        self.flush()
        return self._attempt(_write_all, buffer, data)

    def _write(self, text: str) -> int:
        """Small texts through the text stream; a large one as bytes (``_write_all``)."""
        buffer = getattr(self._stream, "buffer", None)
        if len(text) < LARGE or buffer is None:
            return self._stream.write(text)
        self._stream.flush()
        _write_all(buffer, text.encode(self._stream.encoding, self._stream.errors or "strict"))
        return len(text)

    def flush(self) -> None:
        if self._failure is None:
            self._attempt(self._stream.flush)

    def isatty(self) -> bool:
        return self._failure is None and self._stream.isatty()

    def __getattr__(self, name: str):
        if name == "buffer":  # bytes would pass the guard (click writes through it on ascii)
            raise AttributeError(name)
        return getattr(self._stream, name)

    def _open(self) -> bool:
        if self._failure is not None and not self._quiet:
            raise self._failure
        return self._failure is None

    def _attempt(self, call, *args):
        try:
            return call(*args)
        except OSError as e:
            return self._fail(e, 0)

    def _fail(self, e: OSError, count: int) -> int:
        _devnull_onto(self._stream)  # what is still buffered goes nowhere
        self._failure = PipeClosed() if isinstance(e, BrokenPipeError) else \
            OutputError(f"cannot be written: {e.strerror or e}", file=self._name)
        if self._quiet:
            return count
        raise self._failure from None


NO_WRAP = 1 << 20  # the width of a console that must not wrap: wider than any line it prints


def console(*, stderr: bool = False):
    """A rich console on standard output (or error) by the module's rules."""
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    return Console(file=TrimmedLines(stream), width=console_width(stream), highlight=False,
                   stderr=stderr, **({"color_system": None} if no_color() else {}))


def no_color() -> bool:
    """NO_COLOR is set and not empty: no styling at all."""
    return os.environ.get("NO_COLOR", "") != ""


def console_width(stream) -> int | None:
    """COLUMNS if it is set; else a terminal's own width (None: rich's guess), or ``NO_WRAP``
    when ``stream`` is not a terminal."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    try:
        if not stream.isatty():
            return NO_WRAP
        return os.get_terminal_size(stream.fileno()).columns or None
    except (AttributeError, OSError, ValueError):
        return NO_WRAP


_STYLE = re.compile(r"\x1b\[[0-9;]*m")


class TrimmedLines:
    """A text stream that passes on what it is given to ``stream``, less the spaces that end a
    line (the escape codes among them kept). Spaces that end a write are held until the next
    write shows whether a line ends there."""

    def __init__(self, stream):
        self._stream, self._held = stream, ""

    def write(self, text: str) -> int:
        *lines, last = (self._held + text).split("\n")
        cut = _trailing(last)
        self._held = _STYLE.sub("", last[cut:])
        out = "\n".join([_trimmed(line) for line in lines] + [_trimmed(last, cut)])
        if out:
            self._stream.write(out)
        return len(text)

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return self._stream.isatty()

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


def _trailing(line: str) -> int:
    """Where the run of spaces and escape codes that ends ``line`` begins."""
    i = len(line)
    while i:
        if line[i - 1] in " \t":
            i -= 1
            continue
        start = line.rfind("\x1b[", 0, i) if line[i - 1] == "m" else -1
        if start < 0 or not _STYLE.fullmatch(line, start, i):
            break
        i = start
    return i


def _trimmed(line: str, cut: int | None = None) -> str:
    """``line`` less its ending spaces, their escape codes kept."""
    cut = _trailing(line) if cut is None else cut
    return line[:cut] + "".join(_STYLE.findall(line, cut))


def _write_all(buffer, data: bytes) -> int:
    """Write ``data`` whole, retrying short writes: Python's buffered writer returns a short
    count, not an error, when a reader leaves part-way through one large write."""
    view = memoryview(data)
    while view:
        view = view[buffer.write(view) or 0:]
    buffer.flush()
    return len(data)


def guard_streams() -> None:
    """Reopen closed standard descriptors on /dev/null, guard ``sys.stdout``, and make
    ``sys.stderr`` quiet: a fault there (``2>/dev/full``) must not change the outcome."""
    closed = {fd for fd in (0, 1, 2) if not _is_open(fd)}
    for fd in sorted(closed):
        _devnull_onto(fd)
    stdout = sys.stdout if sys.stdout is not None else open(1, "w", closefd=False)
    stderr = sys.stderr if sys.stderr is not None else open(2, "w", closefd=False)
    sys.stdout = GuardedStream(stdout, "standard output", closed=1 in closed)
    sys.stderr = GuardedStream(stderr, "standard error", quiet=True)


def silence_stdout() -> None:
    """Point standard output at /dev/null, so that the exit's flush cannot fail again."""
    _devnull_onto(sys.stdout)


def _devnull_onto(target) -> None:
    """/dev/null in place of a descriptor, or of a stream's descriptor."""
    try:
        fd = target if isinstance(target, int) else target.fileno()
    except (AttributeError, OSError, ValueError):
        return
    devnull = os.open(os.devnull, os.O_RDWR)
    if devnull != fd:
        os.dup2(devnull, fd)
        os.close(devnull)


def _is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


def _fallback(error: UnicodeEncodeError):
    """What the stream's encoding cannot hold: a file name's byte that the locale could not
    decode (a surrogate) as that byte again, anything else as ``?``."""
    chars = error.object[error.start:error.end]
    return bytes(ord(c) - 0xDC00 if 0xDC80 <= ord(c) <= 0xDCFF else ord("?") for c in chars), \
        error.end


_FALLBACK = "nngrad-ascii"
codecs.register_error(_FALLBACK, _fallback)
