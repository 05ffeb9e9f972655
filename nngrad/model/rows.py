"""A validated network's layers as the passes read them: the rows view, made once per network
(``Network.rows_layers``), and the derivation without validation that descent uses
(``Network.trusted_parameters``)."""

from __future__ import annotations

from functools import partial
from typing import Any, Callable, NamedTuple

from ..numerics.activations import ACTIVATIONS


class RowsLayer(NamedTuple):
    """A validated layer as the passes read it, in the rows layout: ``W`` (n_in, n_out) and ``b``
    ((n_out,) or (1, n_out)) views of the layer's own arrays, ``f(Z)`` and ``vjp(dA, Z, A)`` with
    the activation's parameters bound (f as called under ``np.errstate(all="ignore")``), and the
    ``layer`` itself as ``staged`` (None when it has no stages)."""

    W: Any
    b: Any
    f: Callable
    vjp: Callable
    reads_z: bool
    staged: Any


def rows_view(layers, layout: str) -> tuple:
    """Each validated layer as a ``RowsLayer``, from the records as they are now."""
    out = []
    for layer in layers:
        act, p = ACTIVATIONS[layer.activation], layer.params
        W, b = rows_arrays(layer, layout)
        f = getattr(act.f, "ignoring", act.f)  # the passes ignore floating-point warnings
        out.append(RowsLayer(W, b, partial(f, **p) if p else f,
                             partial(act.vjp, **p) if p else act.vjp, act.reads_z,
                             layer if layer.stages else None))
    return tuple(out)


def with_arrays(view: tuple, layers: list, changed, layout: str) -> tuple:
    """``view`` with the layers numbered in ``changed`` (from 1) reading ``layers``' new arrays:
    the same functions."""
    view = list(view)
    for l in changed:
        W, b = rows_arrays(layers[l - 1], layout)
        _, _, f, vjp, reads_z, staged = view[l - 1]
        view[l - 1] = RowsLayer(W, b, f, vjp, reads_z, staged and layers[l - 1])
    return tuple(view)


def rows_arrays(layer, layout: str) -> tuple:
    """A layer's W and b as the passes read them: (n_in, n_out) and (n_out,) or (1, n_out)."""
    return (layer.W, layer.b) if layout == "rows" else (layer.W.T, layer.b.reshape(-1))


def derived(record, changes: dict):
    """``dataclasses.replace(record, **changes)`` without ``__init__``: for values a trusted path
    made from the record's own validated ones; every field is carried over, no cached property
    (``rows_layers``) is."""
    new = object.__new__(type(record))
    state = new.__dict__  # a frozen dataclass's fields live in __dict__
    state.update(record.__dict__)
    state.pop("rows_layers", None)
    state.update(changes)
    return new
