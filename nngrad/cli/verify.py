"""``nngrad check`` and ``nngrad compare``: gradients verified, and a user's gradients diagnosed."""

from __future__ import annotations

import sys

import click

from .app import (cli, guard_run_memory, read_limits, settings_from, spec_source,
                  stdout_console)
from ..verify import PARTS
from .options import DIRECTIONS, EPS, FILE, NON_NEGATIVE, SEEDS


def _defaults() -> dict:
    """The bundled settings' check defaults and tolerances, for the options' help."""
    from ..settings import load_config

    config = load_config()
    tol = config["tolerances"]
    return {**{key: f"{config['check'][key]:g}" for key in ("eps", "directions")},
            **{key: f"{tol['float64'][key]:g}, or {tol['float32'][key]:g} for a float32 spec"
               for key in ("rtol", "atol")}}


DEFAULTS = _defaults()
CHECK_BAR_AFTER = 0.5  # seconds: a check that takes longer shows a progress bar on a terminal


@cli.command()  # its examples and summary: app.COMMAND_EXAMPLES, app.SUMMARIES
@click.argument("spec", required=False, metavar="[SPEC]", type=FILE)
@click.option("--mode", type=click.Choice(["auto", "full", "fast"]), default=None,
              help="full: every parameter; fast: random directions; auto (default): by size.")
@click.option("--eps", type=EPS, default=None,
              help=f"Step of the central differences; default {DEFAULTS['eps']} "
                   "(setting check.eps).")
@click.option("--rtol", type=NON_NEGATIVE, default=None,
              help=f"Relative tolerance; default {DEFAULTS['rtol']} (setting tolerances).")
@click.option("--atol", type=NON_NEGATIVE, default=None,
              help=f"Absolute tolerance; default {DEFAULTS['atol']} (setting tolerances).")
@click.option("--directions", type=DIRECTIONS, default=None,
              help=f"Fast mode: random directions per tensor; default {DEFAULTS['directions']} "
                   "(setting check.directions).")
@click.option("--seed", type=SEEDS, default=0, show_default=True, help="Seed of the directions.")
@click.option("--part", type=click.Choice(PARTS), default="all",
              show_default=True, help="The whole loss, the loss of the outputs, or the penalty alone.")
@click.option("--input-grad", is_flag=True, help="Also check dA0 = dLoss/dX, perturbing X.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@click.option("--config", "config_path", metavar="FILE", help="Settings over configs/default.yaml.")
def check(spec, mode, eps, rtol, atol, directions, seed, part, input_grad, fmt, config_path) -> int:
    """Check nngrad's analytic gradients of SPEC against central finite differences.

    The numeric side runs in float64. A perturbation that crosses a kink (of an activation or
    a loss, or L1's at a weight of 0) is skipped and listed. Without SPEC, the bundled example
    is checked. A long check shows a progress bar on standard error, if it is a terminal.
    Exit status: 0 agree, 1 disagree, 2 bad input.
    """
    from ..verify.gradcheck import check_gradients
    from ..specs.read import load

    settings = settings_from(config_path)
    path, title = spec_source(spec)
    net = load(path, name=title, **read_limits(settings))
    guard_run_memory(net, settings, title)
    tol, conf = settings["tolerances"][net.dtype], settings["check"]
    from .progress import ProgressBar

    with ProgressBar("checking", delay=CHECK_BAR_AFTER) as bar:
        report = check_gradients(
            net, mode=mode or conf["mode"], eps=conf["eps"] if eps is None else eps,
            rtol=tol["rtol"] if rtol is None else rtol, atol=tol["atol"] if atol is None else atol,
            directions=directions or conf["directions"], full_max_params=conf["full_max_params"],
            worst=conf["worst"], seed=seed, part=part, input_grad=input_grad, progress=bar.update)
    return show_report(report, fmt, title, net)


@cli.command()  # its examples and summary: app.COMMAND_EXAMPLES, app.SUMMARIES
@click.argument("spec", type=FILE)
@click.argument("mine", type=FILE)
@click.option("--rtol", type=NON_NEGATIVE, default=None,
              help=f"Relative tolerance; default {DEFAULTS['rtol']} (setting tolerances).")
@click.option("--atol", type=NON_NEGATIVE, default=None,
              help=f"Absolute tolerance; default {DEFAULTS['atol']} (setting tolerances).")
@click.option("--notation", type=click.Choice(["auto", "standard", "ng"]), default="auto",
              show_default=True,
              help="ng: dZ and dA without the 1/m (Andrew Ng's); standard: as nngrad writes them; "
                   "auto: ng where every dW and dB is right and every dZ, dA is that multiple.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@click.option("--config", "config_path", metavar="FILE", help="Settings over configs/default.yaml.")
def compare(spec, mine, rtol, atol, notation, fmt, config_path) -> int:
    """Compare the gradients in MINE with nngrad's for SPEC, and say what is wrong.

    MINE is an NPZ, YAML or JSON file mapping any of dWl, dBl, dZl, dAl and dA0 (or dX), and
    for a layer with stages dgammal, dbetal, dHl, dSl and dxhatl, in any case, to arrays, as
    your own code computed them; other keys are skipped with a warning. Exit status: 0 agree,
    1 disagree, 2 bad input.
    """
    from ..verify.compare import compare_gradients, gradients_of
    from ..specs.read import load, load_gradients

    settings = settings_from(config_path)
    path, title = spec_source(spec)
    if spec == "-" and mine == "-":
        raise click.UsageError("only one of SPEC and MINE can be read from standard input")
    net = load(path, name=title, **read_limits(settings))
    guard_run_memory(net, settings, title)
    arrays = load_gradients(mine, check=lambda a: gradients_of(a, net),
                            **read_limits(settings))
    tol = settings["tolerances"][net.dtype]
    report = compare_gradients(net, arrays, rtol=tol["rtol"] if rtol is None else rtol,
                               atol=tol["atol"] if atol is None else atol, notation=notation)
    return show_report(report, fmt, title, net)


def show_report(report, fmt: str, title: str, net=None) -> int:
    for warning in report.warnings:
        click.echo(f"nngrad: warning: {warning}", err=True)
    for note in report.notes:
        click.echo(f"nngrad: note: {note}", err=True)
    if fmt == "json":
        from ..render.jsondoc import report_document, to_json

        sys.stdout.write(to_json(report_document(report, net, spec=title)) + "\n")
    else:
        from ..render.report_table import render_report

        render_report(report, stdout_console(), title=title)
    return 0 if report.agree else 1
