"""Atomic file writes: a temp file in the target's folder, fsync, then ``os.replace``."""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager

from .errors import OutputError


@contextmanager
def atomic_write(path, mode: str = "wb"):
    """Open a temp file beside ``path`` for writing; on success it replaces ``path`` whole.

    On any failure the temp file is removed and an existing ``path`` is left byte-identical.
    A new file gets the permissions the umask gives; an existing one keeps its own.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise OutputError("is a directory", file=path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=folder)
    except OSError as e:
        raise OutputError(f"cannot be written: {e.strerror or e}", file=path) from None
    try:
        with os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": "utf-8"})) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _mode_for(path))
        os.replace(tmp, path)
    except BaseException as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(e, OSError):
            raise OutputError(f"cannot be written: {e.strerror or e}", file=path) from None
        raise


def _mode_for(path: str) -> int:
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
