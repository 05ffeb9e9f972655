"""Training health of a network: per-layer gradient norms, dead and saturated units, the update
ratio and the initial loss, each sickness with a verdict that names its cause and a fix.

    from nngrad.verify.health import health
    h = health(net, nngrad.run(net), lr=1e-3, thresholds=settings["health"])
    h.healthy, [v.kind for v in h.verdicts]

The checks are cs231n's ("Neural Networks Part 3": the update ratio lr·‖dW‖/‖W‖ near 1e-3, the
loss at chance at initialisation, saturation) and the dead-ReLU count. ``thresholds`` are the
``health`` settings of ``configs/default.yaml`` (``DEFAULTS`` here: the same numbers). Norms are
Frobenius norms; a unit is a column of Z in the rows layout (a row in the columns layout).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from ..numerics.activations import ACTIVATIONS

DEFAULTS = {"gradient_factor": 100.0, "dead_fraction": 0.5, "saturation": 0.01,
            "saturated_examples": 0.5, "saturated_fraction": 0.5, "update_ratio": 1.0e-3,
            "update_band": 1.0, "initial_loss_factor": 2.0, "dead_min_examples": 4}
KINDS = ("vanishing", "exploding", "dead_units", "saturation", "update_ratio", "initial_loss",
         "nonfinite")


class ParamHealth(NamedTuple):
    """One parameter (``W1``, ``gamma1``, ``beta1``): its norm, its gradient's, and
    ``log_ratio`` = log10(lr·‖dP‖/‖P‖) (None when ‖P‖ or ‖dP‖ is 0 or not finite)."""

    name: str
    layer: int
    kind: str
    norm: float
    grad_norm: float
    log_ratio: float | None
    nonfinite: int


class LayerHealth(NamedTuple):
    """One layer: ``activation``, ``units``, ``dz_norm``; ``dead`` and ``saturated`` unit
    counts (None where the activation cannot have them); ``nonfinite`` entries among its Z,
    A, dZ, W and dW; ``params``: W's ``ParamHealth``, then gamma's and beta's with a norm."""

    layer: int
    activation: str
    units: int
    dz_norm: float
    dead: int | None
    saturated: int | None
    nonfinite: int
    params: tuple


class Verdict(NamedTuple):
    """A sickness found: ``kind`` (one of ``KINDS``), the ``layer`` (None: the whole net), the
    ``message`` (what the numbers show), its likely ``cause`` and a ``fix``."""

    kind: str
    layer: int | None
    message: str
    cause: str
    fix: str


class Health(NamedTuple):
    """``layers`` (``LayerHealth``), ``verdicts``, ``lr``, the data ``loss`` and the loss at
    ``chance`` (None: the loss has no chance level); ``healthy`` when no verdict fired."""

    layers: tuple
    verdicts: tuple
    lr: float
    loss: float
    chance: float | None

    @property
    def healthy(self) -> bool:
        return not self.verdicts


def _norm(a) -> float:
    """‖a‖, scaled by its largest entry first so that finite entries past 1e154 do not overflow."""
    a = np.asarray(a, dtype=np.float64)
    if not np.isfinite(a).all():
        return math.nan
    s = float(np.abs(a).max()) if a.size else 0.0
    with np.errstate(over="ignore"):
        return s * float(np.linalg.norm(a / s)) if s > 0 else 0.0


def _nonfinite(*arrays) -> int:
    return int(sum(np.size(a) - np.count_nonzero(np.isfinite(a)) for a in arrays))


def _log_ratio(lr: float, grad: float, norm: float) -> float | None:
    if not (norm > 0 and grad > 0 and math.isfinite(norm) and math.isfinite(grad)):
        return None
    return math.log10(lr * grad / norm)


def derivative(name: str, params: dict, z, a):
    """f'(Z) of an elementwise activation, rows layout: its vjp of ones."""
    with np.errstate(all="ignore"):
        return ACTIVATIONS[name].vjp(np.ones_like(z), z, a, **params)


def relu_like(name: str) -> bool:
    """An activation with a kink (relu, leaky_relu, elu): its units can die."""
    return ACTIVATIONS[name].kink is not None


def saturating(name: str, params: dict) -> bool:
    """An elementwise activation whose derivative vanishes at both ends (sigmoid, tanh):
    f'(±30) below 1% of f'(0)."""
    rec = ACTIVATIONS[name]
    if not rec.elementwise or rec.kink is not None:
        return False
    z = np.array([[-30.0, 0.0, 30.0]])
    d = derivative(name, params, z, rec.f(z, **params))[0]
    return bool(d[1] > 0 and d[0] < 0.01 * d[1] and d[2] < 0.01 * d[1])


