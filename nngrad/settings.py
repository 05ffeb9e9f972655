"""Settings from ``configs/default.yaml``, overridden by a user's ``--config FILE``."""

from __future__ import annotations

import math
import os

from .errors import SpecError, quoted

_HERE = os.path.dirname(os.path.realpath(__file__))  # os.path: pathlib costs 5 ms of imports

MAX_INT = 2 ** 62  # the largest whole-number setting
# Settings with a narrower range than "a finite number from 0 to MAX_INT": (low, high), or
# choices. The options that set them for one command (--eps, --directions) take the same ranges.
RANGES = {("display", "precision"): (0, 100), ("display", "edgeitems"): (0, 10 ** 6),
          ("check", "eps"): (1e-300, 1.0), ("check", "directions"): (1, 10_000),
          ("check", "mode"): ("auto", "full", "fast"),
          ("health", "lr"): (1e-300, 1e300), ("health", "gradient_factor"): (1.0, 1e300),
          ("health", "dead_fraction"): (0.0, 1.0), ("health", "saturation"): (0.0, 1.0),
          ("health", "saturated_examples"): (0.0, 1.0), ("health", "saturated_fraction"): (0.0, 1.0),
          ("health", "update_ratio"): (1e-300, 1.0), ("health", "initial_loss_factor"): (1.0, 1e300)}


class ConfigError(SpecError):
    """A settings file is invalid."""


def bundled(folder: str, name: str) -> str:
    """A file shipped with nngrad: ``configs/`` or ``sample_nets/`` (installed, or in a checkout)."""
    for base in (_HERE, os.path.dirname(_HERE)):
        path = os.path.join(base, folder, name)
        if os.path.isfile(path):
            return path
    raise FileNotFoundError(f"{folder}/{name} is missing from this installation of nngrad")


def samples() -> dict:
    """The bundled sample nets by short name (the file's stem without its number), in file order:
    ``{"relu_mse": .../01_relu_mse.yaml, ...}`` (``pathlib.Path``s)."""
    from pathlib import Path

    here = Path(_HERE)
    folder = next((b for b in (here / "sample_nets", here.parent / "sample_nets") if b.is_dir()), None)
    files = sorted(folder.glob("*.yaml")) if folder else []
    return {p.stem.split("_", 1)[-1] if p.stem[:1].isdigit() else p.stem: p for p in files}


def sample(name: str):
    """The bundled sample ``name``: a short name (``mazur``), a file name with or without
    ``.yaml`` (``04_mazur``) or its number (``4``); NngradError, with the nearest names, if none."""
    from .errors import NngradError

    found = samples()
    for short, path in found.items():
        number = path.stem.split("_", 1)[0]
        if name in (short, path.name, path.stem) or (name.isdigit() and number.isdigit()
                                                     and int(name) == int(number)):
            return path
    import difflib

    near = difflib.get_close_matches(name, found, n=1)
    hint = f" (did you mean sample:{near[0]}?)" if near else ""
    raise NngradError(f"no bundled sample of that name{hint}; known: {', '.join(found)} "
                      "(nngrad init --list-samples describes them)", file=f"sample:{name}")


def load_config(path=None) -> dict:
    """The settings: the defaults with ``path``'s values laid over them, checked key by key."""
    settings = _read(bundled("configs", "default.yaml"))
    if path is not None:
        _merge(settings, _read(str(path)), (), str(path))
    return settings


def _read(path: str) -> dict:
    from .specs.sources import read_bytes
    from .specs.yamlread import parse, to_python

    try:
        root = parse(read_bytes(str(path), str(path)), None, rows=False)
        value = {} if root is None else to_python(root)
    except SpecError as e:
        raise ConfigError(e.message, path=e.path, file=str(path), line=e.line) from None
    if not isinstance(value, dict):
        raise ConfigError("must be a mapping of settings", file=str(path))
    return value


def _merge(base: dict, override: dict, path: tuple, file: str) -> None:
    for key, value in override.items():
        here = (*path, key)
        if key not in base:
            raise ConfigError(f"unknown setting; known: {', '.join(map(str, base))}",
                              path=here, file=file)
        if isinstance(base[key], dict):
            if not isinstance(value, dict):
                raise ConfigError("must be a mapping of settings", path=here, file=file)
            _merge(base[key], value, here, file)
        else:
            base[key] = _setting(base[key], value, here, file)


def _setting(default, value, path: tuple, file: str):
    """``value`` if it has the default's type (an int is taken for a float) and lies in the
    setting's range (``RANGES``; else a finite number from 0 to MAX_INT)."""
    allowed = RANGES.get(path[-2:], (0, MAX_INT))
    if isinstance(default, str):
        if value not in allowed:
            raise ConfigError(f"must be one of {', '.join(allowed)}, not {quoted(value)}",
                              path=path, file=file)
        return value
    if isinstance(default, float) and type(value) is int:
        value = float(value) if abs(value) < 1e308 else math.inf
    kind = type(default).__name__
    if type(value) is not type(default):
        raise ConfigError(f"must be a {'whole ' if kind == 'int' else ''}number, not "
                          f"{quoted(value)}", path=path, file=file)
    low, high = allowed
    if not low <= value <= high:  # nan fails too
        raise ConfigError(f"must be a finite number from {low:g} to {high:g}, not "
                          f"{quoted(value)}", path=path, file=file)
    return value
