"""Following an unvalidated spec's shapes through the equations, to the first that does not fit.

``Network`` names a shape mismatch in one line; ``nngrad explain`` also shows the equations that
lead to it: ``network_or_walk`` builds a ``Network`` and, when its shapes do not fit, gives the
``SpecError`` the walk as its ``context``.
"""

from __future__ import annotations

import numpy as np

from ..numerics.activations import ACTIVATIONS, ALIASES
from .build import Explanation, LayerShape, Skeleton, build, onehot_shape
from ..errors import SpecError
from ..numerics.losses import LOSSES, REDUCTIONS
from ..model.network import Network


def shape_walk(parts: dict) -> Explanation | None:
    """The equations of an unvalidated spec (``Network``'s arguments) up to the first whose shapes
    do not fit; None when there is no such equation, or names or ranks are wrong."""
    try:
        sk = _loose_skeleton(parts)
    except (ValueError, TypeError, KeyError, AttributeError, IndexError):
        return None
    if sk is None:
        return None
    walk = Explanation(sk, tuple(build(sk)))
    return walk if walk.failure is not None else None


def network_or_walk(**parts) -> Network:
    """``Network(**parts)``; when its shapes do not fit, the SpecError carries the shape walk as
    its ``context``."""
    try:
        return Network(**parts)
    except SpecError as e:
        e.context = shape_walk(parts)
        raise


def _loose_skeleton(parts: dict) -> Skeleton | None:
    layout = parts.get("layout", "rows")
    loss = parts["loss"]
    reduction = parts.get("reduction")
    if isinstance(loss, dict):
        loss, reduction = loss.get("name"), loss.get("reduction", reduction)
    if layout not in ("rows", "columns") or loss not in LOSSES:
        return None
    reduction = reduction or LOSSES[loss].reduction
    X, T = np.shape(parts["X"]), np.shape(parts["T"])
    layers = []
    for layer in parts["layers"]:
        act = layer.activation["name"] if isinstance(layer.activation, dict) else layer.activation
        act = ALIASES.get(act, act)
        W = np.shape(layer.W)
        if act not in ACTIVATIONS or len(W) != 2:
            return None
        alpha = ACTIVATIONS[act].params.get("alpha")
        layers.append(LayerShape(W, None if layer.b is None else np.shape(layer.b), act, alpha))
    if len(X) != 2 or reduction not in REDUCTIONS:
        return None
    labels = loss == "cross_entropy" and len(T) == 1
    if labels:
        T = onehot_shape(layout, layers, T[0])
    return Skeleton(layout, X, T, tuple(layers), loss, reduction, labels)
