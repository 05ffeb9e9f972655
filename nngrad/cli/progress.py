"""A progress bar on standard error for the commands that take long (step, check)."""

from __future__ import annotations

import os
import sys
import time

from .streams import console

EVERY = 0.05  # seconds between two updates of the bar: rich's own take longer than a small step


class ProgressBar:
    """A bar on standard error, drawn only if it is a terminal (not TERM=dumb) and only once
    ``delay`` seconds have passed since the block began; it is gone when the block ends.
    ``update(done, total)`` moves it; ``say(line)`` prints a line above it through the bar's
    own console, so that lines scroll above one bar as pip's and uv's do (with no bar, a plain
    line on standard error)."""

    def __init__(self, description: str, total: int | None = None, delay: float = 0.0):
        self.description, self.total, self.delay = description, total, delay
        self._bar = self._task = None
        self._next = 0.0

    def __enter__(self):
        self._shown_at = time.monotonic() + self.delay
        self._terminal = _is_terminal(sys.stderr)
        if self.delay <= 0:
            self._show()
        return self

    def update(self, done: int, total: int | None = None) -> None:
        self.total = self.total if total is None else total
        if not self._terminal:
            return
        now = time.monotonic()
        if self._bar is None and now >= self._shown_at:
            self._show()
        if self._bar is not None and (now >= self._next or done == self.total):
            self._next = now + EVERY
            self._bar.update(self._task, completed=done, total=self.total)

    def say(self, line: str) -> None:
        if self._bar is None:
            sys.stderr.write(line + "\n")
            sys.stderr.flush()
            return
        from rich.text import Text

        self._bar.console.print(Text(line))

    def _show(self) -> None:
        if not self._terminal:
            return
        from rich.progress import Progress

        self._bar = Progress(console=console(stderr=True), transient=True)
        self._task = self._bar.add_task(self.description, total=self.total)
        self._bar.start()

    def __exit__(self, *exc) -> bool:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
        return False


def _is_terminal(stream) -> bool:
    """``stream`` is a terminal that can draw a bar (a pipe with FORCE_COLOR is not)."""
    try:
        return stream.isatty() and os.environ.get("TERM", "") not in ("dumb", "unknown")
    except (AttributeError, ValueError, OSError):
        return False
