"""Diagnose wrong gradients by testing each hypothesis against the numbers.

For a wrong tensor M with right value R, each hypothesis builds the tensor that the mistake
would have produced and checks that M matches it (to the compare tolerance):
- scale: M = c R, with c explained from m (examples), n (outputs) and 2 where the spec's loss
  and reduction make that cause possible; a factor as the fraction it is (5/6);
- sign: c < 0;
- transpose: M = Rᵀ (where Rᵀ differs from R), or dA_l = dZ_{l+1} W_{l+1} without the ᵀ in a
  square layer;
- bias_reduction: dB is dZ not summed over the batch, summed over the wrong axis, or reshaped;
- activation_derivative: dZl (or dWl, dBl) = what another activation's derivative of Zl gives,
  or one of the record's usual mistakes, or the derivative taken at A instead of Z, or the
  ReLU mask of another layer;
- loss_derivative: dAL (or dZL, dWL, dBL) = what one of the loss record's usual mistakes gives;
- regularization: dWl (dBl) without the penalty's gradient, or with another form's factor;
- earliest_wrong_layer: the first wrong tensor in backprop order (layer L down to 1), and "as a
  consequence" only for lower layers whose wrong tensors follow from it by the right rules.
A tensor of one entry is c times the right one for any c: only c = 1 counts for it. Diagnoses
come in backprop order. Where several explanations fit equally, the message says so. Every factor is a finite float:
a tensor that is not finite, or a c past the float range, fits no hypothesis. Overflow on the
way is silent (it only rules a hypothesis out), so no NumPy warning escapes.
"""

from __future__ import annotations

import math
from collections import ChainMap

import numpy as np

from ..model.shapes import rows
from ..numerics.activations import ACTIVATIONS
from . import mistakes
from .report import OK, Diagnosis

KINDS = ("dA", "dZ", "dW", "dB")
HYPOTHESES = (mistakes.transpose, mistakes.untransposed_weight, mistakes.bias,
              mistakes.activation, mistakes.loss, mistakes.scale)


class Context:
    """What every hypothesis reads: the network, the right results, the fit at the tolerance."""

    def __init__(self, net, res, rtol: float, atol: float):
        self.net, self.res, self.rtol, self.atol = net, res, rtol, atol

    def fit(self, M, C) -> float | None:
        return _scale_of(M, C, self.rtol, self.atol)

    def as_tensor(self, name: str, d, from_dA: bool = False):
        """The tensor ``name`` (dA, dZ, dW or dB of its layer l, in the spec's layout) that a
        mistaken dZ_l gives, or a mistaken dA_l (``from_dA``) through the right derivative."""
        net, kind, l = self.net, name[:2], int(name[2:])
        if from_dA:
            if kind == "dA":
                return rows(d, net.layout)
            layer = net.layers[l - 1]
            Z, A = (rows(self.res[f"{k}{l}"], net.layout) for k in ("Z", "A"))
            d = ACTIVATIONS[layer.activation].vjp(d, Z, A, **layer.params)
        A_prev = rows(self.res[f"A{l - 1}"], net.layout) if l > 1 else rows(net.X, net.layout)
        return {"dA": lambda: None, "dZ": lambda: rows(d, net.layout),
                "dW": lambda: rows(A_prev.T @ d, net.layout),
                "dB": lambda: d.sum(axis=0).reshape(self.res[name].shape)}[kind]()


def diagnose(net, res, mine: dict, statuses: dict, rtol: float, atol: float) -> list:
    """Diagnoses for every tensor of ``mine`` whose status is not ok, in backprop order. A tensor
    below the earliest wrong layer that is just what the user's own dZ of that layer gives, by
    the right rules, gets none of its own: the earliest wrong layer's diagnosis names it."""
    out = []
    with np.errstate(all="ignore"):
        base = Context(net, res, rtol, atol)
        top = max((int(n[2:]) for n in mine if statuses[n].status != OK), default=0)
        follows = _carried(base, mine, top) if top else {}
        for name in sorted(mine, key=backprop_order(len(net.layers))):
            if statuses[name].status == OK:
                continue
            if name in follows and _same(base, mine[name], follows[name]):
                continue  # a consequence of layer top's mistake
            M, R = mine[name], res[name]
            found = _penalty(name, M, R, net)
            if not found:  # the penalty's gradient as it should be: test the data part
                g = _penalty_grad(net, name, M, R)
                if g is not None:
                    M, R, ctx = M - g, R - g, Context(net, ChainMap({name: R - g}, res), rtol, atol)
                else:
                    ctx = base
                found = next((d for h in HYPOTHESES if (d := h(ctx, name, M, R))), [])
                if g is not None and np.any(g):
                    for d in found:  # said of the data part: the penalty's term is right
                        d.message = f"{name}'s penalty term is right, and its data part: {d.message}"
            out += found
        return out + _earliest(base, mine, statuses, {d.tensor for d in out}, follows)


