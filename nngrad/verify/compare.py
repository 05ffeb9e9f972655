"""Compare gradients a user computed with nngrad's, tensor by tensor, and diagnose the wrong ones."""

from __future__ import annotations

import difflib
from typing import Mapping

import numpy as np

from ..numerics.passes import run
from ..numerics.stages import VALUES
from .chain import KINDS, has, kind_of, order
from .diagnose import diagnose
from ..errors import QUOTED_MAX, NngradError, SpecError, quoted
from ..model.network import Network
from .report import (OK, TOLERANCES, WRONG_SHAPE, WRONG_VALUES, Diagnosis, Report,
                     TensorReport, overflow_warning)

GRADIENT_KINDS = ("dA", "dZ", "dW", "dB")
STAGE_KINDS = tuple(k for k in KINDS if k not in GRADIENT_KINDS)  # dH, dS, dxhat, dgamma, dbeta
STAGE_VALUES = VALUES  # run's other names, passed over
ALIASES = {"dX": "dA0"}  # other names a user may give a gradient


def compare_gradients(net: Network, mine: Mapping, *, rtol: float | None = None,
                      atol: float | None = None, notation: str = "auto") -> Report:
    """Compare ``mine`` (name -> array: any of dWl, dBl, dZl, dAl, and dA0 or dX; for a layer
    with stages, dgammal, dbetal, dHl, dSl and dxhatl) with nngrad's results.

    A tensor agrees when its shape is exactly right and max|mine - right| <= atol + rtol * max|right|;
    rtol and atol default to ``TOLERANCES[net.dtype]``. ``notation`` (see ``readings``): ``ng``
    holds dZ and dA to Andrew Ng's, without the reduction's 1/m; ``standard`` to nngrad's;
    ``auto`` reads Ng's where the numbers show it. A tensor that differs only by the derivative
    taken at a kink (relu'(0) = 1) agrees, with a note. Diagnoses name a mistake only where the
    numbers fit it. Where nngrad's own results overflowed, a warning says from where.
    """
    from .readings import (NOTATIONS, SUMMED, convention_note, convention_reading, ng_factor,
                           ng_note, notation_reading, other_loss)

    if notation not in NOTATIONS:
        raise NngradError(f"unknown notation {notation!r}; expected one of: {', '.join(NOTATIONS)}")
    rtol = TOLERANCES[net.dtype][0] if rtol is None else rtol
    atol = TOLERANCES[net.dtype][1] if atol is None else atol
    if not (rtol >= 0 and atol >= 0):  # nan too
        raise NngradError(f"rtol and atol must be 0 or more, not {rtol!r} and {atol!r}")
    arrays = gradients_of(mine, net)
    res = run(net, input_grad="dA0" in arrays)
    report = Report("compare", settings={"rtol": rtol, "atol": atol})
    if getattr(arrays, "skipped", ()):
        report.warnings.append(skipped_note(arrays.skipped))
    overflowed = res.first_nonfinite()
    if overflowed is not None:
        report.warnings.append(overflow_warning(overflowed))
    agrees = lambda M, R: tensor_report(M, R, rtol, atol).status == OK  # noqa: E731
    right = notation_reading(net, res, arrays, notation, agrees)
    report.settings["notation"] = read = right.pop(None)
    if read == "ng" and ng_note(net):
        report.notes.append(ng_note(net))
    for name in sorted(arrays, key=_backprop_order(res.n_layers)):
        report.tensors[name] = tensor_report(arrays[name], right[name], rtol, atol)
    # as nngrad's notation, for the diagnoses and the other readings
    seen = {n: a / ng_factor(net) if read == "ng" and kind_of(n) in SUMMED else a
            for n, a in arrays.items()}
    wrong = [n for n, t in report.tensors.items() if t.status != OK]
    alt = convention_reading(net, res, "dA0" in arrays) if wrong else None
    if alt is not None:
        fixed = [n for n in wrong if n in alt and agrees(seen[n], alt[n])]
        for n in fixed:
            report.tensors[n] = tensor_report(seen[n], alt[n], rtol, atol)
        if fixed:
            report.notes.append(convention_note(net, fixed))
    report.diagnoses = diagnose(net, res, seen, report.tensors, rtol, atol)
    if not report.agree:
        other = other_loss(net, seen, agrees, run)
        if other is not None:
            first = next(n for n, t in report.tensors.items() if t.status != OK)
            report.diagnoses.insert(0, Diagnosis(
                first, "loss", f"your gradients are exactly those of the loss {other}; the spec "
                f"says {{{net.loss}, reduction: {net.reduction}}}",
                hint="write the loss your code computes into the spec, or change the code"))
    return report


