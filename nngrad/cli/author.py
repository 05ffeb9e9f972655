"""``nngrad init``, ``convert`` and ``step``: make specs, move them between YAML and NPZ, and
watch gradient descent work. Every file is written atomically, never over its own input
unless ``--in-place`` is given, and never over an existing file unless ``--force`` is."""

from __future__ import annotations

import click

from .. import __version__
from ..numerics.activations import ACTIVATIONS
from ..numerics.losses import LOSSES
from .app import SAMPLE, check_outputs, cli, given, read_limits, settings_from, spec_source
from ..numerics.regularization import FORMS
from .options import FILE, NON_NEGATIVE, POSITIVE, SEEDS, Finite, guard_memory


BYTES_PER_NUMBER = {"yaml": 64, "npz": 24}  # init's arrays, and the file's text or bytes, at once


FORCE = click.option("--force", is_flag=True, help="Replace OUT if it exists (else refused).")


def refuse_existing(outputs: dict, force: bool) -> None:
    """OutputError for the first output (``{option: path}``) that exists, unless ``force``: an
    existing file may be a hand-written spec."""
    import os

    from ..errors import OutputError

    for path in outputs.values():
        if not force and path not in (None, "-") and os.path.lexists(path):
            raise OutputError("exists already; give --force to replace it", file=path)


@cli.command("init")
@click.argument("widths", nargs=-1, type=click.IntRange(min=1), metavar="[N0 N1 ... NL]")
@click.option("-o", "--output", default="-", show_default=True, metavar="OUT", type=FILE,
              help="OUT.yaml, OUT.yml or OUT.npz; - writes YAML to standard output.")
@click.option("--sample", metavar="NAME", shell_complete=lambda ctx, param, incomplete: [
                  n for n in (*_sample_names(), "list") if n.startswith(incomplete)],
              help="Write a copy of the bundled sample NAME instead (comments kept; OUT.npz "
                   "converts it). --sample list lists them.")
@click.option("--list-samples", is_flag=True,
              help="List the bundled samples, each with its short name and what it is.")
@FORCE
@click.option("--activation", type=click.Choice(sorted(ACTIVATIONS)), default="relu", metavar="NAME",
              show_default=True, help=f"The hidden layers' activation: {', '.join(sorted(ACTIVATIONS))}.")
@click.option("--output-activation", type=click.Choice(sorted(ACTIVATIONS)), default=None,
              metavar="NAME", help="The output layer's: by default softmax for cross_entropy, "
                                   "sigmoid for bce, identity otherwise.")
@click.option("--loss", type=click.Choice(list(LOSSES)), default="mse", show_default=True)
@click.option("--layout", type=click.Choice(["rows", "columns"]), default="rows", show_default=True)
@click.option("--batch", type=click.IntRange(min=1), default=4, show_default=True,
              help="The number of examples m.")
@click.option("--seed", type=SEEDS, default=0, show_default=True, help="The same seed, the same file.")
@click.option("--init", "init_name", type=click.Choice(["he", "xavier", "normal"]), default="he",
              show_default=True, help="W ~ N(0, 2/n_in), N(0, 2/(n_in + n_out)) or N(0, 1).")
@click.option("--dtype", type=click.Choice(["float64", "float32"]), default="float64",
              show_default=True)
@click.option("--l2", type=NON_NEGATIVE, default=None, metavar="LAMBDA",
              help="Add an L2 penalty of strength LAMBDA (spec key regularization).")
@click.option("--l2-form", type=click.Choice(list(FORMS)), default=None,
              help="half: λ/2 Σ W² (default), full: λ Σ W², half_over_m: λ/(2m) Σ W².")
@click.option("--batchnorm", is_flag=True,
              help="Batch normalisation on every hidden layer's Z (gamma 1, beta 0, eps 1e-5).")
@click.option("--layernorm", is_flag=True,
              help="Layer normalisation on every hidden layer's Z, instead.")
@click.option("--dropout", type=Finite(min=0, max=1, min_open=True), default=None, metavar="KEEP",
              help="Dropout on every hidden layer's output, keeping each unit with probability KEEP.")
@click.option("--dropout-seed", type=SEEDS, default=None, metavar="N",
              help="The seed each dropout mask is drawn from (default: --seed).")
