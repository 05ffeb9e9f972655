"""``main``: the command line run, and every outcome turned into an exit status.

Errors are translated here, and only here, into one line on standard error and an exit
status: 2 for bad input or usage (a MemoryError too), 1 for non-finite results or gradients
that disagree, 130 for Ctrl-C, 143 for SIGTERM and 129 for SIGHUP (temp files removed), 70
for a bug, 141 when standard output is closed early (as a shell reports SIGPIPE).

One handler takes SIGINT, SIGTERM and SIGHUP from the first line of ``main`` to the last.
Until the outcome is known it raises (``KeyboardInterrupt``, ``Terminated``), so that what is
being written is removed; after, it removes any temp file and exits with the signal's status
at once. Inside a held block (``signals.held``: a file being put in place) it waits for the
block to end.
"""

from __future__ import annotations

import os
import signal
import sys

import click

from .. import __version__
from ..errors import NngradError
from .app import EXIT_BUG, EXIT_INTERRUPTED, EXIT_PIPE, cli, error_line
from .streams import PipeClosed, guard_streams, silence_stdout

_known = False  # the outcome is known: a signal now exits at once


class Terminated(BaseException):
    """SIGTERM or SIGHUP arrived: stop as for Ctrl-C, with the status a shell gives that signal."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _on_signal(signum, frame):
    if _known:
        _remove_leftovers()
        os._exit(128 + signum)
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise Terminated(signum)


def _install_signals() -> None:
    from ..files.signals import deferring

    handler = deferring(_on_signal)
    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), handler)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI and turn every outcome into an exit status."""
    global _known
    _install_signals()
    try:
        status = _outcome(sys.argv[1:] if argv is None else list(argv))
    except (Terminated, KeyboardInterrupt) as e:  # while another outcome was being reported
        status = _signal_status(e)
    finally:
        _known = True
    status = _late_signal(status)
    _remove_leftovers()
    if status:
        silence_stdout()  # what is still buffered must not fail again at exit
    sys.exit(status)


def _late_signal(status: int) -> int:
    """128 + a signal that came while a write failed (its error is said already), else status."""
    late = sys.modules["nngrad.files.signals"].LATE if "nngrad.files.signals" in sys.modules else []
    return 128 + late[0] if late else status


def _signal_status(e: BaseException) -> int:
    return 128 + e.signum if isinstance(e, Terminated) else EXIT_INTERRUPTED


def _outcome(argv: list) -> int:
    """Run the command line; every outcome as an exit status, errors as one line."""
    global _known
    end = argv.index("--") if "--" in argv else len(argv)
    debug = "--debug" in argv[:end] or bool(os.environ.get("NNGRAD_DEBUG"))
    argv = [a for a in argv[:end] if a != "--debug"] + argv[end:]  # --debug goes anywhere
    try:
        guard_streams()
        status = cli.main(args=argv, prog_name="nngrad", standalone_mode=False)
        sys.stdout.flush()
        return status or 0
    except NngradError as e:
        error_line(str(e))
        return e.exit_code
    except click.UsageError as e:
        hint = f" (see '{e.ctx.command_path} --help')" if e.ctx else ""
        error_line(e.format_message() + hint)
        return 2
    except click.ClickException as e:
        error_line(e.format_message())
        return e.exit_code
    except (click.Abort, KeyboardInterrupt, Terminated) as e:
        _say_written()
        return _signal_status(e)
    except PipeClosed:
        return EXIT_PIPE
    except MemoryError as e:
        error_line(f"out of memory: {e or 'the memory asked for could not be had'}; make the "
                   "network or the batch smaller")
        return 2
    except Exception as e:  # noqa: BLE001 - the last resort: one line, exit 70
        if debug:
            import traceback

            traceback.print_exc()
        error_line(f"internal error ({type(e).__name__}: {e}). This is a bug in nngrad {__version__}: "
                   "please report it with the command and spec that caused it"
                   + ("" if debug else "; run with --debug for the traceback"))
        return EXIT_BUG
    finally:
        _known = True


def _say_written() -> None:
    """After a signal: which files were whole before it came (a rerun would repeat them)."""
    written = sys.modules["nngrad.files.atomic"].WRITTEN if "nngrad.files.atomic" in sys.modules else []
    if written:
        click.echo(f"nngrad: stopped by a signal after writing {', '.join(written)}", err=True)


def _remove_leftovers() -> None:
    """Remove temp files a signal left; warn of what could not be removed or was noted."""
    if "nngrad.files.atomic" in sys.modules:
        for problem in sys.modules["nngrad.files.atomic"].leftover():
            click.echo(f"nngrad: warning: {problem.lstrip('; ')}", err=True)
