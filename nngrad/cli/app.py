"""The ``nngrad`` command group and the helpers its commands share. Each command lives in its
own module of this package; ``exits.main`` runs the group and turns every outcome into an exit
status.
"""

from __future__ import annotations

import click

from .. import __version__

BUNDLED_EXAMPLE = "01_relu_mse.yaml"
EXIT_NONFINITE, EXIT_INTERRUPTED, EXIT_BUG, EXIT_PIPE = 1, 130, 70, 141


SAMPLE = "sample:"  # a SPEC "sample:NAME" names a bundled sample (settings.sample)

EXAMPLES = """\b
Examples:
  nngrad run                          # a bundled 4-6-6-6-1 ReLU network
  nngrad run net.yaml                 # every Z, A, dZ, dW, dB, with shapes
  nngrad check net.yaml               # analytic vs finite differences
  nngrad compare net.yaml mine.npz    # your gradients vs nngrad's, diagnosed
  nngrad explain net.yaml --layer 2   # layer 2's chain rule, with shapes
  nngrad init 4 6 1 -o new.yaml       # a new random 4-6-1 spec
  nngrad init --list-samples          # the bundled samples, for sample:NAME
  nngrad step net.yaml --lr 0.1 --steps 100 -o trained.yaml
"""

# Each command's own examples, ending its --help (tests/test_help.py runs every line of them,
# in order, in a folder holding net.yaml and mine.npz), and its line in the list of commands.
COMMAND_EXAMPLES = {
    "run": """
  nngrad run                          # a bundled 4-6-6-6-1 ReLU network
  nngrad run net.yaml                 # every Z, A, dZ, dW, dB, with shapes
  nngrad run sample:mazur             # a bundled sample (init --list-samples)
  nngrad run net.yaml --format json   # one JSON document, for scripts
  nngrad run net.yaml -o grads.npz    # save the results (or -o grads.json)
  nngrad run net.yaml --input-grad    # dA0 = dLoss/dX too
  nngrad run - < net.yaml             # read the spec from standard input""",
    "check": """
  nngrad check net.yaml                   # analytic vs finite differences
  nngrad check sample:cs231n_batchnorm    # a bundled sample
  nngrad check net.yaml --part data       # the loss of the outputs alone
  nngrad check net.yaml --mode fast       # random directions, for big nets
  nngrad check net.yaml --input-grad --format json""",
    "compare": """
  nngrad compare net.yaml mine.npz                 # agree, or what is wrong
  nngrad compare net.yaml mine.npz --format json   # for CI and scripts
  nngrad compare net.yaml mine.npz --notation ng   # dZ without the 1/m""",
    "explain": """
  nngrad explain net.yaml                 # every layer's chain rule
  nngrad explain net.yaml --layer 2       # layer 2 alone
  nngrad explain sample:mazur --values    # with the numbers: a worked example
  nngrad explain net.yaml --format markdown > notes.md   # LaTeX, for notes
  nngrad explain net.yaml --error 'shapes (5,3) and (6,3) not aligned'""",
    "init": """
  nngrad init 4 6 1 -o new.yaml                # a random 4-6-1 ReLU net
  nngrad init 784 32 10 --loss cross_entropy --batch 8 -o mnist.npz
  nngrad init 3 5 2 --batchnorm --dropout 0.8 --l2 0.01 -o course.yaml
  nngrad init 4 6 1 --seed 1 -o new.yaml --force   # replace new.yaml
  nngrad init --list-samples                   # the bundled samples
  nngrad init --sample mazur -o mazur.yaml     # a copy of one, to edit""",
    "convert": """
  nngrad convert net.yaml net.npz           # YAML to NPZ, losslessly
  nngrad convert net.npz back.yaml          # and back: the same results
  nngrad convert sample:mazur -             # a bundled sample, on stdout
  nngrad convert back.yaml net.npz --force  # replace net.npz""",
    "health": """
  nngrad health net.yaml                  # a row per layer, then the verdicts
  nngrad health sample:mazur --lr 0.05    # the update ratio at your lr
  nngrad health net.yaml --format json    # for CI: exit 1 if a verdict fires""",
    "graph": """
  nngrad graph net.yaml -o net.svg    # tensors, gradients, backward factors
  nngrad graph net.yaml -o net.html   # the SVG in a page (or -o net.dot)
  nngrad graph sample:mazur --units   # a node per unit, an edge per weight
  nngrad graph net.yaml --against mine.npz -o net.svg   # wrong ones in red""",
    "step": """
  nngrad step net.yaml --lr 0.1 -o stepped.yaml       # one step
  nngrad step net.yaml --lr 0.1 --steps 100 -o trained.yaml --history loss.csv
  nngrad step trained.yaml --lr 0.1 --steps 100 --in-place   # 100 more
  nngrad step sample:mazur --lr 0.5 --update weights -o mazur_1.yaml""",
}
SUMMARIES = {  # at most 65 characters: the list of commands of an 80-column help
    "run": "Run a spec forward and backward: every Z, A, dA, dZ, dW, dB.",
    "check": "Check nngrad's gradients against finite differences.",
    "compare": "Compare your gradients with nngrad's, and say what is wrong.",
    "explain": "Explain every layer's chain rule, each factor with its shape.",
    "init": "Write a new random spec, or copy a bundled sample.",
    "convert": "Convert a spec from YAML to NPZ or back, losslessly.",
    "step": "Run gradient descent on a spec; write the updated spec.",
    "health": "Show per-layer gradient health, with verdicts and fixes.",
    "graph": "Draw the network as SVG, HTML or DOT, gradients and all.",
}
FILE_PARAMS = {"spec", "spec_path", "mine", "source", "output", "config_path", "history"}


