"""The one parser of "a name, or a ``{name: ..., param: ...}`` mapping", and of the spec's options.

Activations and losses are written either way (``relu``, ``{name: leaky_relu, alpha: 0.2}``,
``{name: svm, margin: 2, reduction: sum}``); ``named`` splits them and ``parameters`` checks the
parameters against the record's, so that every reader (the network, explain's shape walk, the NPZ
header check) agrees on what a spec says. ``regularization`` reads the penalty's mapping.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from ..errors import SpecError, quoted
from .values import choice, folded, real, shown, suggestion


def named(value, path: tuple, what: str, table: Mapping, aliases: Mapping = {}) -> tuple[str, dict]:
    """``"relu"`` or ``{"name": "relu", ...}`` -> (the known name, the other keys as given)."""
    if isinstance(value, Mapping):
        if "name" not in value:
            raise SpecError(f"a {what} written as a mapping needs a 'name'", path=path)
        name, options = value["name"], {k: v for k, v in value.items() if k != "name"}
    else:
        name, options = value, {}
    name = aliases.get(name, name) if isinstance(name, str) else name
    if isinstance(name, str) and name in table:
        return name, options
    return choice(name, table, path, what, others=other_names(table, aliases)), options


def other_names(table: Mapping, aliases: Mapping = {}) -> dict:
    """Every other name of a record of ``table`` (its ``aliases``: ``BCELoss`` for bce), and the
    accepted ``aliases``, each mapped to the name it means; for a "did you mean" only."""
    out = {other: name for name, record in table.items() for other in getattr(record, "aliases", ())}
    return {**out, **aliases}


def parameters(name: str, defaults: Mapping, given: Mapping, path: tuple, dtype: str) -> dict:
    """``defaults`` updated by ``given``: each a parameter the record takes, a finite real number
    within the dtype's range, as a float."""
    out = dict(defaults)
    for key, value in given.items():
        where = (*path, key)
        if key not in defaults:
            takes = f"; it takes {', '.join(map(repr, defaults))}" if defaults else ""
            raise SpecError(f"{name} takes no parameter {quoted(key)}{takes}", path=where)
        out[key] = number(value, where, dtype)
    return out


def number(value, where: tuple, dtype: str) -> float:
    """A finite real number within the dtype's range, as a float."""
    if not real(value) or (isinstance(value, (float, np.floating)) and not np.isfinite(value)):
        raise SpecError(f"must be a finite number, not {shown(value)}", path=where)
    size = abs(float(value)) if isinstance(value, np.floating) else abs(value)  # an int: exact
    if size > np.finfo(dtype).max.item():
        raise SpecError(f"is {quoted(value)}, too large for {dtype}", path=where)
    return float(value)


def known_keys(mapping: Mapping, known: tuple, path: tuple, others: Mapping = {}) -> None:
    """SpecError at the first key of ``mapping`` that is not ``known``, with a "did you mean"
    (``suggestion``: ``B1`` -> b1; ``others`` maps other names of a key to it, as Y -> T)."""
    for key in mapping:
        if key not in known:
            unknown_key(key, known, path, others)


def unknown_key(key, known: tuple, path: tuple, others: Mapping = {}, expected: str = ""):
    """Raise the SpecError of ``known_keys`` for ``key``; ``expected`` replaces the list."""
    near = suggestion(str(key), known, others)
    hint = f" (did you mean {near!r}?)" if near else ""
    raise SpecError(f"unknown key {quoted(key)}{hint}; {expected or 'expected ' + ', '.join(known)}",
                    path=(*path, key))


def misnamed(mapping: Mapping, key: str, others: Mapping = {}):
    """The key of ``mapping`` that is ``key`` written another way (``t`` or ``Y`` for T: its case
    and separators, or a name ``others`` gives it), or None; for a missing key's message."""
    names = {folded(key)} | {folded(o) for o, k in others.items() if k == key}
    return next((k for k in mapping if k != key and isinstance(k, str) and folded(k) in names), None)


def regularization(value, dtype: str):
    """The ``regularization`` mapping validated into a ``Regularization`` (None: no penalty)."""
    if value is None:
        return None
    from ..numerics.regularization import FORMS, KEYS, Regularization  # only where there is one

    path = ("regularization",)
    if isinstance(value, Regularization):
        value = value._asdict()  # checked as any other
    if not isinstance(value, Mapping):
        raise SpecError(f"is {shown(value)}; it must be a mapping such as {{l2: 0.05, form: half}}",
                        path=path)
    known_keys(value, KEYS, path)
    strengths = {}
    for key in ("l2", "l1"):
        if key in value:
            strengths[key] = number(value[key], (*path, key), dtype)
            if strengths[key] < 0:
                raise SpecError(f"is {value[key]}; a penalty's strength must be 0 or more",
                                path=(*path, key))
    form = choice(value.get("form", "half"), FORMS, (*path, "form"), "form")
    biases = value.get("biases", False)
    if not isinstance(biases, (bool, np.bool_)):
        raise SpecError(f"is {shown(biases)}; it must be true or false", path=(*path, "biases"))
    return Regularization(form=form, biases=bool(biases), **strengths)
