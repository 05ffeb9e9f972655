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
from ..numerics.stages import NORMS
from .build import Explanation, build
from .skeleton import LayerShape, Skeleton, StageShape, labels_stand_for_onehot, onehot_shape


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
        X, last = np.shape(parts["X"]), len(parts["layers"]) - 1
        for i, layer in enumerate(parts["layers"]):
            path = ("layers", i, "activation")
            act, given = named(layer.activation, path, "activation", ACTIVATIONS, ALIASES)
            params = parameters(act, ACTIVATIONS[act].params, {**given, **layer.params}, path, dtype)
            b = None if layer.b is None else np.shape(layer.b)
            layers.append(LayerShape(np.shape(layer.W), b, act, params,
                                     () if i == last else _loose_stages(layer, layout, X, b)))
    except SpecError:
        return None
    T = np.shape(parts["T"])
    if len(X) != 2 or reduction not in REDUCTIONS or any(len(layer.W) != 2 for layer in layers):
        return None
    labels = labels_stand_for_onehot(loss, T)
    if labels:
        T = onehot_shape(layout, layers, T[0])
    return Skeleton(layout, X, T, tuple(layers), loss, reduction, labels, loss_params=loss_params,
                    regularization=reg)


def _loose_stages(layer, layout: str, X: tuple, b) -> tuple:
    """The stages of an unvalidated layer as far as the equations need them: shapes as given
    (gamma and beta default to b's), other values as given when they are numbers; a stage that
    is not a mapping (``Network`` says why) counts as its defaults."""
    out = []
    n = np.shape(layer.W)[1 if layout == "rows" else 0]
    for key in (*NORMS, "dropout"):
        value = getattr(layer, key, None)
        if value is None:
            continue
        value = value if isinstance(value, dict) else {}
        if key != "dropout":
            g, beta = (np.shape(value[k]) if value.get(k) is not None else b or (n,) for k in ("gamma", "beta"))
            out.append(StageShape(key, g, beta, _number(value.get("eps"), 1e-5)))
        else:
            seed = value.get("seed") if isinstance(value.get("seed"), int) else None
            out.append(StageShape(key, keep=_number(value.get("keep"), 1.0), seed=seed,
                                  mask=() if value.get("mask") is None else np.shape(value["mask"]),
                                  inverted=value.get("inverted", True) is not False))
    return tuple(out)


def _number(x, default: float) -> float:
    return float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) and x > 0 else default