@click.option("--config", "config_path", metavar="FILE", help="Settings over configs/default.yaml.")
def init(widths, output, sample, list_samples, force, activation, output_activation, loss, layout,
         batch, seed, init_name, dtype, l2, l2_form, batchnorm, layernorm, dropout, dropout_seed,
         config_path) -> int:
    """Write a new random spec with layer widths N0 N1 ... NL (at least two), or with --sample
    a copy of a bundled sample.

    The output layer and the targets fit the loss: a softmax and one-hot T for cross_entropy,
    a sigmoid and 0/1 T for bce, class labels for svm, -1/+1 T for hinge, identity and N(0, 1)
    T otherwise. Biases are zeros. An existing OUT is not replaced unless --force is given.
    """
    from ..specs.generate import describe, misfit, output_for, random_spec
    from ..specs.write import spec_format, write_spec

    if list_samples or sample == "list":
        return _samples(click.get_current_context(), widths)
    if sample is not None:
        return _copy_sample(click.get_current_context(), sample, widths, output, force, config_path)
    if len(widths) < 2:
        raise click.BadParameter("give at least two widths: the inputs N0 and the outputs NL "
                                 "(or --sample NAME)", param_hint="'N0 N1 ... NL'")
    if l2_form is not None and l2 is None:
        raise click.BadParameter("needs --l2 LAMBDA, the penalty's strength", param_hint="'--l2-form'")
    if l2 is not None:
        from ..errors import SpecError
        from ..model.spec import regularization

        try:
            regularization({"l2": l2}, dtype)
        except SpecError as e:
            raise click.BadParameter(e.message, param_hint="'--l2'") from None
    if batchnorm and layernorm:
        raise click.UsageError("give --batchnorm or --layernorm, not both: a layer takes one norm")
    norm = "batchnorm" if batchnorm else "layernorm" if layernorm else None
    if dropout_seed is not None and dropout is None:
        raise click.BadParameter("needs --dropout KEEP", param_hint="'--dropout-seed'")
    if (norm or dropout is not None) and len(widths) < 3:
        option = f"--{norm}" if norm else "--dropout"
        raise click.BadParameter("needs a hidden layer (three widths or more): the output layer "
                                 "takes no norm or dropout", param_hint=f"'{option}'")
    dropout_seed = seed if dropout_seed is None else dropout_seed
    check_outputs({"-o": output})
    refuse_existing({"-o": output}, force)
    fmt = spec_format(output)
    output_activation = output_activation or output_for(loss)
    problem = misfit(loss, output_activation)
    if problem:
        raise click.BadParameter(problem, param_hint="'--output-activation'")
    numbers = sum(a * b + b for a, b in zip(widths, widths[1:])) + batch * (widths[0] + widths[-1])
    guard_memory(numbers * BYTES_PER_NUMBER[fmt], settings_from(config_path)["limits"]["memory_bytes"],
                 f"a {'-'.join(map(str, widths))} spec of batch {batch}")
    spec = random_spec(widths, activation=activation, output=output_activation, loss=loss,
                       layout=layout, batch=batch, seed=seed, init=init_name, dtype=dtype,
                       regularization=None if l2 is None else {"l2": l2, "form": l2_form or "half"},
                       norm=norm, dropout=dropout, dropout_seed=dropout_seed)
    command = (f"nngrad init {' '.join(map(str, widths))} --activation {activation} "
               f"--output-activation {output_activation} --loss {loss} --layout {layout} "
               f"--batch {batch} --seed {seed} --init {init_name} --dtype {dtype}"
               + ("" if l2 is None else f" --l2 {l2!r} --l2-form {l2_form or 'half'}")
               + (f" --{norm}" if norm else "")
               + ("" if dropout is None else f" --dropout {dropout!r} --dropout-seed {dropout_seed}"))
    header = [f"Made by nngrad {__version__}: {command}",
              describe(widths, activation=activation, output=output_activation, loss=loss,
                       init=init_name, norm=norm, dropout=dropout)]
    write_spec(spec, output, header)
    return 0


def _sample_names() -> list:
    from ..settings import samples

    return list(samples())


def _samples(ctx, widths) -> int:
    """The bundled samples on standard output: short name, then the file's first comment line."""
    from ..settings import samples

    if widths or any(given(ctx, n) for n in ctx.params if n not in ("widths", "list_samples",
                                                                    "sample")):
        raise click.UsageError("--list-samples takes no widths or other options")
    found = samples()
    width = max(map(len, found), default=0) + 3
    for name, path in found.items():
        first = path.read_text(encoding="utf-8").splitlines()[0]
        about = first.lstrip("# ").split(": ", 1)[-1] if first.startswith("# Sample") else ""
        click.echo(f"{name:<{width}}{about.rstrip('.')}".rstrip())
    return 0


