"""Compare gradients a user computed with nngrad's, tensor by tensor, and diagnose the wrong ones."""

from __future__ import annotations

import difflib
from typing import Mapping

import numpy as np

from ..numerics.passes import run
from .diagnose import diagnose
from ..errors import SpecError
from ..model.network import Network
from .report import (OK, TOLERANCES, WRONG_SHAPE, WRONG_VALUES, Report, TensorReport,
                     overflow_warning)

GRADIENT_KINDS = ("dA", "dZ", "dW", "dB")
ALIASES = {"dX": "dA0"}  # other names a user may give a gradient


def compare_gradients(net: Network, mine: Mapping, *, rtol: float | None = None,
                      atol: float | None = None) -> Report:
    """Compare ``mine`` (name -> array: any of dWl, dBl, dZl, dAl, and dA0 or dX) with nngrad's
    results.

    A tensor agrees when its shape is exactly right and max|mine - right| <= atol + rtol * max|right|;
    rtol and atol default to ``TOLERANCES[net.dtype]``. Diagnoses name a mistake only where the
    numbers fit it. Where nngrad's own results overflowed, a warning says from where.
    """
    rtol = TOLERANCES[net.dtype][0] if rtol is None else rtol
    atol = TOLERANCES[net.dtype][1] if atol is None else atol
    arrays = gradients_of(mine, len(net.layers))
    res = run(net, input_grad="dA0" in arrays)
    report = Report("compare", settings={"rtol": rtol, "atol": atol})
    overflowed = res.first_nonfinite()
    if overflowed is not None:
        report.warnings.append(overflow_warning(overflowed))
    for name in sorted(arrays, key=_backprop_order(res.n_layers)):
        report.tensors[name] = tensor_report(arrays[name], res[name], rtol, atol)
    report.diagnoses = diagnose(net, res, arrays, report.tensors, rtol, atol)
    return report


def tensor_report(M: np.ndarray, R: np.ndarray, rtol: float, atol: float) -> TensorReport:
    """ok, wrong_shape or wrong_values for one tensor, with its errors.

    A tensor with a value that is not finite, yours or nngrad's, never agrees (its error is inf),
    and neither does one whose difference passes the float range. max|right| is taken over
    nngrad's finite values.
    """
    if M.shape != R.shape:
        return TensorReport(WRONG_SHAPE, shape=M.shape, expected_shape=R.shape)
    finite = np.isfinite(M) & np.isfinite(R)
    with np.errstate(over="ignore"):
        max_abs = float(np.abs(M - R).max()) if finite.all() else np.inf
    scale = float(np.abs(R[np.isfinite(R)]).max(initial=0.0))
    max_rel = max_abs / scale if scale else (0.0 if max_abs == 0 else np.inf)
    status = OK if max_abs <= atol + rtol * scale else WRONG_VALUES
    return TensorReport(status, max_abs, max_rel)


def gradients_of(mine: Mapping, n_layers: int) -> dict:
    """``mine``'s gradients as float64 arrays, every name checked against a net of n_layers.

    Zl, Al and loss are passed over, so that the output of ``nngrad run -o`` can be compared.
    """
    layers = range(1, n_layers + 1)
    known = [f"{k}{l}" for l in layers for k in GRADIENT_KINDS] + ["dA0"]
    not_gradients = {f"{k}{l}" for l in layers for k in ("Z", "A")} | {"loss", "loss_data", "penalty"}
    out = {}
    for name, value in mine.items():
        if name in not_gradients:
            continue
        given, name = name, ALIASES.get(name, name)
        if name in out:
            raise SpecError(f"is {name} again, under another name; give it once", path=(given,))
        if name not in known:
            names = known + list(ALIASES)
            near = [k for k in names if k.lower() == str(name).lower()] or \
                difflib.get_close_matches(str(name), names, n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            raise SpecError(f"is not a gradient of this network{hint}; it has "
                            f"{', '.join(known)} (or dX)", path=(given,))
        try:
            with np.errstate(over="ignore"):
                a = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            raise SpecError("must hold numbers", path=(given,)) from None
        except OverflowError:  # a Python int past the float range
            raise SpecError("holds a number too large for float64", path=(given,)) from None
        out[name] = a
    if not out:
        raise SpecError(f"holds no gradients; expected any of {', '.join(known)}")
    return out


def _backprop_order(L: int):
    """Sort key: layer L first, and within a layer dA, dZ, dW, dB, as backprop computes them."""
    return lambda name: (L - int(name[2:]), GRADIENT_KINDS.index(name[:2]))