def _units(res, l: int, layout: str):
    """The activation's input and output of layer ``l``, rows layout: S (a norm's) or Z, and H
    (before dropout) or A."""
    z = res[f"S{l}"] if f"S{l}" in res else res[f"Z{l}"]
    a = res[f"H{l}"] if f"H{l}" in res else res[f"A{l}"]
    return (z, a) if layout == "rows" else (z.T, a.T)


def layer_health(net, res, lr: float, thresholds: dict) -> tuple:
    """Every layer's ``LayerHealth``."""
    rows = []
    for l, layer in enumerate(net.layers, start=1):
        z, a = _units(res, l, net.layout)
        dead = saturated = None
        if relu_like(layer.activation):
            d = derivative(layer.activation, layer.params, z, a)
            dead = int(np.count_nonzero(np.all(d == 0, axis=0)))
        elif saturating(layer.activation, layer.params):
            d = np.abs(derivative(layer.activation, layer.params, z, a))
            top = float(np.abs(derivative(layer.activation, layer.params, np.zeros((1, 1)),
                                          ACTIVATIONS[layer.activation].f(
                                              np.zeros((1, 1)), **layer.params)))[0, 0])
            low = np.mean(d < thresholds["saturation"] * top, axis=0)
            saturated = int(np.count_nonzero(low > thresholds["saturated_examples"]))
        params = []
        for kind, p in layer.parameters():
            if kind == "b":
                continue
            grad = res[{"W": "dW", "gamma": "dgamma", "beta": "dbeta"}[kind] + str(l)]
            norm, gnorm = _norm(p), _norm(grad)
            params.append(ParamHealth(f"{kind}{l}", l, kind, norm, gnorm,
                                      _log_ratio(lr, gnorm, norm), _nonfinite(p, grad)))
        nonfinite = _nonfinite(res[f"Z{l}"], res[f"A{l}"], res[f"dZ{l}"], layer.W, res[f"dW{l}"])
        rows.append(LayerHealth(l, layer.activation, z.shape[1], _norm(res[f"dZ{l}"]), dead,
                                saturated, nonfinite, tuple(params)))
    return tuple(rows)


def chance_loss(net) -> float | None:
    """The data loss of a net that guesses: softmax + cross_entropy ln(classes) per example,
    bce ln 2 per entry, under the net's reduction; None for any other loss."""
    out = net.layers[-1].activation
    m, n = net.batch, net.widths[-1]
    if net.loss == "cross_entropy" and out == "softmax":
        total = m * math.log(n)
    elif net.loss == "bce" and out == "sigmoid":
        total = m * n * math.log(2.0)
    else:
        return None
    return total / {"sum": 1, "batch_mean": m, "mean": m * n}[net.reduction]


def health(net, res, lr: float, thresholds: dict | None = None) -> Health:
    """The ``Health`` of ``net`` from its ``res = nngrad.run(net)``, for learning rate ``lr``."""
    thresholds = {**DEFAULTS, **(thresholds or {})}
    layers = layer_health(net, res, lr, thresholds)
    loss = res.loss_data if res.loss_data is not None else res.loss
    chance = chance_loss(net)
    verdicts = [*_gradient_flow(layers, thresholds), *_units_verdicts(net, layers, thresholds),
                *_update_verdicts(layers, lr, thresholds), *_loss_verdict(loss, chance, thresholds),
                *_nonfinite_verdict(layers)]
    return Health(layers, tuple(verdicts), float(lr), float(loss), chance)


_FLOW = {  # kind: (cause, fix)
    "vanishing": ("each layer multiplies dZ by Wᵀ and f′(Z): small weights and sigmoid/tanh "
                  "derivatives (σ′ ≤ 0.25) shrink it layer after layer",
                  "use relu with He init (std √(2/fan_in)), or Xavier (√(1/fan_in)) for "
                  "tanh; add batchnorm; use fewer layers"),
    "exploding": ("weights larger than the init scale of their fan-in: each layer "
                  "multiplies dZ by a Wᵀ of norm above 1",
                  "scale the init down to He (√(2/fan_in)) or Xavier (√(1/fan_in)); clip "
                  "the gradient's norm; lower the learning rate"),
}


def _gradient_flow(layers, t) -> list:
    """Vanishing or exploding: ‖dW1‖ against ‖dWL‖, then ‖dZ1‖/√n1 against ‖dZL‖/√nL (dW =
    A_prevᵀ dZ, so a forward blow-up of A can hide dZ's growth), past ``gradient_factor``."""
    if len(layers) < 2:
        return []
    f, L = t["gradient_factor"], len(layers)
    top, bottom = layers[0], layers[-1]
    measures = ((top.params[0].grad_norm, bottom.params[0].grad_norm, "‖dW1‖", f"‖dW{L}‖"),
                (top.dz_norm / math.sqrt(top.units), bottom.dz_norm / math.sqrt(bottom.units),
                 "‖dZ1‖/√n1", f"‖dZ{L}‖/√n{L}"))
    for first, last, name1, nameL in measures:
        if not (math.isfinite(first) and math.isfinite(last)) or last == 0 or \
                last / f <= first <= last * f:
            continue
        kind = "vanishing" if first < last else "exploding"
        ratio = last / max(first, 1e-300) if kind == "vanishing" else first / last
        word, does = ("smaller", "vanishes") if kind == "vanishing" else ("larger", "explodes")
        return [Verdict(kind, 1, f"{name1} = {first:.3g} is {ratio:.3g} times {word} than "
                        f"{nameL} = {last:.3g} (more than {f:g}): the gradient {does} on its way "
                        "back", *_FLOW[kind])]
    return []


