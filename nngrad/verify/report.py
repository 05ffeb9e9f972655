"""Reports of ``check`` and ``compare``: per-tensor statuses, diagnoses, and their JSON form.

Statuses: ``ok``, ``wrong_shape``, ``wrong_values``, and for check ``skipped_kink``.
``max_rel_err`` is the largest absolute difference divided by the largest absolute right value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..errors import place_name

OK, WRONG_SHAPE, WRONG_VALUES, SKIPPED_KINK = "ok", "wrong_shape", "wrong_values", "skipped_kink"
AGREEING = (OK, SKIPPED_KINK)

# (rtol, atol) by the spec's dtype; the same as configs/default.yaml's `tolerances`
TOLERANCES = {"float64": (1e-5, 1e-8), "float32": (1e-3, 1e-5)}

# cs231n's bands for the relative error of a gradient check
BANDS = ((1e-7, "good"), (1e-4, "fine near kinks"), (1e-2, "suspicious"), (math.inf, "wrong"))


def band(rel_err: float) -> str:
    """The band of a relative error: good, fine near kinks, suspicious, or wrong."""
    return next(name for limit, name in BANDS if rel_err <= limit) if rel_err == rel_err else "wrong"


@dataclass
class TensorReport:
    """How one gradient fared: its status and errors, or its shape and the shape expected."""

    status: str
    max_abs_err: float | None = None
    max_rel_err: float | None = None
    shape: tuple | None = None
    expected_shape: tuple | None = None
    checked: int | None = None
    skipped: int = 0

    def to_dict(self) -> dict:
        if self.status == WRONG_SHAPE:
            return {"status": self.status, "shape": list(self.shape),
                    "expected_shape": list(self.expected_shape)}
        out = {"status": self.status, "max_abs_err": _num(self.max_abs_err),
               "max_rel_err": _num(self.max_rel_err)}
        if self.checked is not None:
            out.update(band=band(self.max_rel_err), checked=self.checked, skipped=self.skipped)
        return out


@dataclass
class Diagnosis:
    """A mistake the numbers fit: which tensor, what kind, and a message for a person."""

    tensor: str
    kind: str
    message: str
    layer: int | None = None
    factor: float | None = None
    hint: str | None = None

    def to_dict(self) -> dict:
        out = {"tensor": self.tensor, "kind": self.kind, "message": self.message}
        out.update({k: v for k, v in (("layer", self.layer), ("factor", _num(self.factor)),
                                      ("hint", self.hint)) if v is not None})
        return out


@dataclass
class Report:
    """The outcome of ``check`` or ``compare``: ``agree`` is True when every tensor agrees."""

    command: str
    tensors: dict = field(default_factory=dict)
    diagnoses: list = field(default_factory=list)
    worst: list = field(default_factory=list)      # check: (name, index, analytic, numeric, rel)
    skipped: list = field(default_factory=list)    # check: one message per skipped entry
    warnings: list = field(default_factory=list)
    notes: list = field(default_factory=list)      # compare: how the gradients were read
    settings: dict = field(default_factory=dict)

    @property
    def agree(self) -> bool:
        return all(t.status in AGREEING for t in self.tensors.values())

    def to_dict(self) -> dict:
        out = {"agree": self.agree,
               "tensors": {name: t.to_dict() for name, t in self.tensors.items()},
               "diagnoses": [d.to_dict() for d in self.diagnoses]}
        if self.command == "check":
            out["worst"] = [{"tensor": n, "index": list(i), "analytic": _num(a), "numeric": _num(b),
                             "rel_err": _num(r)} for n, i, a, b, r in self.worst]
            out["skipped"] = list(self.skipped)
        out["warnings"] = list(self.warnings)
        if self.command == "compare":
            out["notes"] = list(self.notes)
        out["settings"] = {k: _num(v) if isinstance(v, float) else v
                           for k, v in self.settings.items()}
        return out


def overflow_warning(first: tuple) -> str:
    """The warning for a report whose own analytic results overflowed, from
    ``Result.first_nonfinite()``'s (name, index, value)."""
    name, index, value = first
    return (f"nngrad's own results overflowed: {place_name((name, *index))} is {value}, the "
            "first value that is not finite; every tensor computed after it is unreliable")


def _num(x):
    return None if x is None or not math.isfinite(x) else float(x)
