"""The ``nngrad`` command line: parse arguments, call the core, render the result.

Errors are translated in ``app.main``, and only there, into one line on standard error and an
exit status: 2 for bad input or usage, 1 for non-finite results or gradients that disagree,
130 for Ctrl-C, 70 for a bug, 141 when standard output is closed early.
"""

from .app import cli, main
from . import author, explain, run, verify  # noqa: F401  (each module adds its commands to cli)

__all__ = ["cli", "main"]
