"""A layer's stages in an NPZ spec: ``norm{l}`` (batchnorm or layernorm) with ``gamma{l}``,
``beta{l}`` and ``eps{l}``; ``keep{l}`` with ``mask{l}`` or ``seed{l}``, and ``inverted{l}``."""

from __future__ import annotations

from ..errors import SpecError, quoted
from ..numerics.stages import NORMS, Dropout, Norm

MEMBERS = {"norm": None, **{k: k for k in (*Norm._fields, *Dropout._fields)}}  # member prefix: key


def npz_stages(arrays: dict, l: int) -> dict:
    """Layer l's stages from the NPZ's members, as ``Layer``'s keyword arguments."""
    from .read import _scalar, _string

    given = {key: arrays[f"{p}{l}"] for p, key in MEMBERS.items() if f"{p}{l}" in arrays}
    norm = {k: given[k] if k != "eps" else _scalar(given[k], f"eps{l}")
            for k in ("gamma", "beta", "eps") if k in given}
    drop = {k: given[k] if k == "mask" else _scalar(given[k], f"{k}{l}")
            for k in ("keep", "mask", "seed", "inverted") if k in given}
    out = {}
    if f"norm{l}" in arrays:
        kind = _string(arrays[f"norm{l}"], f"norm{l}")
        if kind not in NORMS:
            raise SpecError(f"is {quoted(kind)}; it must be batchnorm or layernorm", path=(f"norm{l}",))
        out[kind] = norm
    elif norm:
        raise SpecError(f"is given, but there is no norm{l} (batchnorm or layernorm) to take it",
                        path=(f"{next(iter(norm))}{l}",))
    if "keep" in drop:
        out["dropout"] = drop
    elif drop:
        raise SpecError(f"is given, but there is no keep{l}: a dropout needs its keep probability",
                        path=(f"{next(iter(drop))}{l}",))
    return out