def tensor_report(M: np.ndarray, R: np.ndarray, rtol: float, atol: float) -> TensorReport:
    """ok, wrong_shape or wrong_values for one tensor, with its errors.

    A tensor with a value that is not finite, yours or nngrad's, never agrees (its error is inf),
    and neither does one whose difference passes the float range. max|right| is taken over
    nngrad's finite values. A right value of 0 to within atol (dB before a batchnorm is rounding
    noise), met to within atol, has a relative error of 0: the noise has no scale.
    """
    if M.shape != R.shape:
        return TensorReport(WRONG_SHAPE, shape=M.shape, expected_shape=R.shape)
    finite = np.isfinite(M) & np.isfinite(R)
    with np.errstate(over="ignore"):
        max_abs = float(np.abs(M - R).max()) if finite.all() else np.inf
    scale = float(np.abs(R[np.isfinite(R)]).max(initial=0.0))
    max_rel = max_abs / scale if scale else (0.0 if max_abs == 0 else np.inf)
    if scale <= atol and max_abs <= atol:  # 0 on both sides to within atol (dB before a batchnorm)
        max_rel = 0.0
    status = OK if max_abs <= atol + rtol * scale else WRONG_VALUES
    return TensorReport(status, max_abs, max_rel)


class Skipped(tuple):
    """The keys, as given, that name no gradient of the network, with ``hints``: for some of
    them, the name they may have meant (``W1`` -> dW1), and ``why``: for a stage's gradient of
    a layer without that stage, why (``dgamma2`` -> layer 2 has no batchnorm or layernorm)."""

    hints: dict = {}  # never changed: gradients_of gives each its own
    why: dict = {}


class Gradients(dict):
    """A user's gradients under nngrad's names (name -> float64 array), with ``skipped``: the
    keys that name none (a ``Skipped``; see ``skipped_note``)."""

    skipped: Skipped = Skipped()


SKIPPED_LISTED = 8  # a skipped_note names at most this many keys, then "and N more"
NEAR_CUTOFF = 0.75  # difflib's: dW_1 and W1 are near dW1, X is not near dX, nor dW9 near dW1


