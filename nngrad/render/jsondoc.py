"""The JSON document of a result, as fixed by the contract's schema.

Numbers keep full precision (``repr`` of a float reads back to the same float64); a
non-finite value is written as ``null``, so the document is always valid JSON.
"""

from __future__ import annotations

import json
import math

import numpy as np


def result_document(res) -> dict:
    """``{"layout", "dtype", "loss": {"name", "reduction", "value", "data", "penalty"},
    "tensors": {name: {...}}}``; ``value`` is the whole loss, ``data`` + ``penalty``."""
    return {
        "layout": res.layout,
        "dtype": res.dtype,
        "loss": {"name": res.loss_name, "reduction": res.reduction, "value": _finite(res.loss),
                 "data": _finite(res.loss_data), "penalty": _finite(res.penalty)},
        "tensors": {name: {"shape": list(a.shape), "data": plain(a)} for name, a in res.items()},
    }


def _finite(x) -> float | None:
    return x if math.isfinite(x) else None


def plain(a: np.ndarray):
    """Nested lists of Python floats, with None where a value is not finite."""
    if np.isfinite(a).all():
        return a.tolist()
    return np.where(np.isfinite(a), a.astype(object), None).tolist()


def to_json(doc: dict) -> str:
    """The document as JSON text; refuses NaN and infinity rather than write invalid JSON."""
    return json.dumps(doc, allow_nan=False)
