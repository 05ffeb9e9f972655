"""Option types and checks shared by the commands, applied before any work is done."""

from __future__ import annotations

import math

import click

from ..settings import RANGES
from ..errors import NngradError, size_text

SEEDS = click.IntRange(0, 2 ** 32 - 1)  # what numpy's RandomState takes


class Finite(click.FloatRange):
    """A float range that refuses nan and ±inf (a plain FloatRange lets nan through)."""

    name = "finite number"

    def convert(self, value, param, ctx):
        number = click.FLOAT.convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return super().convert(number, param, ctx)


class FilePath(click.Path):
    """A file argument or option: a shell completes file names for it (and ``sample:`` names).
    Nothing is checked here; the loaders and ``check_outputs`` say what is wrong with a file."""

    name = "file"

    def __init__(self):
        super().__init__(dir_okay=False, allow_dash=True)

    def convert(self, value, param, ctx):
        return click.STRING.convert(value, param, ctx)

    def shell_complete(self, ctx, param, incomplete):
        if incomplete.startswith("sample:"):
            from click.shell_completion import CompletionItem

            from ..settings import samples

            return [CompletionItem(f"sample:{name}") for name in samples()
                    if f"sample:{name}".startswith(incomplete)]
        return super().shell_complete(ctx, param, incomplete)


FILE = FilePath()
POSITIVE = Finite(min=0, min_open=True)
NON_NEGATIVE = Finite(min=0)
EPS = Finite(*RANGES[("check", "eps")])  # an option's range is its setting's
DIRECTIONS = click.IntRange(*RANGES[("check", "directions")])


def guard_memory(needed: int, limit: int, what: str) -> None:
    """NngradError, before any allocation, when ``what`` would need more than ``limit`` bytes."""
    if needed > limit:
        raise NngradError(f"{what} would need about {size_text(needed)} of memory, more than "
                          f"limits.memory_bytes ({size_text(limit)}); make the network or the "
                          "batch smaller, or raise the limit with --config")
