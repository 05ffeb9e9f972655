"""The ``nngrad`` command group, its shared helpers, and ``main``, which turns every outcome into
an exit status. Each command lives in its own module of this package.

Errors are translated here, and only here, into one line on standard error and an exit
status: 2 for bad input or usage (a MemoryError too), 1 for non-finite results, 130 for
Ctrl-C, 143 for SIGTERM and 129 for SIGHUP (temp files removed), 70 for a bug, 141 when
standard output is closed early (as a shell reports SIGPIPE).
"""

from __future__ import annotations

import os
import signal
import sys

import click

from .. import __version__
from ..errors import NngradError
from .streams import PipeClosed, guard_streams, silence_stdout

BUNDLED_EXAMPLE = "01_relu_mse.yaml"
EXIT_NONFINITE, EXIT_INTERRUPTED, EXIT_BUG, EXIT_PIPE = 1, 130, 70, 141


EXAMPLES = """\b
Examples:
  nngrad run                          # a bundled 4-6-6-6-1 ReLU network
  nngrad run net.yaml                 # every Z, A, dA, dZ, dW, dB with its shape
  nngrad run net.npz --format json    # one JSON document, for jq and scripts
  nngrad run net.yaml -o grads.npz    # save the results (or -o grads.json)
  cat net.yaml | nngrad run -         # read the spec from standard input
  nngrad check net.yaml               # analytic gradients vs finite differences
  nngrad compare net.yaml mine.npz    # your gradients vs nngrad's, diagnosed
  nngrad explain net.yaml --layer 3   # layer 3's chain rule, every factor with its shape
  nngrad explain net.yaml --values    # the same with the numbers, as a worked example
  nngrad explain net.yaml --format markdown > notes.md   # LaTeX math for notes
  nngrad init 4 6 1 -o net.yaml       # a new random 4-6-1 spec
  nngrad convert net.yaml net.npz     # YAML to NPZ and back, losslessly
  nngrad step net.yaml --lr 0.1 --steps 100 -o trained.yaml   # gradient descent
"""


class _LazyCommands(click.Group):
    """A group whose commands' modules are imported only when a command is asked for, so that
    ``nngrad run`` does not pay for ``explain``'s imports."""

    MODULES = {"run": "run", "check": "verify", "compare": "verify", "explain": "explain",
               "init": "author", "convert": "author", "step": "author"}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(self.MODULES)

    def get_command(self, ctx: click.Context, name: str):
        if name in self.MODULES and name not in self.commands:
            import importlib

            importlib.import_module(f"{__package__}.{self.MODULES[name]}")
        return super().get_command(ctx, name)


@click.group(cls=_LazyCommands, context_settings={"help_option_names": ["-h", "--help"]},
             epilog=EXAMPLES)
@click.version_option(__version__, "-V", "--version", prog_name="nngrad")
@click.option("--debug", is_flag=True, help="On an internal error, show the traceback.")
def cli(debug: bool) -> None:
    """Gradients of small fully-connected networks, computed and explained.

    Reads a network spec (YAML or NPZ: X, T, layers with W, b and an activation, a loss),
    runs it forward and backward, checks and explains the gradients.
    """


def spec_source(spec: str | None) -> tuple[str, str]:
    if spec is not None:
        return spec, ("<stdin>" if spec == "-" else spec)
    from ..config import bundled

    path = bundled("sample_nets", BUNDLED_EXAMPLE)
    return str(path), f"sample_nets/{BUNDLED_EXAMPLE}"


def settings_from(path: str | None) -> dict:
    from ..config import load_config

    return load_config(path)


def read_limits(settings: dict) -> dict:
    """The loaders' keyword arguments for the settings' read limits."""
    limits = settings["limits"]
    return {"limit": limits["npz_bytes"], "read_limit": limits["read_bytes"]}


def guard_run_memory(net, settings: dict, title: str, **run_options) -> None:
    """Refuse, before any work, a run whose arrays would pass ``limits.memory_bytes``."""
    from ..core import run_bytes
    from .options import guard_memory

    guard_memory(run_bytes(net, **run_options), settings["limits"]["memory_bytes"],
                 f"running {title}")


def given(ctx: click.Context, name: str) -> bool:
    return ctx.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT


def check_outputs(outputs: dict, inputs: tuple = ()) -> dict:
    """Every output path checked before any work (``atomic.check_outputs``)."""
    from ..atomic import check_outputs as check

    return check(outputs, inputs)


def stdout_console():
    """A rich console on standard output (``streams.GuardedStream``: its faults reach main())."""
    from rich.console import Console

    return Console(highlight=False)


def error_line(message: str) -> None:
    line = " ".join(str(message).split())
    click.echo(f"nngrad: error: {line}", err=True)


class Terminated(BaseException):
    """SIGTERM or SIGHUP arrived: stop as for Ctrl-C, with the status a shell gives that signal."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _terminate(signum, frame):
    raise Terminated(signum)


def _exit_now(signum, frame):
    """A signal once the outcome is known: remove temp files and exit with its status."""
    _remove_leftovers()
    os._exit(128 + signum)


def _on_signals(handler, interrupt) -> None:
    from ..signals import deferring

    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), deferring(handler))
    signal.signal(signal.SIGINT, deferring(interrupt))


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI and turn every outcome into an exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    end = argv.index("--") if "--" in argv else len(argv)
    debug = "--debug" in argv[:end] or bool(os.environ.get("NNGRAD_DEBUG"))
    argv = [a for a in argv[:end] if a != "--debug"] + argv[end:]  # --debug goes anywhere
    _on_signals(_terminate, signal.default_int_handler)
    guard_streams()
    try:
        status = _outcome(argv, debug)
    except (Terminated, KeyboardInterrupt) as e:  # while another outcome was being reported
        status = 128 + e.signum if isinstance(e, Terminated) else EXIT_INTERRUPTED
    _on_signals(_exit_now, _exit_now)
    _remove_leftovers()
    if status:
        silence_stdout()  # what is still buffered must not fail again at exit
    sys.exit(status or 0)


def _outcome(argv: list, debug: bool) -> int:
    """Run the command line; every outcome as an exit status, errors as one line."""
    try:
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
        return 128 + e.signum if isinstance(e, Terminated) else EXIT_INTERRUPTED
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


def _say_written() -> None:
    """After a signal: which files were whole before it came (a rerun would repeat them)."""
    written = sys.modules["nngrad.atomic"].WRITTEN if "nngrad.atomic" in sys.modules else []
    if written:
        click.echo(f"nngrad: stopped by a signal after writing {', '.join(written)}", err=True)


def _remove_leftovers() -> None:
    if "nngrad.atomic" in sys.modules:
        for problem in sys.modules["nngrad.atomic"].leftover():
            click.echo(f"nngrad: warning: {problem.lstrip('; ')}", err=True)
