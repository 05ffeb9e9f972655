"""The ``nngrad`` command line: parse arguments, call the core, render the result.

Errors are translated in ``exits.main``, and only there, into one line on standard error and an
exit status: 2 for bad input or usage, 1 for non-finite results or gradients that disagree,
130 for Ctrl-C, 143 for SIGTERM, 129 for SIGHUP, 70 for a bug, 141 when standard output is
closed early.
"""

from .app import cli  # each command's module adds it to cli when it is first asked for
from .exits import main

__all__ = ["cli", "main"]