def backprop_order(L: int):
    """Sort key: layer L first, and within a layer dA, dZ, dW, dB, as backprop computes them;
    dA0 last."""
    return lambda name: (L - int(name[2:]), KINDS.index(name[:2]))


def _scale_of(M, C, rtol, atol) -> float | None:
    """The finite c != 0 with M = c C to the tolerance (least squares), or None if none fits.

    c = sum(M C) / sum(C C), computed on M and C divided by their largest magnitudes, so that
    neither sum overflows or underflows where c itself is a float. Call under np.errstate.
    """
    if M.shape != C.shape or not (np.isfinite(M).all() and np.isfinite(C).all()):
        return None
    if np.count_nonzero(C) < 2:  # any c fits one number: only M = C tells anything
        return 1.0 if np.all(np.abs(M - C) <= atol + rtol * np.abs(C).max()) and C.any() else None
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

    reg = net.regularization
    if reg is not None and name.startswith("dB") and not reg.biases and M.shape == R.shape:
        gb = reg.grad(net.layers[int(name[2:]) - 1].b, net.batch).reshape(R.shape)
        if np.any(gb) and np.allclose(M, R + gb, rtol=1e-6, atol=1e-9 * (float(np.abs(R).max()) or 1.0)):
            return [Diagnosis(name, "regularization", f"{name} carries the penalty's gradient of "
                              f"b{name[2:]}, but the spec's regularization leaves the biases out "
                              "(biases: false)", layer=int(name[2:]),
                              hint="leave the biases out of the penalty, or set biases: true")]
    g = _penalty_grad(net, name, M, R)
    if g is None or not np.any(g):
        return []
    m, l = net.batch, int(name[2:])
    g2, g1 = penalty_grads(net, "l2")[name], penalty_grads(net, "l1")[name]
    data = R - g
    l2 = f"{reg.form} L2 penalty {FORMS[reg.form].words} with λ = {reg.l2:g}"
    cases = [(data, f"{name} lacks the penalty's gradient", "add it")]
    if reg.l2 and reg.l1:
        cases += [(data + g1, f"{name} lacks the L2 term of the penalty's gradient", "add it"),
                  (data + g2, f"{name} lacks the L1 term, {reg.l1:g} sign(W), of the penalty's "
                   "gradient", "add it")]
    if reg.l2:
        cases += [(data + k * g2 + g1, f"{name}'s L2 term is {why} what the spec's {l2} gives", "")
                  for k, why in ((2.0, "twice"), (0.5, "half"), (1 / m, f"1/m = 1/{m} of"),
                                 (float(m), f"m = {m} times")) if k != 1]
    cases.append((data - g, f"{name}'s penalty gradient has the wrong sign", ""))
    scale = float(np.abs(R).max()) or 1.0
    hint = ", ".join(f"{form} adds {f.grad_words}" for form, f in FORMS.items())
    spec = f"the {l2}" if reg.l2 else f"L1 with {reg.l1:g}"
    for fit, text, what in cases:
        if np.allclose(M, fit, rtol=1e-6, atol=1e-9 * scale):
            said = text if "the spec's" in text else f"{text}: the spec's regularization is {spec}"
            return [Diagnosis(name, "regularization", said, layer=l,
                              hint=(f"{what}; " if what else "") + f"the forms' gradients: {hint}")]
    c = _scale_of(M, data, 1e-6, 1e-9 * scale) if np.any(data) else None
    if c is not None and abs(c - 1) > 1e-9:  # no penalty, and the data part scaled
        _, why = mistakes.scale_text(Context(net, None, 0, 0), "its data part", c)
        return [Diagnosis(name, "regularization", f"{name} lacks the penalty's gradient ({spec}); "
                          f"besides, {why}", layer=l, factor=c,
                          hint=f"add it; the forms' gradients: {hint}")]
    return []