def _copy_sample(ctx, name, widths, output, force, config_path) -> int:
    """The bundled sample ``name`` written to ``output``: its YAML byte for byte, or as NPZ."""
    from ..specs.write import spec_format, write_spec, write_text_or_bytes

    extra = [f"--{n.replace('_', '-')}" for n in ctx.params
             if n not in ("widths", "sample", "output", "force", "config_path") and given(ctx, n)]
    if widths or extra:
        raise click.UsageError(f"--sample copies a bundled spec as it is: give no "
                               f"{'widths' if widths else extra[0]} with it")
    path, title = spec_source(SAMPLE + name.removeprefix(SAMPLE))
    check_outputs({"-o": output})
    refuse_existing({"-o": output}, force)
    if spec_format(output) == "yaml":
        with open(path, encoding="utf-8", newline="") as f:
            write_text_or_bytes(output, f.read())
    else:
        from ..specs.specfile import read_spec

        loaded = read_spec(path, name=title, **read_limits(settings_from(config_path)))
        write_spec(loaded.spec, output, [f"Converted by nngrad {__version__} from {title}"])
    return 0


@cli.command("convert")
@click.argument("source", metavar="IN", type=FILE)
@click.argument("output", metavar="OUT", type=FILE)
@FORCE
@click.option("--config", "config_path", metavar="FILE", help="Settings over configs/default.yaml.")
def convert(source, output, force, config_path) -> int:
    """Convert the spec IN (YAML or NPZ) to OUT, whose extension (.yaml, .yml, .npz) picks the
    format; OUT - writes YAML to standard output.

    Both files give identical results, bit for bit: YAML numbers are written with every digit
    a float64 needs, and NPZ arrays in the spec's dtype. IN may be sample:NAME, a bundled
    sample. An existing OUT is not replaced unless --force is given.
    """
    from ..specs.specfile import read_spec
    from ..specs.write import spec_format, write_spec

    check_outputs({"OUT": output}, (source,))
    refuse_existing({"OUT": output}, force)
    spec_format(output)
    path, title = spec_source(source)
    loaded = read_spec(path, name=title, **read_limits(settings_from(config_path)))
    write_spec(loaded.spec, output, [f"Converted by nngrad {__version__} from {title}"])
    return 0


@cli.command("step")
@click.argument("spec_path", metavar="SPEC", type=FILE)
@click.option("--lr", type=POSITIVE, required=True, help="The learning rate.")
@click.option("--steps", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("-o", "--output", metavar="OUT", type=FILE, help="Where to write the updated spec, "
              "in SPEC's format; - writes a YAML spec to standard output.")
@click.option("--in-place", is_flag=True, help="Write the updated spec over SPEC.")
@click.option("--force", is_flag=True, help="Replace OUT if it exists (else refused; a --history CSV is replaced).")
@click.option("--momentum", type=Finite(min=0, max=1, max_open=True), default=0.0,
              show_default=True, help="v = momentum v + g; p = p - lr v.")
@click.option("--update", type=click.Choice(["all", "weights"]), default="all", show_default=True,
              help="Update every W, b, gamma and beta, or only the weights.")
@click.option("--history", metavar="CSV", type=FILE,
              help="Write the loss curve for steps 0..N: step,loss and each weight's norm "
                   "and its gradient's.")
@click.option("--config", "config_path", metavar="FILE", help="Settings over configs/default.yaml.")
def step(spec_path, lr, steps, output, in_place, force, momentum, update, history,
         config_path) -> int:
    """Run N steps of full-batch gradient descent on SPEC and write the updated spec.

    The loss before and after each step is printed on standard error. A YAML spec keeps
    its comments and layout: only the numbers of W, b, gamma and beta change (a dropout's
    mask or seed stays). Every output is checked before the first step, and written all or
    none; an existing OUT or CSV is not replaced unless --force is given. Exit status: 0
    done, 1 a loss or parameter stopped being finite (nothing is written), 2 bad input.
    """
    from .steps import run_steps

    if in_place and output is not None:
        raise click.UsageError("give either -o OUT or --in-place, not both")
    if not in_place and output is None:
        raise click.UsageError("give -o OUT for the updated spec (or --in-place to overwrite SPEC)")
    if in_place and spec_path == "-":
        raise click.UsageError("--in-place needs a SPEC file, not standard input")
    if in_place and spec_path.startswith(SAMPLE):
        raise click.UsageError(f"--in-place needs a SPEC file of your own, not a bundled sample: "
                               f"copy it first (nngrad init --sample {spec_path[len(SAMPLE):]} "
                               "-o net.yaml)")
    if in_place:
        check_outputs({"--in-place": spec_path, "--history": history})
    else:  # a spec may be hand-written: kept without --force; a history is a result, replaced
        check_outputs({"-o": output, "--history": history}, (spec_path,))
        refuse_existing({"-o": output}, force)
    return run_steps(spec_path, lr=lr, steps=steps, output=spec_path if in_place else output,
                     in_place=in_place, momentum=momentum, update=update, history=history,
                     settings=settings_from(config_path))
