"""The ``nngrad`` command line: parse arguments, call the core, render the result.

Errors are translated here, and only here, into one line on standard error and an exit
status: 2 for bad input or usage, 1 for non-finite results, 130 for Ctrl-C, 70 for a bug,
141 when standard output is closed early (as a shell reports SIGPIPE).
"""

from __future__ import annotations

import os
import sys

import click

from . import __version__
from .errors import NngradError

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
"""


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, epilog=EXAMPLES)
@click.version_option(__version__, "-V", "--version", prog_name="nngrad")
@click.option("--debug", is_flag=True, help="On an internal error, show the traceback.")
def cli(debug: bool) -> None:
    """Gradients of small fully-connected networks, computed and explained.

    Reads a network spec (YAML or NPZ: X, T, layers with W, b and an activation, a loss)
    and runs it forward and backward.
    """


@cli.command(epilog=EXAMPLES)
@click.argument("spec", required=False, metavar="[SPEC]")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="table for people, json for programs.")
@click.option("-o", "--output", metavar="OUT", help="Write the results to OUT (.npz or .json).")
@click.option("--config", "config_path", metavar="FILE",
              help="Settings to lay over configs/default.yaml (display precision, ...).")
def run(spec: str | None, fmt: str, output: str | None, config_path: str | None) -> int:
    """Run SPEC forward and backward; print every Z, A, dA, dZ, dW, dB and the loss.

    SPEC is a YAML or NPZ file, or - for standard input. Without SPEC, a bundled
    example network is run. With -o, the results go to OUT and nothing is printed, unless
    --format is given too. Exit status: 0 done, 1 a result is not finite, 2 bad input.
    """
    from .core import run as run_network
    from .loader import load
    from .render import output_format, save_result

    if output:
        output_format(output)
        _refuse_overwriting_input(spec, output)
    printing = not output or _given(click.get_current_context(), "fmt")
    settings = _settings(config_path) if config_path or (printing and fmt == "table") else None
    path, title = _spec_source(spec)
    net = load(path, name=title)
    res = run_network(net)

    if output:
        save_result(res, output)
    if printing:
        try:
            _print(res, fmt, title, settings)
            sys.stdout.flush()
        except BrokenPipeError:
            raise _PipeClosed from None
    return _report_nonfinite(res, title)


def _spec_source(spec: str | None) -> tuple[str, str]:
    if spec is not None:
        return spec, ("<stdin>" if spec == "-" else spec)
    from .config import bundled

    path = bundled("sample_nets", BUNDLED_EXAMPLE)
    return str(path), f"sample_nets/{BUNDLED_EXAMPLE}"


def _settings(path: str | None) -> dict:
    from .config import load_config

    return load_config(path)


def _given(ctx: click.Context, name: str) -> bool:
    return ctx.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT


def _refuse_overwriting_input(spec: str | None, output: str) -> None:
    if spec and spec != "-" and os.path.exists(output) and os.path.exists(spec) \
            and os.path.samefile(spec, output):
        raise NngradError("is the input spec; choose another output file", file=output)


def _print(res, fmt: str, title: str, settings: dict | None) -> None:
    if fmt == "json":
        from .render import result_document, to_json

        sys.stdout.write(to_json(result_document(res)) + "\n")
        return
    from rich.console import Console

    from .render.table import render_table

    class PipeAwareConsole(Console):
        def on_broken_pipe(self) -> None:  # rich would exit 1; let main() exit 141
            raise BrokenPipeError

    render_table(res, PipeAwareConsole(highlight=False), title=title, **settings["display"])


def _report_nonfinite(res, title: str) -> int:
    bad = res.first_nonfinite()
    if bad is None:
        return 0
    name, index, value = bad
    where = name + "".join(f"[{i}]" for i in index)
    _error(f"{title}: {where} is {value}: the first value that is not finite (the results "
           "overflowed); everything computed after it is unreliable")
    return EXIT_NONFINITE


def _error(message: str) -> None:
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
        _error(str(e))
        status = e.exit_code
    except click.UsageError as e:
        hint = f" (see '{e.ctx.command_path} --help')" if e.ctx else ""
        _error(e.format_message() + hint)
        status = 2
    except click.ClickException as e:
        _error(e.format_message())
        status = e.exit_code
    except (click.Abort, KeyboardInterrupt):
        status = EXIT_INTERRUPTED
    except (_PipeClosed, BrokenPipeError):
        status = _quiet_broken_pipe()
    except Exception as e:  # noqa: BLE001 - the last resort: one line, exit 70
        if debug:
            import traceback

            traceback.print_exc()
        _error(f"internal error ({type(e).__name__}: {e}). This is a bug in nngrad {__version__}: "
               "please report it with the command and spec that caused it"
               + ("" if debug else "; run with --debug for the traceback"))
        status = EXIT_BUG
    sys.exit(status or 0)


def _quiet_broken_pipe() -> int:
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return EXIT_PIPE
