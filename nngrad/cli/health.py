"""``nngrad health``: per-layer gradient health of a spec, with verdicts."""

from __future__ import annotations

import sys

import click

from .app import cli, guard_run_memory, read_limits, settings_from, spec_source, stdout_console
from .options import FILE


@cli.command()  # its examples and summary: app.COMMAND_EXAMPLES, app.SUMMARIES
@click.argument("spec", required=False, metavar="[SPEC]", type=FILE)
@click.option("--lr", type=click.FloatRange(min=0, min_open=True), default=None, metavar="LR",
              help="The learning rate of the update ratio lr·‖dW‖/‖W‖; default 0.001 "
                   "(setting health.lr).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@click.option("--config", "config_path", metavar="FILE", help="Settings over configs/default.yaml.")
def health(spec, lr, fmt, config_path) -> int:
    """Show SPEC's training health: per layer ‖W‖, ‖dW‖, ‖dZ‖, the update ratio, dead and
    saturated units, non-finite entries (and gamma's and beta's with a norm), then verdicts.

    A verdict names a sickness (vanishing or exploding gradients, dead units, saturation, an
    update ratio far from 1e-3 for LR, an initial loss far above chance, values that are not
    finite) with its cause and a fix; the thresholds are the settings under health. Without
    SPEC, the bundled example. Exit status: 0 healthy, 1 a verdict fired, 2 bad input.
    """
    import math

    from ..numerics.passes import run
    from ..specs.read import load
    from ..verify.health import health as health_of

    settings = settings_from(config_path)
    if lr is not None and not math.isfinite(lr):
        raise click.BadParameter("must be a finite number", param_hint="'--lr'")
    path, title = spec_source(spec)
    net = load(path, name=title, **read_limits(settings))
    guard_run_memory(net, settings, title)
    conf = settings["health"]
    h = health_of(net, run(net), conf["lr"] if lr is None else lr, conf)
    if fmt == "json":
        from ..render.health_table import health_document
        from ..render.jsondoc import to_json

        sys.stdout.write(to_json(health_document(h, net, spec=title)) + "\n")
    else:
        from ..render.health_table import render_health

        target = math.log10(conf["update_ratio"])
        render_health(h, stdout_console(), title=title,
                      band=(target - conf["update_band"], target + conf["update_band"]))
    return 0 if h.healthy else 1
