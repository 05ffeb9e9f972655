"""The ``nngrad`` command group and the helpers its commands share. Each command lives in its
own module of this package; ``exits.main`` runs the group and turns every outcome into an exit
status.
"""

from __future__ import annotations

import click

from .. import __version__

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
    from ..settings import bundled

    path = bundled("sample_nets", BUNDLED_EXAMPLE)
    return str(path), f"sample_nets/{BUNDLED_EXAMPLE}"


def settings_from(path: str | None) -> dict:
    from ..settings import load_config

    return load_config(path)


def read_limits(settings: dict | None) -> dict:
    """The loaders' keyword arguments for the settings' read limits (None: the defaults)."""
    if settings is None:
        return {}
    limits = settings["limits"]
    return {"limit": limits["npz_bytes"], "read_limit": limits["read_bytes"],
            "memory_limit": limits["memory_bytes"]}


def guard_run_memory(net, settings: dict | None, title: str, **run_options) -> None:
    """Refuse, before any work, a run whose arrays would pass ``limits.memory_bytes``
    (settings None: the default)."""
    from ..numerics.passes import run_bytes
    from ..specs.sources import DEFAULT_MEMORY_LIMIT
    from .options import guard_memory

    limit = settings["limits"]["memory_bytes"] if settings else DEFAULT_MEMORY_LIMIT
    guard_memory(run_bytes(net, **run_options), limit, f"running {title}")


def given(ctx: click.Context, name: str) -> bool:
    return ctx.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT


def check_outputs(outputs: dict, inputs: tuple = ()) -> dict:
    """Every output path checked before any work (``atomic.check_outputs``)."""
    from ..files.atomic import check_outputs as check

    return check(outputs, inputs)


def stdout_console():
    """A rich console on standard output (``streams.GuardedStream``: its faults reach main())."""
    from rich.console import Console

    return Console(highlight=False)


def error_line(message: str) -> None:
    line = " ".join(str(message).split())
    click.echo(f"nngrad: error: {line}", err=True)
