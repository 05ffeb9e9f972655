"""The stages of a layer as a spec writes them: ``batchnorm``/``layernorm`` ``{gamma, beta, eps}``
and ``dropout`` ``{keep, mask | seed, inverted}``, validated into ``Norm`` and ``Dropout``.

Every rule names its place (``layer 2 batchnorm.gamma``): gamma and beta in the shapes a bias may
have, eps > 0, keep in (0, 1], a mask of 0s and 1s in A's shape or a seed (not both), one norm
per layer, and none of them on the output layer. A seed draws the mask as cs231n's
``dropout_forward`` does: ``numpy.random.RandomState(seed).rand(*shape) < keep``, A's shape in the
spec's layout.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from ..errors import SpecError
from ..numerics.stages import NORMS, Dropout, Norm, draw_mask
from .shapes import layout_shape
from .spec import known_keys, number
from .values import array, shown

NORM_KEYS = Norm._fields  # gamma, beta, eps
DROPOUT_KEYS = Dropout._fields  # keep, mask, seed, inverted
OTHER_KEYS = {"p": "keep", "keep_prob": "keep", "keep_ratio": "keep", "dropout_keep_ratio": "keep",
              "epsilon": "eps", "weight": "gamma", "bias": "beta", "scale": "gamma", "shift": "beta",
              "D": "mask", "random_seed": "seed"}
MAX_SEED = 2**32 - 1  # RandomState's range


def stages(spec, i: int, L: int, b_shape: tuple, m: int, n: int, layout: str, dtype: str) -> dict:
    """The validated ``batchnorm``, ``layernorm`` and ``dropout`` of layer i + 1 of L (None where
    absent), whose Z is (m, n) in the rows layout; b_shape: the shape omitted gamma and beta get."""
    path = ("layers", i)
    given = {key: getattr(spec, key) for key in (*NORMS, "dropout") if getattr(spec, key) is not None}
    if given and i == L - 1:
        key = next(iter(given))
        raise SpecError(f"is on the output layer; {', '.join(NORMS)} and dropout belong to hidden "
                        "layers", path=(*path, key))
    if all(k in given for k in NORMS):
        raise SpecError("has both batchnorm and layernorm; a layer takes one norm", path=(*path, NORMS[1]))
    out = {key: None for key in (*NORMS, "dropout")}
    for key in NORMS:
        if key in given:
            out[key] = _norm(given[key], (*path, key), b_shape, n, layout, dtype)
    if "dropout" in given:
        out["dropout"] = _dropout(given["dropout"], (*path, "dropout"), m, n, layout, dtype)
    return out


def _mapping(value, path: tuple, example: str) -> dict:
    if isinstance(value, Norm):
        return value._asdict()
    if isinstance(value, Dropout):  # validated: checked again as it was given
        given = value._asdict()
        given.pop("mask" if value.seed is not None else "seed")  # a seed's mask: checked by _dropout
        return given
    if value is True:
        return {}
    if not isinstance(value, Mapping):
        raise SpecError(f"is {shown(value)}; it must be a mapping such as {example}", path=path)
    for key, v in value.items():
        if v is None:
            raise SpecError("is null; give a value, or leave the key out for its default",
                            path=(*path, key))
    return dict(value)


def _norm(value, path: tuple, b_shape: tuple, n: int, layout: str, dtype: str) -> Norm:
    value = _mapping(value, path, "{gamma: [...], beta: [...], eps: 1.0e-5}")
    known_keys(value, NORM_KEYS, path, OTHER_KEYS)
    allowed = [(n,), layout_shape((1, n), layout)]
    params = {}
    for key, default in (("gamma", 1.0), ("beta", 0.0)):
        if key not in value:
            params[key] = np.full(b_shape, default, dtype=dtype)
            continue
        p = array(value[key], (*path, key), dtype)
        if p.shape not in allowed:
            raise SpecError(f"is {p.shape}; the layer has {n} units, so it must be {allowed[0]} or "
                            f"{allowed[1]} in the {layout} layout, one entry per unit",
                            path=(*path, key))
        params[key] = p
    eps = number(value.get("eps", 1e-5), (*path, "eps"), dtype)
    if not eps > 0:
        raise SpecError(f"is {value['eps']}; eps must be positive (1e-5 is usual)", path=(*path, "eps"))
    return Norm(params["gamma"], params["beta"], eps)


def _dropout(value, path: tuple, m: int, n: int, layout: str, dtype: str) -> Dropout:
    record = value if isinstance(value, Dropout) else None
    value = _mapping(value, path, "{keep: 0.5, seed: 123}")
    known_keys(value, DROPOUT_KEYS, path, OTHER_KEYS)
    if "keep" not in value:
        raise SpecError("has no keep, the probability of keeping a unit (such as keep: 0.5)", path=path)
    keep = number(value["keep"], (*path, "keep"), "float64")
    if not 0 < keep <= 1:
        raise SpecError(f"is {value['keep']}; keep is a probability in (0, 1] (1 keeps every unit)",
                        path=(*path, "keep"))
    inverted = value.get("inverted", True)
    if not isinstance(inverted, (bool, np.bool_)):
        raise SpecError(f"is {shown(inverted)}; it must be true or false", path=(*path, "inverted"))
    shape = layout_shape((m, n), layout)
    seed, mask = value.get("seed"), value.get("mask")
    if seed is not None and mask is not None:
        raise SpecError("gives both a mask and a seed; give one (the seed draws the mask)",
                        path=(*path, "seed"))
    if seed is not None:
        if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) \
                or not 0 <= seed <= MAX_SEED:
            raise SpecError(f"is {shown(seed)}; a seed is an integer from 0 to {MAX_SEED}",
                            path=(*path, "seed"))
        drawn = draw_mask(int(seed), shape, keep).astype(dtype)
        if record is not None and record.seed is not None and not (
                np.shape(record.mask) == shape and np.array_equal(record.mask, drawn)):
            raise SpecError(f"holds a mask that seed {seed} does not draw; give the mask with "
                            "seed=None, or leave it to the seed", path=(*path, "mask"))
        return Dropout(keep, drawn, int(seed), bool(inverted))
    if mask is None:
        raise SpecError("has neither a mask nor a seed; give mask: [[1, 0, ...], ...] in A's shape, "
                        "or seed: N to draw one", path=path)
    mask = array(mask, (*path, "mask"), dtype)
    if mask.shape != shape:
        raise SpecError(f"is {mask.shape}; it must have the shape of the layer's A, {shape} in the "
                        f"{layout} layout", path=(*path, "mask"))
    bad = np.argwhere((mask != 0) & (mask != 1))
    if bad.size:
        at = tuple(int(k) for k in bad[0])
        raise SpecError(f"is {mask[at]}; a mask holds only 0 (dropped) and 1 (kept)",
                        path=(*path, "mask", *at))
    return Dropout(keep, mask, None, bool(inverted))
