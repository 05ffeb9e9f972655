"""Diagnose wrong gradients by testing each hypothesis against the numbers.

For a wrong tensor M with right value R, each hypothesis builds the tensor that the mistake
would have produced and checks that M matches it (to the compare tolerance):
- scale: M = c R, with c explained from m (examples), n (outputs) and 2 where it can be;
- sign: c < 0;
- transpose: M = Rᵀ;
- bias_reduction: dB is dZ not summed over the batch, summed over the wrong axis, or reshaped;
- activation_derivative: dZl (or dWl, dBl) = what another activation's derivative gives,
  or one of the record's usual mistakes, or the derivative taken at A instead of Z, or the
  ReLU mask of another layer;
- loss_derivative: dAL (or dZL, dWL, dBL) = what one of the loss record's usual mistakes gives;
- regularization: dWl (dBl) without the penalty's gradient, or with another form's factor;
- earliest_wrong_layer: the first wrong tensor in backprop order (layer L down to 1).
Where several explanations fit equally, the message says so. Every factor is a finite float:
a tensor that is not finite, or a c past the float range, fits no hypothesis. Overflow on the
way is silent (it only rules a hypothesis out), so no NumPy warning escapes.
"""

from __future__ import annotations

import itertools
import math
from collections import ChainMap

import numpy as np

from ..numerics.activations import ACTIVATIONS
from ..numerics.passes import rows
from .report import OK, Diagnosis

KINDS = ("dA", "dZ", "dW", "dB")


def diagnose(net, res, mine: dict, statuses: dict, rtol: float, atol: float) -> list:
    """Diagnoses for every tensor of ``mine`` whose status is not ok."""
    scale_of = lambda M, C: _scale_of(M, C, rtol, atol)  # noqa: E731
    out = []
    with np.errstate(all="ignore"):
        for name, M in mine.items():
            if statuses[name].status == OK:
                continue
            R = res[name]
            found = _penalty(name, M, R, net)
            if not found:  # the penalty's gradient as it should be: test the data part
                g = _penalty_grad(net, name, M, R)
                if g is not None:
                    M, R, res_ = M - g, R - g, ChainMap({name: R - g}, res)
                else:
                    res_ = res
                found = (_transpose(name, M, R, net, scale_of) or _bias(name, M, res_, net, scale_of)
                         or _activation(name, M, res_, net, scale_of)
                         or _loss(name, M, res_, net, scale_of) or _scale(name, M, R, net, scale_of))
            out += found
    return out + _earliest(net, mine, statuses, {d.tensor for d in out})


def _scale_of(M, C, rtol, atol) -> float | None:
    """The finite c != 0 with M = c C to the tolerance (least squares), or None if none fits.

    c = sum(M C) / sum(C C), computed on M and C divided by their largest magnitudes, so that
    neither sum overflows or underflows where c itself is a float. Call under np.errstate.
    """
    if M.shape != C.shape or not (np.isfinite(M).all() and np.isfinite(C).all()):
        return None
    s, t = float(np.abs(M).max(initial=0.0)), float(np.abs(C).max(initial=0.0))
    if not s or not t:
        return None
    u, v = M / s, C / t
    c = s / t * float((u * v).sum()) / float((v * v).sum())
    if not c or not math.isfinite(c):
        return None
    fit = c * C
    if not np.isfinite(fit).all():
        return None
    return c if np.all(np.abs(M - fit) <= atol + rtol * np.abs(fit).max()) else None


def _also_scaled(name: str, c: float, net) -> str:
    """'' when c is 1, else '; besides, NAME is c times the right value: why'."""
    if abs(c - 1) < 1e-9:
        return ""
    return "; besides, " + _scale_text(name, c, net)[1]


def _transpose(name, M, R, net, scale_of) -> list:
    c = scale_of(M.T, R) if M.ndim == 2 and M.shape == R.T.shape else None
    if c is None:
        return []
    l = int(name[2:])
    formula = {"rows": f"A{l - 1}ᵀ · dZ{l}", "columns": f"dZ{l} · A{l - 1}ᵀ"}[net.layout] \
        if name.startswith("dW") else None
    hint = (f"in the {net.layout} layout {name} = {formula.replace('A0', 'X')}, which has the "
            f"shape of W{l}" if formula else f"in the {net.layout} layout {name} is {R.shape}")
    where = f"its rows and columns are swapped (both are {M.shape})" if M.shape == R.shape else \
        f"it is {M.shape} where {R.shape} belongs"
    return [Diagnosis(name, "transpose", f"{name} is the transpose of the right gradient: {where}"
                      + _also_scaled(name, c, net),
                      layer=l, factor=c, hint=hint)]


