"""Signals that wait while a file is being put in place.

Python runs a signal handler in the main thread between two bytecodes, wherever that thread is;
blocking the signal there is not enough, since another thread (NumPy's BLAS threads) may take
it. So the command line installs its handlers through ``deferring``: inside a ``held()`` block
(the atomic writer's rename or copy), a signal is noted and its handler runs when the block
ends, so that the block runs whole. If the block fails, its error goes on, and the signal is
kept in ``LATE``, for the exit status once that error is reported.
"""

from __future__ import annotations

from contextlib import contextmanager

_depth = 0
_pending: list = []  # (handler, signum) noted inside a held block
LATE: list = []  # signals noted in a block that failed: the status they give, after its error


def deferring(handler):
    """A signal handler that calls ``handler(signum, frame)`` at once, or, inside ``held()``,
    as soon as the outermost held block ends."""

    def on_signal(signum, frame):
        if _depth:
            _pending.append((handler, signum))
        else:
            handler(signum, frame)

    return on_signal


@contextmanager
def held():
    """A block that the signals installed through ``deferring`` do not interrupt."""
    global _depth
    _depth += 1
    try:
        yield
    except BaseException:  # its error is said first; the signal then only sets the status
        _depth -= 1
        if not _depth and _pending:
            LATE.append(_pending[0][1])
            _pending.clear()
        raise
    _depth -= 1
    if not _depth and _pending:
        handler, signum = _pending[0]
        _pending.clear()
        handler(signum, None)
