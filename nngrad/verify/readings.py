"""Other right readings of a user's gradients, before any is called wrong.

- **Notation.** Andrew Ng's notation leaves the reduction's 1/m out of dZ and dA (and the
  stages' dH, dS, dxhat) and applies it in dW and db (dgamma, dbeta): its dZ and dA are
  nngrad's times 1/factor (m for batch_mean, m·n for mean).
  ``auto`` reads a file so when every dW and dB given is right and every dZ and dA given is
  exactly that multiple; ``ng`` always, ``standard`` never.
- **Convention.** At a kink the derivative is a convention: nngrad takes relu'(0) = 0 (and
  alpha for leaky_relu and elu), PyTorch's; relu'(0) = 1 (``Z >= 0``) is as valid a subgradient.
  Tensors that match the right-hand derivative at every Z exactly 0, and differ only there,
  agree.
- **Loss.** When the given gradients are exactly those of the same network with another loss
  or reduction, ``other_loss`` says which.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..errors import SpecError
from ..model.shapes import rows
from ..numerics.activations import ACTIVATIONS
from ..numerics.losses import FUSED, LOSSES, REDUCTIONS, reduction_factor
from .chain import CHAIN, PARAMS, act_io, carried_down, kind_of, layer_of

NOTATIONS = ("auto", "standard", "ng")
SUMMED = CHAIN  # the tensors Ng's notation leaves unscaled: dA, dH, dS, dxhat, dZ


def ng_factor(net) -> float:
    """What Ng's dZ and dA are, in multiples of nngrad's: 1 / the reduction's factor."""
    return 1.0 / reduction_factor(net.reduction, (net.batch, net.widths[-1]))


def notation_reading(net, res, arrays: dict, notation: str, agrees) -> dict:
    """The right values to hold ``arrays`` to: nngrad's, or Ng's for dZ and dA; with the
    notation that was read (``standard`` or ``ng``) under the key ``None``."""
    k = ng_factor(net)
    ng = {name: k * res[name] for name in arrays if kind_of(name) in SUMMED}
    if notation == "auto":  # Ng's where some dZ or dA says so, none says nngrad's, a dW or dB is right
        params = [n for n in arrays if kind_of(n) in PARAMS and agrees(arrays[n], res[n])]
        telling = [n for n in arrays if kind_of(n) in SUMMED and np.any(res[n])]  # 0 is both readings
        ng_votes = [n for n in telling if agrees(arrays[n], ng[n]) and not agrees(arrays[n], res[n])]
        standard_votes = [n for n in telling if agrees(arrays[n], res[n])]
        notation = "ng" if k != 1 and params and ng_votes and not standard_votes else "standard"
    right = {name: (ng[name] if notation == "ng" and name in ng else res[name]) for name in arrays}
    right[None] = notation
    return right


def ng_note(net) -> str | None:
    k = ng_factor(net)
    if k == 1:
        return None  # a sum: the two notations are one
    staged = any(layer.stages for layer in net.layers)
    what, params = ("dZ, dA and the stages' dH, dS, dxhat", "dW, dB, dgamma and dbeta") if staged \
        else ("dZ and dA", "dW and dB")
    return (f"read in Andrew Ng's notation: {what} without the reduction's 1/{k:g} "
            f"({net.reduction} over {'m' if net.reduction == 'batch_mean' else 'm·n'}), applied "
            f"in {params} instead; --notation standard reads them as nngrad writes them")


def convention_reading(net, res, input_grad: bool) -> dict | None:
    """The gradients with the right-hand derivative (1) at every kinked activation input (Z,
    or S after a norm) that is exactly 0, by name, in the spec's layout; None where none sits
    on a kink."""
    L = len(net.layers)
    on_kink = [l for l in range(1, L + 1) if ACTIVATIONS[net.layers[l - 1].activation].kink
               is not None and np.any(res[act_io(net, l)[0]] == 0)]
    if not on_kink or f"dA{L}" not in res:
        return None
    dA, last = rows(res[f"dA{L}"], net.layout), net.layers[-1]

    def derivative(k, dA, Z, A):  # the right-hand derivative, 1, where a kinked input is exactly 0
        layer = net.layers[k - 1]
        dZ = ACTIVATIONS[layer.activation].vjp(dA, Z, A, **layer.params)
        return np.where(Z == 0, dA, dZ) if k in on_kink else dZ

    if (last.activation, net.loss) in FUSED:
        dZ = rows(res[f"dZ{L}"], net.layout)
    else:
        dZ = derivative(L, dA, *(rows(res[f"{k}{L}"], net.layout) for k in ("Z", "A")))
    return {f"dA{L}": res[f"dA{L}"], f"dZ{L}": rows(dZ, net.layout),
            **carried_down(net, res, L, dZ, derivative, input_grad)}


def convention_note(net, names) -> str:
    kinked = sorted({net.layers[layer_of(n) - 1].activation for n in names if layer_of(n) >= 1})
    z = "Z (an S, after a norm)" if any(layer.norm for layer in net.layers) else "Z"
    return (f"{', '.join(names)} take{'s' if len(names) == 1 else ''} the derivative 1 where a "
            f"{z} of {', '.join(kinked) or 'a kinked activation'} is exactly 0: a valid "
            "subgradient, a convention, not a mistake (nngrad takes the derivative from the left "
            "there, as PyTorch: relu'(0) = 0, and alpha for leaky_relu and elu); they agree")


def other_loss(net, arrays: dict, agrees, run) -> str | None:
    """"{name, reduction: r}" (or several, "... or ...", where they give the same numbers) when
    every given tensor is exactly that loss's gradient on this network, another loss or
    reduction than the spec's; else None. Tried on small nets."""
    if sum(l.W.size for l in net.layers) * max(net.batch, 1) > 2_000_000:
        return None
    found = []
    for name in LOSSES:
        for reduction in REDUCTIONS:
            if (name, reduction) == (net.loss, net.reduction):
                continue
            try:
                other = replace(net, loss=name, reduction=reduction, loss_params={})
            except SpecError:
                continue
            res = run(other, input_grad="dA0" in arrays)
            if all(agrees(a, res[n]) for n, a in arrays.items()):
                found.append(f"{{{name}, reduction: {reduction}}}")
    return " or ".join(found) or None
