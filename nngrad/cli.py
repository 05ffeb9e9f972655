"""The ``nngrad`` command line: parse arguments, call the core, render the result.

Errors are translated here, and only here, into one line on standard error and an exit
status: 2 for bad input or usage, 1 for non-finite results, 130 for Ctrl-C, 70 for a bug,
141 when standard output is closed early (as a shell reports SIGPIPE).
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager

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
  nngrad check net.yaml               # analytic gradients vs finite differences
  nngrad compare net.yaml mine.npz    # your gradients vs nngrad's, diagnosed
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
        with _stdout():
            _print(res, fmt, title, settings)
    return _report_nonfinite(res, title)


@cli.command(epilog=EXAMPLES)
@click.argument("spec")
@click.option("--mode", type=click.Choice(["auto", "full", "fast"]), default=None,
              help="full: every parameter; fast: random directions; auto (default): by size.")
@click.option("--eps", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Step of the central differences (configs: check.eps).")
@click.option("--rtol", type=click.FloatRange(min=0), default=None,
              help="Relative tolerance (configs: tolerances).")
@click.option("--atol", type=click.FloatRange(min=0), default=None,
              help="Absolute tolerance (configs: tolerances).")
@click.option("--directions", type=click.IntRange(min=1), default=None,
              help="Fast mode: random directions per tensor (configs: check.directions).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the directions.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@click.option("--config", "config_path", metavar="FILE", help="Settings over configs/default.yaml.")
def check(spec, mode, eps, rtol, atol, directions, seed, fmt, config_path) -> int:
    """Check nngrad's analytic gradients of SPEC against central finite differences.

    The numeric side runs in float64. A perturbation that crosses a kink (relu, leaky_relu,
    elu at 0; mae at y = t) is skipped and listed. Exit status: 0 agree, 1 disagree, 2 bad input.
    """
    from .gradcheck import check_gradients
    from .loader import load

    settings = _settings(config_path)
    path, title = _spec_source(spec)
    net = load(path, name=title)
    tol, conf = settings["tolerances"][net.dtype], settings["check"]
    report = check_gradients(
        net, mode=mode or conf["mode"], eps=eps or conf["eps"],
        rtol=tol["rtol"] if rtol is None else rtol, atol=tol["atol"] if atol is None else atol,
        directions=directions or conf["directions"], full_max_params=conf["full_max_params"],
        worst=conf["worst"], seed=seed)
    return _show_report(report, fmt, title)


@cli.command(epilog=EXAMPLES)
@click.argument("spec")
@click.argument("mine")
@click.option("--rtol", type=click.FloatRange(min=0), default=None,
              help="Relative tolerance (configs: tolerances).")
@click.option("--atol", type=click.FloatRange(min=0), default=None,
              help="Absolute tolerance (configs: tolerances).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@click.option("--config", "config_path", metavar="FILE", help="Settings over configs/default.yaml.")
def compare(spec, mine, rtol, atol, fmt, config_path) -> int:
    """Compare the gradients in MINE with nngrad's for SPEC, and say what is wrong.

    MINE is an NPZ, YAML or JSON file mapping any of dWl, dBl, dZl, dAl to arrays, as your
    own code computed them. Exit status: 0 agree, 1 disagree, 2 bad input.
    """
    from .compare import compare_gradients, gradients_of
    from .loader import load, load_gradients

    settings = _settings(config_path)
    path, title = _spec_source(spec)
    if spec == "-" and mine == "-":
        raise click.UsageError("only one of SPEC and MINE can be read from standard input")
    net = load(path, name=title)
    arrays = load_gradients(mine, check=lambda a: gradients_of(a, len(net.layers)))
    tol = settings["tolerances"][net.dtype]
    report = compare_gradients(net, arrays, rtol=tol["rtol"] if rtol is None else rtol,
                               atol=tol["atol"] if atol is None else atol)
    return _show_report(report, fmt, title)


def _show_report(report, fmt: str, title: str) -> int:
    for warning in report.warnings:
        click.echo(f"nngrad: warning: {warning}", err=True)
    with _stdout():
        if fmt == "json":
            from .render import to_json

            sys.stdout.write(to_json(report.to_dict()) + "\n")
        else:
            from .render.report_table import render_report

            render_report(report, _console(), title=title)
    return 0 if report.agree else 1


@contextmanager
def _stdout():
    """Write to standard output and flush; a closed pipe becomes _PipeClosed, which click's own
    EPIPE handling (exit 1) does not catch, so that main() exits 141."""
    try:
        yield
        sys.stdout.flush()
    except BrokenPipeError:
        raise _PipeClosed from None


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
    from .render.table import render_table

    render_table(res, _console(), title=title, **settings["display"])


def _console():
    """A rich console on standard output that lets a closed pipe reach main() (exit 141)."""
    from rich.console import Console

    class PipeAwareConsole(Console):
        def on_broken_pipe(self) -> None:  # rich would exit 1
            raise BrokenPipeError

    return PipeAwareConsole(highlight=False)


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