def _bias(name, M, res, net, scale_of) -> list:
    if not name.startswith("dB"):
        return []
    l = int(name[2:])
    R, dZ = res[name], rows(res[f"dZ{l}"], net.layout)
    hint = f"sum dZ{l} over the examples ({'axis 0' if net.layout == 'rows' else 'axis 1'})"
    c = scale_of(M, res[f"dZ{l}"])
    if c is not None:
        return [Diagnosis(name, "bias_reduction", f"{name} is dZ{l} itself, not summed over the "
                          f"batch: it must have the shape of b{l}, {R.shape}"
                          + _also_scaled(name, c, net), layer=l, factor=c, hint=hint)]
    across = dZ.sum(axis=1)
    c = scale_of(M.reshape(-1), across) if M.size == across.size != R.size else None
    if c is not None:
        return [Diagnosis(name, "bias_reduction", f"{name} is dZ{l} summed over the wrong axis "
                          f"(over the units of each example, not over the examples): it is "
                          f"{M.shape} where {R.shape} belongs" + _also_scaled(name, c, net),
                          layer=l, factor=c, hint=hint)]
    c = scale_of(M.reshape(R.shape), R) if M.shape != R.shape and M.size == R.size else None
    if c is not None:
        return [Diagnosis(name, "bias_reduction", f"{name} has the shape {M.shape}; b{l} is "
                          f"{R.shape}" + ("" if abs(c - 1) < 1e-9 else ", and " +
                                          _scale_text(name, c, net)[1]),
                          layer=l, factor=c, hint="sum with keepdims to match b's shape, or reshape")]
    return []


def _activation(name, M, res, net, scale_of) -> list:
    kind, l = name[:2], int(name[2:])
    if kind == "dA" or M.shape != res[name].shape:
        return []
    layer = net.layers[l - 1]
    layout = net.layout
    dA, Z, A = (rows(res[f"{k}{l}"], layout) for k in ("dA", "Z", "A"))
    A_prev = rows(res[f"A{l - 1}"], layout) if l > 1 else rows(net.X, layout)
    as_tensor = {"dZ": lambda dZ: rows(dZ, layout),
                 "dW": lambda dZ: rows(A_prev.T @ dZ, layout),
                 "dB": lambda dZ: dZ.sum(axis=0).reshape(res[name].shape)}[kind]
    fitting = []
    for label, dZ in _derivative_mistakes(layer, l, dA, Z, A, res, net):
        candidate = as_tensor(dZ)
        c = scale_of(M, candidate)
        if c is not None and scale_of(candidate, res[name]) is None:
            fitting.append((label, c))
    if not fitting:
        return []
    right = f"{layer.activation}' ({ACTIVATIONS[layer.activation].derivative})"
    labels = [label for label, _ in fitting]
    what = labels[0] if len(labels) == 1 else \
        "one of these, which fit equally: " + "; ".join(labels)
    c = fitting[0][1]
    return [Diagnosis(name, "activation_derivative",
                      f"layer {l} uses {what} where {right} belongs: layer {l} is "
                      f"{layer.activation}" + _also_scaled(name, c, net), layer=l, factor=c,
                      hint=f"dZ{l} = dA{l} * {layer.activation}'(Z{l})")]