class _LazyCommands(click.Group):
    """A group whose commands' modules are imported only when a command is asked for, so that
    ``nngrad run`` does not pay for ``explain``'s imports. Each command gets its examples and
    summary here, and its file arguments complete file names (``options.FILE``)."""

    MODULES = {"run": "run", "check": "verify", "compare": "verify", "explain": "explain",
               "init": "author", "convert": "author", "step": "author", "health": "health",
               "graph": "graph"}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(self.MODULES)

    def get_command(self, ctx: click.Context, name: str):
        if name in self.MODULES and name not in self.commands:
            import importlib

            importlib.import_module(f"{__package__}.{self.MODULES[name]}")
        command = super().get_command(ctx, name)
        if command is not None and name in COMMAND_EXAMPLES:
            from .options import FILE

            command.epilog = "\b\nExamples:" + COMMAND_EXAMPLES[name]
            command.short_help = SUMMARIES[name]
            for param in command.params:
                if param.name in FILE_PARAMS and param.type is click.STRING:
                    param.type = FILE
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The list of commands from ``SUMMARIES``, with no command's module imported (so
        ``nngrad --help`` loads no numpy), each cut at a word to fit a narrow terminal."""
        import textwrap

        names = self.list_commands(ctx)
        limit = max(formatter.width - 6 - max(map(len, names)), 12)
        with formatter.section("Commands"):
            formatter.write_dl([(name, textwrap.shorten(SUMMARIES[name], limit, placeholder="..."))
                                for name in names])

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args and not ctx.resilient_parsing:  # bare nngrad: the help, exit 0 (as git's)
            click.echo(ctx.get_help())
            ctx.exit()
        return super().parse_args(ctx, args)

    def resolve_command(self, ctx: click.Context, args: list[str]):
        name = click.utils.make_str(args[0])
        if not name.startswith("-") and not ctx.resilient_parsing and \
                self.get_command(ctx, name) is None:
            import difflib

            near = difflib.get_close_matches(name, self.list_commands(ctx))
            hint = f" Did you mean {near[0]!r}?" if len(near) == 1 else \
                f" (Possible commands: {', '.join(map(repr, near))})" if near else ""
            raise click.UsageError(f"No such command {name!r}.{hint}", ctx)
        return super().resolve_command(ctx, args)


@click.group(cls=_LazyCommands, context_settings={"help_option_names": ["-h", "--help"]},
             epilog=EXAMPLES)
@click.version_option(__version__, "-V", "--version", prog_name="nngrad")
@click.option("--debug", is_flag=True, help="On an internal error, show the traceback.")
def cli(debug: bool) -> None:
    """Gradients of small fully-connected networks, computed and explained.

    Reads a network spec (YAML or NPZ: X, T, layers with W, b and an activation, a loss),
    runs it forward and backward, checks and explains the gradients. A SPEC may also be
    sample:NAME, a bundled sample (nngrad init --list-samples lists them).

    'nngrad COMMAND --help' shows a command's options and examples. Tab completion for bash:
    eval "$(_NNGRAD_COMPLETE=bash_source nngrad)" (zsh_source, fish_source: see the README).
    """


def spec_source(spec: str | None) -> tuple[str, str]:
    """The path to read for a SPEC argument, and its name in messages: ``-`` is standard input,
    ``sample:NAME`` a bundled sample, None the bundled example."""
    if spec is not None and spec.startswith(SAMPLE):
        from ..settings import sample

        return str(sample(spec[len(SAMPLE):])), spec
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
    from ..numerics.memory import run_bytes
    from ..specs.sources import DEFAULT_MEMORY_LIMIT
    from .options import guard_memory

    limit = settings["limits"]["memory_bytes"] if settings else DEFAULT_MEMORY_LIMIT
    guard_memory(run_bytes(net, **run_options), limit, f"running {title}")


def given(ctx: click.Context, name: str) -> bool:
    return ctx.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT


def check_outputs(outputs: dict, inputs: tuple = ()) -> dict:
    """Every output path checked before any work (``atomic.check_outputs``)."""
    from ..files.atomic import check_outputs as check

    return check(outputs, tuple(spec_source(str(s))[0] if s else s for s in inputs))


def stdout_console():
    """A rich console on standard output by ``streams.console``'s rules: piped with COLUMNS
    unset it never wraps, NO_COLOR leaves no style, no line ends in spaces. It writes through
    ``streams.GuardedStream``, whose faults reach main()."""
    from .streams import console

    return console()


def error_line(message: str) -> None:
    line = " ".join(str(message).split())
    click.echo(f"nngrad: error: {line}", err=True)
