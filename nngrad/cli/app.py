"""The ``nngrad`` command group, its shared helpers, and ``main``, which turns every outcome into
an exit status. Each command lives in its own module of this package.

Errors are translated here, and only here, into one line on standard error and an exit
status: 2 for bad input or usage, 1 for non-finite results, 130 for Ctrl-C, 70 for a bug,
141 when standard output is closed early (as a shell reports SIGPIPE).
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager

import click

from .. import __version__
from ..errors import NngradError

BUNDLED_EXAMPLE = "01_relu_mse.yaml"
EXIT_NONFINITE, EXIT_INTERRUPTED, EXIT_BUG, EXIT_PIPE = 1, 130, 70, 141


class _PipeClosed(Exception):
    """Standard output was closed by its reader (``| head``): stop quietly."""


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


@contextmanager
def stdout_guard():
    """Write to standard output and flush; a closed pipe becomes _PipeClosed, which click's own
    EPIPE handling (exit 1) does not catch, so that main() exits 141."""
    try:
        yield
        sys.stdout.flush()
    except BrokenPipeError:
        raise _PipeClosed from None


def spec_source(spec: str | None) -> tuple[str, str]:
    if spec is not None:
        return spec, ("<stdin>" if spec == "-" else spec)
    from ..config import bundled

    path = bundled("sample_nets", BUNDLED_EXAMPLE)
    return str(path), f"sample_nets/{BUNDLED_EXAMPLE}"


def settings_from(path: str | None) -> dict:
    from ..config import load_config

    return load_config(path)


def npz_limit(config_path: str | None) -> int | None:
    """The NPZ size cap of ``--config FILE``; None (the default cap) without one."""
    return settings_from(config_path)["limits"]["npz_bytes"] if config_path else None


def given(ctx: click.Context, name: str) -> bool:
    return ctx.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT


def refuse_overwriting_input(spec: str | None, output: str | None, what: str = "output file",
                             hint: str = "") -> None:
    """NngradError when ``output`` is the file ``spec`` (the same file, by any name)."""
    if spec and output and "-" not in (spec, output) and os.path.exists(output) \
            and os.path.exists(spec) and os.path.samefile(spec, output):
        raise NngradError(f"is the input spec; choose another {what}{hint}", file=output)


def stdout_console():
    """A rich console on standard output that lets a closed pipe reach main() (exit 141)."""
    from rich.console import Console

    class PipeAwareConsole(Console):
        def on_broken_pipe(self) -> None:  # rich would exit 1
            raise BrokenPipeError

    return PipeAwareConsole(highlight=False)


def error_line(message: str) -> None:
    line = " ".join(str(message).split())
    click.echo(f"nngrad: error: {line}", err=True)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI and turn every outcome into an exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    debug = "--debug" in argv or bool(os.environ.get("NNGRAD_DEBUG"))
    try:
        status = cli.main(args=argv, prog_name="nngrad", standalone_mode=False)
        sys.stdout.flush()
    except NngradError as e:
        error_line(str(e))
        status = e.exit_code
    except click.UsageError as e:
        hint = f" (see '{e.ctx.command_path} --help')" if e.ctx else ""
        error_line(e.format_message() + hint)
        status = 2
    except click.ClickException as e:
        error_line(e.format_message())
        status = e.exit_code
    except (click.Abort, KeyboardInterrupt):
        status = EXIT_INTERRUPTED
    except (_PipeClosed, BrokenPipeError):
        status = _quiet_broken_pipe()
    except Exception as e:  # noqa: BLE001 - the last resort: one line, exit 70
        if debug:
            import traceback

            traceback.print_exc()
        error_line(f"internal error ({type(e).__name__}: {e}). This is a bug in nngrad {__version__}: "
               "please report it with the command and spec that caused it"
               + ("" if debug else "; run with --debug for the traceback"))
        status = EXIT_BUG
    sys.exit(status or 0)


def _quiet_broken_pipe() -> int:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return EXIT_PIPE
