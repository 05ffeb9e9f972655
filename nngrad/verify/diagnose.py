"""Diagnose wrong gradients by testing each hypothesis against the numbers.

For a wrong tensor M with right value R, each hypothesis builds the tensor that the mistake
would have produced and checks that M matches it (to the compare tolerance):
- scale: M = c R, with c explained from m (examples), n (outputs) and 2 where the spec's loss
  and reduction make that cause possible; a factor as the fraction it is (5/6);
- sign: c < 0;
- transpose: M = Rᵀ (where Rᵀ differs from R), or dA_l = dZ_{l+1} W_{l+1} without the ᵀ in a
  square layer;
- bias_reduction: dB is dZ not summed over the batch; dB, dgamma or dbeta summed over the wrong
  axis, over every entry, or reshaped;
- activation_derivative: dZl (or dWl, dBl) = what another activation's derivative of Zl gives,
  or one of the record's usual mistakes, or the derivative taken at A instead of Z, or the
  ReLU mask of another layer; after a norm, at S (dSl, and all that follows from it);
- loss_derivative: dAL (or dZL, dWL, dBL) = what one of the loss record's usual mistakes gives;
- regularization: dWl (dBl, dgammal, dbetal) without the penalty's gradient, or with another
  form's factor;
- dropout_backward, norm_backward (``stage_hypotheses``): a stage's backward written with one of
  its record's usual mistakes, or with another 0/1 mask;
- earliest_wrong_layer: the first wrong tensor in backprop order (layer L down to 1), and "as a
  consequence" only for lower layers whose wrong tensors follow from it by the right rules,
  through every stage (``chain``).
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
from . import mistakes, stage_hypotheses
from .chain import CHAIN, KINDS, PARAMS, Chain, carried_down, kind_of, layer_of, order, split
from .report import OK, Diagnosis

HYPOTHESES = (mistakes.transpose, mistakes.untransposed_weight, mistakes.bias,
              mistakes.activation, mistakes.loss, stage_hypotheses.dropout, stage_hypotheses.norm,
              mistakes.scale)


class Context:
    """What every hypothesis reads: the network, the right results, the fit at the tolerance,
    and the user's own tensors (``mine``, in nngrad's notation)."""

    def __init__(self, net, res, rtol: float, atol: float, mine: dict | None = None):
        self.net, self.res, self.rtol, self.atol = net, res, rtol, atol
        self.mine, self.chain = mine or {}, Chain(net, res)

    def fit(self, M, C) -> float | None:
        return _scale_of(M, C, self.rtol, self.atol)

    def as_tensor(self, name: str, d, source: str = "dZ"):
        """The tensor ``name`` (in the spec's layout) of its layer l that a mistaken gradient
        ``source`` of layer l (rows layout; dZ by default) gives by the right rules, or None
        where ``name`` does not follow from it."""
        kind, l = split(name)
        if kind == source:
            return self.chain.named(l, {kind: d})[name]
        got = self.chain.within(l, source, d)
        return self.chain.named(l, {kind: got[kind]})[name] if kind in got else None


def diagnose(net, res, mine: dict, statuses: dict, rtol: float, atol: float) -> list:
    """Diagnoses for every tensor of ``mine`` whose status is not ok, in backprop order. A tensor
    below the earliest wrong layer that is just what the user's own dZ of that layer gives, by
    the right rules, gets none of its own: the earliest wrong layer's diagnosis names it."""
    out = []
    with np.errstate(all="ignore"):
        base = Context(net, res, rtol, atol, mine)
        top = max((layer_of(n) for n in mine if statuses[n].status != OK), default=0)
        source, follows = _carried(base, mine, top) if top else (None, {})
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
                    M, R = M - g, R - g
                    ctx = Context(net, ChainMap({name: R}, res), rtol, atol, mine)
                else:
                    ctx = base
                found = next((d for h in HYPOTHESES if (d := h(ctx, name, M, R))), [])
                if g is not None and np.any(g):
                    for d in found:  # said of the data part: the penalty's term is right
                        d.message = f"{name}'s penalty term is right, and its data part: {d.message}"
            out += found
        return out + _earliest(base, mine, statuses, {d.tensor for d in out}, follows, source)


backprop_order = order  # layer L first, within a layer as backprop computes them; dA0 last


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

    if net.regularization is None or kind_of(name) not in PARAMS or M.shape != R.shape:
        return None
    return penalty_grads(net).get(name)


def _penalty(name, M, R, net) -> list:
    """A dW (dB) whose penalty gradient is missing, has one term only, another form's factor,
    or the wrong sign; the rest of it right."""
    from ..numerics.regularization import FORMS, penalty_grads

    reg, (kind, l) = net.regularization, split(name)
    if reg is not None and kind in PARAMS[1:] and not reg.biases and M.shape == R.shape:
        p = next(p for n, _, _, p in net.parameters() if n == name)
        gb = reg.grad(p, net.batch).reshape(R.shape)
        if np.any(gb) and np.allclose(M, R + gb, rtol=1e-6, atol=1e-9 * (float(np.abs(R).max()) or 1.0)):
            return [Diagnosis(name, "regularization", f"{name} carries the penalty's gradient of "
                              f"{name[1:].replace('B', 'b', 1)}, but the spec's regularization "
                              "leaves the biases out (biases: false)", layer=l,
                              hint="leave the biases out of the penalty, or set biases: true")]
    g = _penalty_grad(net, name, M, R)
    if g is None or not np.any(g):
        return []
    m = net.batch
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


def _earliest(ctx, mine: dict, statuses: dict, explained: set, follows: dict,
              source: str | None) -> list:
    """The first wrong tensor in backprop order, when that helps to know where to look: when
    several layers are wrong, or when only parameter gradients were given and nothing else
    explains it. Lower layers are "wrong as a consequence" only where the user's own gradient
    ``source`` of that first layer (its dZ, or the latest given before it), carried down by the
    right rules (``follows``, from ``_carried``), gives their wrong tensors."""
    L = len(ctx.net.layers)
    wrong = [(l, k) for l in range(L, 0, -1) for k in KINDS
             if f"{k}{l}" in mine and statuses[f"{k}{l}"].status != OK]
    if not wrong:
        return []
    l, k = wrong[0]
    below = sorted({layer for layer, _ in wrong} - {l}, reverse=True)
    only_params = all(kind_of(name) in PARAMS for name in mine)
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
                         f"the given {source} gives, carried down by the right rules")
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


def _carried(ctx, mine: dict, l: int) -> tuple[str | None, dict]:
    """(the name of the user's own gradient of layer l that the layers below follow from: its
    dZ, else the latest given of dxhat, dS, dH, dA; the tensors of layers below l that it gives
    by the right chain rule, by name); (None, {}) when the user gave none of them."""
    for kind in reversed(CHAIN):
        name = f"{kind}{l}"
        if name in mine and name in ctx.res and mine[name].shape == ctx.res[name].shape:
            out = carried_down(ctx.net, ctx.res, l, rows(mine[name], ctx.net.layout), kind=kind)
            return name, {n: a for n, a in out.items() if layer_of(n) < l}
    return None, {}
