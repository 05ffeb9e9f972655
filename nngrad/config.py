"""Settings from ``configs/default.yaml``, overridden by a user's ``--config FILE``."""

from __future__ import annotations

from pathlib import Path

from .errors import SpecError

_HERE = Path(__file__).resolve().parent


class ConfigError(SpecError):
    """A settings file is invalid."""


def bundled(folder: str, name: str) -> Path:
    """A file shipped with nngrad: ``configs/`` or ``sample_nets/`` (installed, or in a checkout)."""
    for base in (_HERE / folder, _HERE.parent / folder):
        if (base / name).is_file():
            return base / name
    raise FileNotFoundError(f"{folder}/{name} is missing from this installation of nngrad")


def load_config(path=None) -> dict:
    """The settings: the defaults with ``path``'s values laid over them, checked key by key."""
    settings = _read(bundled("configs", "default.yaml"))
    if path is not None:
        _merge(settings, _read(Path(path)), (), str(path))
    return settings


def _read(path: Path) -> dict:
    from .loader import read_bytes
    from .yamlread import parse, to_python

    try:
        root = parse(read_bytes(str(path), str(path)), None)
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
    """``value`` if it has the default's type (an int is taken for a float) and is not negative."""
    if isinstance(default, float) and type(value) is int:
        value = float(value)
    if type(value) is not type(default) or (isinstance(value, (int, float)) and value < 0):
        raise ConfigError(f"must be a non-negative {type(default).__name__}, not {value!r}",
                          path=path, file=file)
    return value