def _derivative_mistakes(layer, l, dA, Z, A, res, net):
    """(description, the dZ that mistake gives) for the usual activation-derivative mistakes:
    another elementwise activation's derivative, the record's own ``mistakes``, the derivative
    taken at A, another layer's ReLU mask."""
    own = ACTIVATIONS[layer.activation]
    for other, spec in ACTIVATIONS.items():
        if other == layer.activation or not spec.elementwise:
            continue
        label = "no activation derivative" if other == "identity" else \
            f"{other}' ({spec.derivative})"
        yield label, spec.vjp(dA, Z, A, **spec.params)
    for label, vjp in own.mistakes:
        yield label, vjp(dA, Z, A, **layer.params)
    yield (f"{layer.activation}'(A{l}) instead of {layer.activation}'(Z{l})",
           own.vjp(dA, A, own.f(A, **layer.params), **layer.params))
    for k in range(1, len(net.layers) + 1):
        Zk = rows(res[f"Z{k}"], net.layout)
        if k != l and Zk.shape == Z.shape:
            yield f"the ReLU mask of layer {k} (Z{k} > 0) instead of layer {l}'s", dA * (Zk > 0)


def _penalty_grad(net, name: str, M, R):
    """The penalty's gradient of ``name`` when it has one of M's shape, else None."""
    from ..numerics.regularization import penalty_grads

    if net.regularization is None or name[:2] not in ("dW", "dB") or M.shape != R.shape:
        return None
    return penalty_grads(net).get(name)


def _penalty(name, M, R, net) -> list:
    """A dW (dB) whose penalty gradient is missing, has one term only, another form's factor,
    or the wrong sign; the rest of it right."""
    from ..numerics.regularization import FORMS, penalty_grads

    g = _penalty_grad(net, name, M, R)
    if g is None or not np.any(g):
        return []
    reg, m, l = net.regularization, net.batch, int(name[2:])
    g2, g1 = penalty_grads(net, "l2")[name], penalty_grads(net, "l1")[name]
    data = R - g
    l2 = f"the {reg.form} L2 penalty {FORMS[reg.form].words} with λ = {reg.l2:g}"
    cases = [(data, f"{name} lacks the penalty's gradient", "add it")]
    if reg.l2 and reg.l1:
        cases += [(data + g1, f"{name} lacks the L2 term of the penalty's gradient", "add it"),
                  (data + g2, f"{name} lacks the L1 term, {reg.l1:g} sign(W), of the penalty's "
                   "gradient", "add it")]
    if reg.l2:
        cases += [(data + k * g2 + g1, f"{name}'s L2 term is {why} what {l2} gives", "")
                  for k, why in ((2.0, "twice"), (0.5, "half"), (1 / m, f"1/m = 1/{m} of"),
                                 (float(m), f"m = {m} times")) if k != 1]
    cases.append((data - g, f"{name}'s penalty gradient has the wrong sign", ""))
    scale = float(np.abs(R).max()) or 1.0
    hint = ", ".join(f"{form} adds {f.grad_words}" for form, f in FORMS.items())
    for fit, text, what in cases:
        if np.allclose(M, fit, rtol=1e-6, atol=1e-9 * scale):
            return [Diagnosis(name, "regularization", f"{text}: the spec's regularization is "
                              + (l2 if reg.l2 else f"L1 with {reg.l1:g}"), layer=l,
                              hint=(f"{what}; " if what else "") + f"the forms' gradients: {hint}")]
    return []


def _loss(name, M, res, net, scale_of) -> list:
    """dL/dY (and what follows from it in layer L) written with one of the loss record's usual
    mistakes."""
    L, kind = len(net.layers), name[:2]
    if int(name[2:]) != L or kind not in KINDS or M.shape != res[name].shape:
        return []
    from ..numerics.passes import targets
    from ..numerics.losses import LOSSES, reduction_factor

    last, layout = net.layers[-1], net.layout
    Z, A = (rows(res[f"{k}{L}"], layout) for k in ("Z", "A"))
    A_prev = rows(res[f"A{L - 1}"], layout) if L > 1 else rows(net.X, layout)
    T, factor = targets(net, A), reduction_factor(net.reduction, A.shape)
    for label, dterm in LOSSES[net.loss].mistakes:
        dA = factor * dterm(A, T, **net.loss_params)
        dZ = ACTIVATIONS[last.activation].vjp(dA, Z, A, **last.params)
        candidate = {"dA": lambda: rows(dA, layout), "dZ": lambda: rows(dZ, layout),
                     "dW": lambda: rows(A_prev.T @ dZ, layout),
                     "dB": lambda: dZ.sum(axis=0).reshape(res[name].shape)}[kind]()
        c = scale_of(M, candidate)
        if c is not None and scale_of(candidate, res[name]) is None:
            return [Diagnosis(name, "loss_derivative", f"{name} follows from dL/dY = {label}, "
                              f"where {net.loss}'s derivative belongs" + _also_scaled(name, c, net),
                              layer=L, factor=c, hint=LOSSES[net.loss].why)]
    return []