def _earliest(ctx, mine: dict, statuses: dict, explained: set, follows: dict) -> list:
    """The first wrong tensor in backprop order, when that helps to know where to look: when
    several layers are wrong, or when only dW and dB were given and nothing else explains it.
    Lower layers are "wrong as a consequence" only where the user's own dZ (or dA) of that first
    layer, carried down by the right rules (``follows``, from ``_carried``), gives their wrong
    tensors."""
    L = len(ctx.net.layers)
    wrong = [(l, k) for l in range(L, 0, -1) for k in KINDS
             if f"{k}{l}" in mine and statuses[f"{k}{l}"].status != OK]
    if not wrong:
        return []
    l, k = wrong[0]
    below = sorted({layer for layer, _ in wrong} - {l}, reverse=True)
    only_params = all(name[:2] in ("dW", "dB") for name in mine)
    if not below and not (only_params and f"{k}{l}" not in explained):
        return []
    after = []
    if below:
        caused = [b for b in below if follows and all(
            _same(ctx, mine[f"{k}{b}"], follows[f"{k}{b}"]) for k in KINDS
            if f"{k}{b}" in mine and statuses[f"{k}{b}"].status != OK)]
        rest = [b for b in below if b not in caused]
        if caused:
            after.append(f"{_layers(caused)} wrong as a consequence: {_its(caused)} what "
                         f"the given dZ{l} gives, carried down by the right rules")
        if rest:
            after.append(f"{_layers(rest)} wrong too")
    return [Diagnosis(f"{k}{l}", "earliest_wrong_layer",
                      f"the earliest wrong gradient in backprop order is {k}{l}, in layer {l}: "
                      f"look there first" + "".join(f"; {a}" for a in after), layer=l)]


def _same(ctx, M, C) -> bool:
    c = ctx.fit(M, C) if M.shape == C.shape else None
    return c is not None and abs(c - 1) < 1e-6


def _layers(ls: list) -> str:
    return f"{'layers' if len(ls) > 1 else 'layer'} {', '.join(map(str, ls))} " \
        f"{'are' if len(ls) > 1 else 'is'}"


def _its(ls: list) -> str:
    return "their tensors are" if len(ls) > 1 else "its tensors are"


def _carried(ctx, mine: dict, l: int) -> dict:
    """The tensors of layers below l that the user's own dZ_l (or dA_l) gives by the right
    chain rule, by name; {} when the user gave neither."""
    net = ctx.net
    if f"dZ{l}" in mine and mine[f"dZ{l}"].shape == ctx.res[f"dZ{l}"].shape:
        dZ = rows(mine[f"dZ{l}"], net.layout)
    elif f"dA{l}" in mine and mine[f"dA{l}"].shape == ctx.res[f"dA{l}"].shape:
        layer = net.layers[l - 1]
        Z, A = (rows(ctx.res[f"{k}{l}"], net.layout) for k in ("Z", "A"))
        dZ = ACTIVATIONS[layer.activation].vjp(rows(mine[f"dA{l}"], net.layout), Z, A, **layer.params)
    else:
        return {}
    return {n: a for n, a in carried_down(net, ctx.res, l, dZ).items() if int(n[2:]) < l}


def carried_down(net, res, l: int, dZ, derivative=None, input_grad: bool = False) -> dict:
    """From dZ_l (rows layout), by the chain rule: dW_l, dB_l, then dA, dZ, dW and dB of every
    layer below (and dA0 with ``input_grad``), by name in the spec's layout, dW and dB with the
    penalty's gradient as nngrad adds it. ``derivative(k, dA, Z, A)`` gives dZ_k (default: the
    activation's vjp), for another reading of a derivative."""
    from ..numerics.regularization import penalty_grads

    out = {}
    for k in range(l, 0, -1):
        if k < l:
            layer = net.layers[k - 1]
            dA = dZ @ rows(net.layers[k].W, net.layout).T
            Z, A = (rows(res[f"{kind}{k}"], net.layout) for kind in ("Z", "A"))
            dZ = derivative(k, dA, Z, A) if derivative else \
                ACTIVATIONS[layer.activation].vjp(dA, Z, A, **layer.params)
            out.update({f"dA{k}": rows(dA, net.layout), f"dZ{k}": rows(dZ, net.layout)})
        A_prev = rows(res[f"A{k - 1}"], net.layout) if k > 1 else rows(net.X, net.layout)
        out.update({f"dW{k}": rows(A_prev.T @ dZ, net.layout),
                    f"dB{k}": dZ.sum(axis=0).reshape(res[f"dB{k}"].shape)})
    if input_grad:
        out["dA0"] = rows(dZ @ rows(net.layers[0].W, net.layout).T, net.layout)
    for name, g in (penalty_grads(net) if net.regularization is not None else {}).items():
        out[name] = out[name] + g
    return out
