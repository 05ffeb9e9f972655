"""Following an unvalidated spec's shapes through the equations, to the first that does not fit.

``Network`` names a shape mismatch in one line; ``nngrad explain`` also shows the equations that
lead to it: ``network_or_walk`` builds a ``Network`` and, when its shapes do not fit, gives the
``SpecError`` the walk as its ``context``.
"""

from __future__ import annotations

import numpy as np

from ..errors import SpecError
from ..model.network import DTYPES, LAYOUTS, Network
from ..model.spec import named, parameters, regularization
from ..model.values import choice
from ..numerics.activations import ACTIVATIONS, ALIASES
from ..numerics.losses import LOSSES, REDUCTIONS
from .build import Explanation, build
from .skeleton import LayerShape, Skeleton, labels_stand_for_onehot, onehot_shape


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
    """The skeleton of a spec whose names are right, read by the parsers ``Network`` uses; None
    when a name, a parameter or a rank is wrong (``Network`` says which)."""
    try:
        layout = choice(parts.get("layout", "rows"), LAYOUTS, ("layout",), "layout")
        dtype = choice(parts.get("dtype", "float64"), DTYPES, ("dtype",), "dtype")
        loss, options = named(parts["loss"], ("loss",), "loss", LOSSES)
        reduction = options.pop("reduction", None) or parts.get("reduction") or LOSSES[loss].reduction
        loss_params = parameters(loss, LOSSES[loss].params, options, ("loss",), dtype)
        reg = regularization(parts.get("regularization"), dtype)
        layers = []
        for i, layer in enumerate(parts["layers"]):
            path = ("layers", i, "activation")
            act, given = named(layer.activation, path, "activation", ACTIVATIONS, ALIASES)
            params = parameters(act, ACTIVATIONS[act].params, {**given, **layer.params}, path, dtype)
            layers.append(LayerShape(np.shape(layer.W), None if layer.b is None else np.shape(layer.b),
                                     act, params))
    except SpecError:
        return None
    X, T = np.shape(parts["X"]), np.shape(parts["T"])
    if len(X) != 2 or reduction not in REDUCTIONS or any(len(layer.W) != 2 for layer in layers):
        return None
    labels = labels_stand_for_onehot(loss, T)
    if labels:
        T = onehot_shape(layout, layers, T[0])
    return Skeleton(layout, X, T, tuple(layers), loss, reduction, labels, loss_params=loss_params,
                    regularization=reg)