def _scale(name, M, R, net, scale_of) -> list:
    c = scale_of(M, R)
    if c is None or abs(c - 1) < 1e-9:
        return []
    kind, text = _scale_text(name, c, net)
    hint = None
    if name[:2] in ("dZ", "dA") and abs(c - net.batch) < 1e-6 * net.batch:
        hint = ("expected if you apply 1/m only in dW and dB, as in Andrew Ng's notation: "
                "nngrad's dZ and dA are gradients of the averaged loss")
    return [Diagnosis(name, kind, text, layer=int(name[2:]), factor=c, hint=hint)]


def _scale_text(name: str, c: float, net) -> tuple[str, str]:
    """(kind, message) for NAME being c times the right value, with its likely cause."""
    size = f"{abs(c):.6g} times" if abs(c) >= 1 or not math.isfinite(1 / abs(c)) else \
        f"1/{1 / abs(c):.6g} of"
    if c < 0:
        text = f"{name} has the wrong sign" + ("" if abs(abs(c) - 1) < 1e-6 else
                                               f" and is {size} the right value")
    else:
        text = f"{name} is {size} the right value"
    causes = _explain(abs(c), net)
    return ("sign" if c < 0 else "scale"), text + (f": {causes}" if causes else "")


def _explain(c: float, net) -> str:
    """Why a gradient would be c times too large, from m, n = outputs and 2; '' if nothing fits."""
    if not (0 < c < math.inf):
        return ""
    m, n = net.batch, net.widths[-1]
    reasons = {
        ("m", 1): f"the 1/m of the mean over the batch is missing (m = {m})",
        ("m", -1): f"it is divided by m = {m} where the loss does not divide by the batch",
        ("n", 1): f"it is averaged over the m examples, but the loss averages over all "
                  f"m·n = {m * n} elements of Y (n = {n} outputs)",
        ("n", -1): f"it is divided by the n = {n} outputs too; the loss divides by the examples only",
        ("2", 1): "it has a factor of 2 too many",
        ("2", -1): "the 2 from the derivative of the square, 2(y - t), is missing",
    }
    value = {"m": m, "n": n, "2": 2}
    for count in (1, 2, 3):
        matches = []
        for names in itertools.combinations(("m", "n", "2"), count):
            for signs in itertools.product((1, -1), repeat=count):
                f = np.prod([float(value[k]) ** s for k, s in zip(names, signs)])
                if abs(f - c) <= 1e-6 * c and all(value[k] != 1 for k in names):
                    matches.append(" and ".join(reasons[(k, s)] for k, s in zip(names, signs)))
        if matches:
            return matches[0] if len(matches) == 1 else \
                "several explanations fit equally: " + "; or ".join(matches)
    return ""


def _earliest(net, mine: dict, statuses: dict, explained: set) -> list:
    """The first wrong tensor in backprop order, when that helps to know where to look: when
    several layers are wrong, or when only dW and dB were given and nothing else explains it."""
    L = len(net.layers)
    wrong = [(l, k) for l in range(L, 0, -1) for k in KINDS
             if f"{k}{l}" in mine and statuses[f"{k}{l}"].status != OK]
    if not wrong:
        return []
    l, k = wrong[0]
    below = sorted({layer for layer, _ in wrong} - {l}, reverse=True)
    only_params = all(name[:2] in ("dW", "dB") for name in mine)
    if not below and not (only_params and f"{k}{l}" not in explained):
        return []
    after = (f"; {'layers' if len(below) > 1 else 'layer'} {', '.join(map(str, below))} "
             f"{'are' if len(below) > 1 else 'is'} wrong too, possibly as a consequence") \
        if below else ""
    return [Diagnosis(f"{k}{l}", "earliest_wrong_layer",
                      f"the earliest wrong gradient in backprop order is {k}{l}, in layer {l}: "
                      f"look there first{after}", layer=l)]