def _std_vs_init(net, l: int) -> str:
    W = np.asarray(net.layers[l - 1].W, dtype=np.float64)
    fan_in = net.widths[l - 1]
    return (f"std(W{l}) = {W.std():.3g}; for fan-in {fan_in}, Xavier is {math.sqrt(1 / fan_in):.3g} "
            f"and He {math.sqrt(2 / fan_in):.3g}")


def _units_verdicts(net, layers, t) -> list:
    found = []
    for h in layers:
        if h.dead and net.batch >= t["dead_min_examples"] and \
                h.dead / h.units >= t["dead_fraction"]:
            b = np.asarray(net.layers[h.layer - 1].b, dtype=np.float64)
            found.append(Verdict(
                "dead_units", h.layer, f"{h.dead} of layer {h.layer}'s {h.units} {h.activation} "
                f"units ({h.dead / h.units:.0%}) are dead: Z ≤ 0 for every example, so no "
                "gradient passes them",
                f"large negative biases (mean b{h.layer} = {b.mean():.3g}), an init too large "
                f"({_std_vs_init(net, h.layer)}), or a learning rate so high that one step "
                "pushed them below 0 for all inputs",
                "start b at 0 (or 0.01), use He init, lower the learning rate, or use "
                "leaky_relu"))
        if h.saturated and h.saturated / h.units >= t["saturated_fraction"]:
            found.append(Verdict(
                "saturation", h.layer, f"{h.saturated} of layer {h.layer}'s {h.units} "
                f"{h.activation} units ({h.saturated / h.units:.0%}) are saturated: f′(Z) is below "
                f"{t['saturation']:.0%} of its maximum for most examples",
                f"|Z| too large: {_std_vs_init(net, h.layer)}",
                "scale W down to Xavier's std for the fan-in, normalise the inputs, or add "
                "batchnorm before the activation"))
    return found


def _update_verdicts(layers, lr: float, t) -> list:
    """One verdict for the learning rate: the mean over the layers of log10 of W's ratio."""
    logs = [h.params[0].log_ratio for h in layers if h.params[0].log_ratio is not None]
    if not logs:
        return []
    target, band, mean = math.log10(t["update_ratio"]), t["update_band"], sum(logs) / len(logs)
    if abs(mean - target) <= band:
        return []
    high = mean > target
    worst = max((h.params[0] for h in layers if h.params[0].log_ratio is not None),
                key=lambda p: abs(p.log_ratio - target))
    return [Verdict(
        "update_ratio", None, f"the update ratio lr·‖dW‖/‖W‖ is 10^{mean:.1f} on average over "
        f"the layers ({worst.name}: 10^{worst.log_ratio:.1f}), more than {band:g} decade(s) from "
        f"{t['update_ratio']:g}",
        f"a learning rate of {lr:g} is too {'large' if high else 'small'} for these gradients: "
        f"each step {'overwrites' if high else 'barely moves'} the weights",
        f"try --lr {lr * 10 ** (target - mean):.2g}, which gives a ratio of "
        f"{t['update_ratio']:g} on average here")]


def _loss_verdict(loss: float, chance: float | None, t) -> list:
    f = t["initial_loss_factor"]
    if chance is None or not math.isfinite(loss) or loss <= f * chance:
        return []
    return [Verdict("initial_loss", None, f"the loss, {loss:.4g}, is {loss / chance:.3g} times "
                    f"the loss at chance, {chance:.4g} (more than {f:g})",
                    "the output layer is confidently wrong at the start: output weights or "
                    "biases too large, or targets that do not match the outputs",
                    "scale the last layer's W down (×0.01) and start its b at 0; check T's "
                    "classes")]


def _nonfinite_verdict(layers) -> list:
    bad = [h for h in layers if h.nonfinite or any(p.nonfinite for p in h.params)]
    if not bad:
        return []
    h = bad[0]
    return [Verdict("nonfinite", h.layer, f"layer {h.layer} holds values that are not finite "
                    "(inf or nan)", "the forward or backward pass overflowed",
                    "scale the init and the inputs down; lower the learning rate")]
