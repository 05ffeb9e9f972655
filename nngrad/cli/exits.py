"""``main``: the command line run, and every outcome turned into an exit status.

Errors are translated here, and only here, into one line on standard error and an exit
status: 2 for bad input or usage (a MemoryError too), 1 for non-finite results or gradients
that disagree, 130 for Ctrl-C, 143 for SIGTERM and 129 for SIGHUP (temp files removed), 70
for a bug, 141 when standard output is closed early (as a shell reports SIGPIPE). When the
command was given ``--format json``, an error is also a JSON document on standard output
(``render.jsondoc.error_document``: the envelope, ``error``, and an error's ``document``, the
keys its command had ready, as explain's equations up to the one whose shapes do not fit).

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
from ..errors import NngradError, OutputError
from .app import EXIT_BUG, EXIT_INTERRUPTED, EXIT_PIPE, SAMPLE, cli, error_line, spec_source
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
        return _failed(str(e), e.exit_code, argv, e)
    except click.UsageError as e:
        hint = f" (see '{e.ctx.command_path} --help')" if e.ctx else ""
        return _failed(e.format_message() + hint, 2, argv)
    except click.ClickException as e:
        return _failed(e.format_message(), e.exit_code, argv)
    except (click.Abort, KeyboardInterrupt, Terminated) as e:
        _say_written()
        return _signal_status(e)
    except PipeClosed:
        return EXIT_PIPE
    except MemoryError as e:
        return _failed(f"out of memory: {e or 'the memory asked for could not be had'}; make the "
                       "network or the batch smaller", 2, argv)
    except Exception as e:  # noqa: BLE001 - the last resort: one line, exit 70
        if debug:
            import traceback

            traceback.print_exc()
        return _failed(f"internal error ({type(e).__name__}: {e}). This is a bug in nngrad "
                       f"{__version__}: please report it with the command and spec that caused it"
                       + ("" if debug else "; run with --debug for the traceback"), EXIT_BUG, argv)
    finally:
        _known = True


def _failed(line: str, status: int, argv: list, error: NngradError | None = None) -> int:
    """Say the error in one line on standard error, and, when the command was asked for
    ``--format json``, as a JSON document on standard output; return its exit status."""
    error_line(line)
    asked = _json_request(argv)
    if asked is None:
        return status
    try:
        from ..render.jsondoc import error_document, error_entry, to_json

        if error is None:
            entry = error_entry(line, status)
        else:
            entry = error_entry(error.message, status, file=error.file,
                                line=getattr(error, "line", None), place=getattr(error, "place", None))
        text = to_json(error_document(entry, command=asked[0], spec=asked[1],
                                      known=getattr(error, "document", None)))
    except Exception:  # noqa: BLE001 - out of memory again, say: the line has said the error
        return status
    try:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
    except (OutputError, PipeClosed):  # standard output is what failed: the line said so
        pass
    return status


def _json_request(argv: list) -> tuple[str, str | None] | None:
    """(command, spec title) when ``argv`` asks a command for ``--format json``, read as click
    reads it (an option's value that does not parse counts as not given); else None."""
    name = next((a for a in argv if not a.startswith("-")), None)
    if name not in cli.MODULES:
        return None
    try:
        group = click.Context(cli, info_name="nngrad")
        command = cli.get_command(group, name)
        args = argv[argv.index(name) + 1:]
        params = command.make_context(name, _known_options(command.get_params(group), args),
                                      parent=group, resilient_parsing=True).params
        table = "--format=table" in args or ("--format", "table") in zip(args, args[1:])
        if params.get("fmt") != "json" and not (name == "run" and params.get("output") == "-"
                                                 and not table):
            return None  # (run -o - writes the JSON document, unless a table was asked for)
        spec = params.get("spec")
        if spec is None and any(p.name == "spec" and p.required for p in command.params):
            return name, None
        if spec is not None and spec.startswith(SAMPLE):
            return name, spec  # (a bad sample name is the error: its title is as given)
        return name, spec_source(spec)[1]
    except Exception:  # noqa: BLE001 - argv that cannot be read asks for no document
        return None


def _known_options(params: list, args: list) -> list:
    """``args`` without the options that ``params`` do not know (click stops reading at one)."""
    takes = {o: not (p.is_flag or p.count) for p in params if isinstance(p, click.Option)
             for o in (*p.opts, *p.secondary_opts)}
    kept, rest = [], iter(args)
    for a in rest:
        if a == "--":
            return kept + [a, *rest]
        name = a.split("=", 1)[0] if a.startswith("--") else a[:2]
        if a == "-" or not a.startswith("-"):
            kept.append(a)
        elif name in takes:
            kept += [a, next(rest, None)] if takes[name] and name == a else [a]
    return [a for a in kept if a is not None]


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