def gradients_of(mine: Mapping, net) -> Gradients:
    """``mine``'s gradients as float64 arrays, under nngrad's names, for ``net`` (a Network, or
    its number of layers: then every hidden layer may have stages).

    A key names a gradient without regard to case (``db1``, ``DW2``, ``dx``, ``dGamma1``: dB1,
    dW2, dA0, dgamma1). Zl, Al, the stage values (mul, varl, xhatl, Sl, Hl, maskl), loss,
    loss_data and penalty are passed over, so that the output of ``nngrad run -o`` can be
    compared; any other key that names no gradient is skipped, its value never read, and listed
    in ``.skipped`` (see ``skipped_note``): a stage's gradient of a layer without that stage with
    the reason. A gradient given twice (dW1 and dw1, dX and dA0) is a SpecError, as is a mapping
    that holds no gradient. Given a ``Gradients``, its skipped keys are kept.
    """
    n_layers = net if isinstance(net, int) else len(net.layers)
    layers = range(1, n_layers + 1)
    staged = (lambda l, k: l < n_layers) if isinstance(net, int) else \
        (lambda l, k: has(net.layers[l - 1], k))
    known = [f"{k}{l}" for l in layers for k in GRADIENT_KINDS] + ["dA0"]
    known += [f"{k}{l}" for l in layers for k in STAGE_KINDS if staged(l, k)]
    absent = {f"{k}{l}".lower(): _absent(k, l) for l in layers for k in STAGE_KINDS
              if not staged(l, k)}
    not_gradients = {f"{k}{l}" for l in layers for k in ("Z", "A", *STAGE_VALUES)} | \
        {"loss", "loss_data", "penalty"}
    by_lower = {**{k.lower(): k for k in known}, **{a.lower(): k for a, k in ALIASES.items()}}
    out, given_as = Gradients(), {}
    before = getattr(mine, "skipped", ())
    skipped, hints = list(before), dict(getattr(before, "hints", {}))
    why = dict(getattr(before, "why", {}))
    for given in mine:
        if given in not_gradients:
            continue
        name = by_lower.get(str(given).lower())
        if name is None:
            skipped.append(str(given))
            if str(given).lower() in absent:
                why[str(given)] = absent[str(given).lower()]
                continue
            near = _near(str(given), by_lower, n_layers) if len(skipped) <= SKIPPED_LISTED else ""
            if near:  # only the keys a note lists
                hints[str(given)] = near
            continue
        if name in out:
            raise SpecError(f"names {name}, as {quoted(given_as[name])} does; give each gradient "
                            "once", path=(given,))
        try:
            with np.errstate(over="ignore"):
                a = np.asarray(mine[given], dtype=np.float64)
        except (TypeError, ValueError):
            raise SpecError("must hold numbers", path=(given,)) from None
        except OverflowError:  # a Python int past the float range
            raise SpecError("holds a number too large for float64", path=(given,)) from None
        out[name], given_as[name] = a, given
    out.skipped = Skipped(skipped)
    out.skipped.hints, out.skipped.why = hints, why
    if not out:
        none = "" if not skipped else f": {_listed(skipped, hints, why)} " + (
            "is not a gradient" if len(skipped) == 1 else "are not gradients") + " of this network"
        ls = "l = 1" if n_layers == 1 else f"l = 1..{n_layers}"
        stages = "" if isinstance(net, int) or not any(layer.stages for layer in net.layers) \
            else ", with stages dHl, dSl, dxhatl, dgammal, dbetal,"
        raise SpecError(f"holds no gradients{none}; expected dAl, dZl, dWl or dBl{stages} for "
                        f"{ls}, or dA0 (dX), in any case")
    return out


def _absent(kind: str, l: int) -> str:
    """Why layer l has no gradient ``kind``."""
    return f"layer {l} has no " + ("dropout" if kind == "dH" else "batchnorm or layernorm")


def skipped_note(names, hints: Mapping | None = None) -> str:
    """The one warning line for the keys ``gradients_of`` skipped (``Gradients.skipped``; hints
    default to its ``hints``): ``skipped X, W1 (did you mean dW1?) and cache: they name no
    gradient of this network``."""
    hints = getattr(names, "hints", {}) if hints is None else hints
    why = getattr(names, "why", {})
    return (f"skipped {_listed(names, hints, why)}: " + ("it names" if len(names) == 1 else
                                                        "they name") + " no gradient of this network")


def _listed(names, hints: Mapping, why: Mapping | None = None) -> str:
    """``X, W1 (did you mean dW1?), dH1 (layer 1 has no dropout) and cache``; past
    SKIPPED_LISTED names, ``and N more``."""
    why = why or {}
    items = [(n if n.isidentifier() and len(n) <= QUOTED_MAX else quoted(n))
             + (f" ({why[n]})" if n in why else f" (did you mean {hints[n]}?)" if n in hints else "")
             for n in names[:SKIPPED_LISTED]]
    if len(names) > SKIPPED_LISTED:
        items.append(f"{len(names) - SKIPPED_LISTED:,} more")
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _near(key: str, by_lower: Mapping, n_layers: int) -> str:
    """The gradient a skipped key may mean: dY is dLoss/dY, else the closest name (W1: dW1)."""
    if key.lower() == "dy":
        return f"dA{n_layers}, which is dLoss/dY"
    near = difflib.get_close_matches(key.lower(), list(by_lower), n=1, cutoff=NEAR_CUTOFF)
    return by_lower[near[0]] if near else ""


_backprop_order = order  # layer L first, within a layer as backprop computes them
