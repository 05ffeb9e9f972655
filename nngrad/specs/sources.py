"""Read a spec, settings or gradient file within a cap: a path, a pipe, a device, or ``-``.

A regular file holding an NPZ is read where it lies (zipfile seeks in it, and ``npzread``
checks what it declares). Everything else is read in chunks, never more than a cap, and refused
past it, so an endless source (``/dev/zero``, which says it is seekable; ``yes | nngrad run -``)
costs at most the cap:

- a YAML or JSON text, from any source: ``read_limit`` bytes (``limits.read_bytes``,
  ``DEFAULT_READ_LIMIT``); a regular file larger than that is refused before it is read;
- an NPZ that is not a regular file (standard input, ``<(cat net.npz)``), read whole so that
  zipfile can seek in it: what an NPZ within ``limit`` bytes of arrays (``limits.npz_bytes``)
  can take with its zip structure, ``stream_limit(limit)``.

Standard input that the shell closed (``nngrad run - <&-``) is "standard input is closed".
"""

from __future__ import annotations

import errno
import io
import os
import stat
import sys
from contextlib import contextmanager

from ..errors import SpecError

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
NPY_MAGIC = b"\x93NUMPY"
DEFAULT_LIMIT = 1 << 30  # as configs/default.yaml: limits.npz_bytes


def stream_limit(limit: int | None = None) -> int:
    """The most bytes an NPZ declaring at most ``limit`` bytes of arrays (``limits.npz_bytes``)
    may take when it must be read whole, from a pipe: the arrays, 1/256 more for compression's
    worst growth (deflate's is under 1/2000), and 4 MiB for the zip's headers and directory
    (np.savez writes about 150 bytes a member)."""
    limit = DEFAULT_LIMIT if limit is None else limit
    return limit + limit // 256 + (4 << 20)


DEFAULT_READ_LIMIT = 256 << 20  # as configs/default.yaml: limits.read_bytes
DEFAULT_MEMORY_LIMIT = 4 << 30  # as configs/default.yaml: limits.memory_bytes
CHUNK = 1 << 20


def load_file(source, name: str | None, npz, yaml, *, limit: int | None = None,
              read_limit: int | None = None):
    """Read ``source`` (``-``: standard input) and parse it with ``npz`` or ``yaml``, told apart by
    content (or an ``.npz`` name); every SpecError is given the file's name.

    ``npz`` is given a seekable binary file: a regular file where it lies, anything else read
    whole within ``stream_limit(limit)``. ``yaml`` is given the bytes, at most
    ``read_limit`` (default ``DEFAULT_READ_LIMIT``) of them.
    """
    source = os.fsdecode(source)
    name = name or ("<stdin>" if source == "-" else source)
    try:
        with _opened(source, name) as src:
            head = src.read(len(NPY_MAGIC))
            if head.startswith((*ZIP_MAGIC, NPY_MAGIC)) or \
                    (source.endswith(".npz") and source != "-"):
                if src.size is None:
                    return npz(src.rest(head, stream_limit(limit), _npz_too_big(limit)))
                src.rewind()
                return npz(src.file)
            return yaml(_text(src, head, read_limit).getvalue())
    except SpecError as e:
        raise e.located(file=name) from None


def read_bytes(source, name: str, *, read_limit: int | None = None) -> bytes:
    """The bytes of a text file (settings), or of standard input for ``-``, at most
    ``read_limit`` of them (default ``DEFAULT_READ_LIMIT``); SpecError if it cannot be read."""
    try:
        with _opened(os.fsdecode(source), name) as src:
            return _text(src, b"", read_limit).getvalue()
    except SpecError as e:
        raise e.located(file=name) from None


class _Source:
    """An opened binary file, its size when it is a regular file (else None), and reads that
    turn every failure into SpecError."""

    def __init__(self, file, size: int | None, stdin: bool):
        self.file, self.size, self._stdin = file, size, stdin

    def read(self, n: int) -> bytes:
        """Up to ``n`` bytes (fewer only at the end)."""
        try:
            data = self.file.read(n)
        except OSError as e:
            if e.errno == errno.EBADF and self._stdin:
                raise SpecError("standard input is closed") from None
            raise SpecError(f"cannot be read: {e.strerror or e}") from None
        except ValueError:  # a file object closed in this process
            raise SpecError("standard input is closed" if self._stdin else "is closed") from None
        if data is None:  # a non-blocking descriptor with nothing to read yet
            raise SpecError("cannot be read: it is non-blocking and has no data yet")
        return data.encode() if isinstance(data, str) else data

    def rest(self, head: bytes, cap: int, refusal: str) -> io.BytesIO:
        """``head`` and the rest of the file in memory, read in chunks; SpecError ``refusal`` as
        soon as there are more than ``cap`` bytes."""
        buffer = io.BytesIO()
        buffer.write(head)
        while buffer.tell() <= cap:
            chunk = self.read(min(CHUNK, cap + 1 - buffer.tell()))
            if not chunk:
                break
            buffer.write(chunk)
        if buffer.tell() > cap:
            raise SpecError(refusal)
        buffer.seek(0)
        return buffer

    def rewind(self) -> None:
        try:
            self.file.seek(0)
        except OSError as e:
            raise SpecError(f"cannot be read: {e.strerror or e}") from None


@contextmanager
def _opened(source: str, name: str):
    """``source``, or standard input for ``-`` (left open), as a ``_Source``; SpecError if it
    cannot be opened."""
    if source == "-":
        if sys.stdin is None:
            raise SpecError("standard input is closed", file=name)
        yield _Source(getattr(sys.stdin, "buffer", sys.stdin), None, True)
        return
    try:
        f = open(source, "rb")
    except FileNotFoundError:
        raise SpecError("no such file", file=name) from None
    except IsADirectoryError:
        raise SpecError("is a directory, not a spec file", file=name) from None
    except PermissionError:
        raise SpecError("permission denied", file=name) from None
    except OSError as e:
        raise SpecError(f"cannot be read: {e.strerror or e}", file=name) from None
    except ValueError:  # a NUL in the name
        raise SpecError("is not a valid file name", file=name.replace("\0", "\\0")) from None
    with f:
        try:
            info = os.fstat(f.fileno())
        except OSError as e:
            raise SpecError(f"cannot be read: {e.strerror or e}", file=name) from None
        yield _Source(f, info.st_size if stat.S_ISREG(info.st_mode) else None, False)


def _text(src: _Source, head: bytes, read_limit: int | None) -> io.BytesIO:
    cap = DEFAULT_READ_LIMIT if read_limit is None else read_limit
    what = f"the limit of {cap:,} bytes for a YAML or JSON text (limits.read_bytes in the settings)"
    if src.size is not None and src.size > cap:
        raise SpecError(f"is {src.size:,} bytes, more than {what}")
    return src.rest(head, cap, f"holds more than {what}")


def _npz_too_big(limit: int | None) -> str:
    limit = DEFAULT_LIMIT if limit is None else limit
    return (f"is an NPZ of more than {stream_limit(limit):,} bytes read from a pipe: more than "
            f"arrays within the limit of {limit:,} bytes take with their zip structure "
            "(limits.npz_bytes in the settings)")
