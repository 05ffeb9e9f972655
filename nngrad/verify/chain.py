"""Gradient names, and the right chain rule from any one gradient of a layer down, stage by stage.

Within layer l backprop computes, in this order (``KINDS``): dA (the layer's output), dH (the
activation's output, before dropout), dS (its input, after a norm), dxhat, dZ (the affine
output), then dW, dB, dgamma and dbeta. A layer has dH only with dropout, and dS, dxhat,
dgamma and dbeta only with a norm (``has``). dgamma and dbeta follow from dS, not from dZ.

``Chain(net, res).within(l, kind, g)`` gives every tensor of layer l that follows from ``g``, its
gradient ``kind``, by the right rules (the stage records' vjps); ``carried_down`` goes on through
the layers below. Arrays in the rows layout inside, in the spec's layout outside.
"""

from __future__ import annotations

import re

import numpy as np

from ..model.shapes import rows
from ..numerics.activations import ACTIVATIONS
from ..numerics.stages import NORMS, ORDER, STAGES, staged_forward

_BACK = [STAGES[key] for key in reversed(ORDER)]  # a layer's backward meets its stages so
CHAIN = ("dA", *dict.fromkeys(g for stage in _BACK for g in stage.grads), "dZ")  # dA .. dZ
PARAMS = ("dW", "dB", *dict.fromkeys(f"d{p}" for stage in _BACK for p in stage.params))
KINDS = CHAIN + PARAMS  # every gradient of a layer, in backprop order
NORM_KINDS = tuple(dict.fromkeys(k for key in NORMS for k in (
    *STAGES[key].grads, *(f"d{p}" for p in STAGES[key].params))))
_NAME = re.compile(r"([A-Za-z]+?)(\d+)")


def split(name: str) -> tuple[str, int]:
    """``dgamma12`` -> ("dgamma", 12)."""
    m = _NAME.fullmatch(name)
    return m.group(1), int(m.group(2))


def kind_of(name: str) -> str:
    return split(name)[0]


def layer_of(name: str) -> int:
    return split(name)[1]


def order(L: int):
    """Sort key: layer L first, and within a layer in ``KINDS`` order, as backprop computes
    them; dA0 last."""
    def key(name):
        kind, l = split(name)
        return L - l, KINDS.index(kind)
    return key


def has(layer, kind: str) -> bool:
    """Whether a layer has a gradient of ``kind``."""
    if kind == "dH":
        return layer.dropout is not None
    return kind not in NORM_KINDS or layer.norm is not None


def act_io(net, l: int) -> tuple[str, str]:
    """The names of layer l's activation input and output: S or Z, H or A."""
    layer = net.layers[l - 1]
    return (f"S{l}" if layer.norm else f"Z{l}"), (f"H{l}" if layer.dropout else f"A{l}")


def in_layout(net, res, name: str, a):
    """A rows-layout gradient ``name`` in the spec's layout and the shape nngrad gives it."""
    kind = kind_of(name)
    if kind in ("dB", "dgamma", "dbeta"):
        return a.reshape(res[name].shape)
    return rows(a, net.layout)


class Chain:
    """The right chain rule over a network and its results ``res`` (a Result or a mapping)."""

    def __init__(self, net, res):
        self.net, self.res, self._saved = net, res, {}

    def saved(self, l: int) -> dict:
        """Layer l's forward values (rows): S and H, and a staged layer's xhat, std, mask."""
        if l not in self._saved:
            net, layer = self.net, self.net.layers[l - 1]
            Z = rows(self.res[f"Z{l}"], net.layout)
            if layer.stages:
                self._saved[l] = staged_forward(layer, ACTIVATIONS[layer.activation], Z,
                                                net.layout)[1]
            else:
                self._saved[l] = {"S": Z, "H": rows(self.res[f"A{l}"], net.layout)}
        return self._saved[l]

    def within(self, l: int, kind: str, g, derivative=None) -> dict:
        """Layer l's gradients from ``kind`` on (rows; dB, dgamma, dbeta in their shapes), given
        ``g`` of that kind, by the right rules; {} when the layer has no such gradient.
        ``derivative(l, g, S, H)`` replaces the activation's vjp (another reading of it)."""
        net, layer = self.net, self.net.layers[l - 1]
        if kind not in KINDS or not has(layer, kind) or kind in PARAMS:
            return {}
        step, s, out = CHAIN.index(kind), self.saved(l), {kind: g}
        if step == 0 and layer.dropout is not None:
            g = out["dH"] = STAGES["dropout"].vjp(g, s, layer.dropout, net.layout)[0]
        if step <= 1:
            g = derivative(l, g, s["S"], s["H"]) if derivative else \
                ACTIVATIONS[layer.activation].vjp(g, s["S"], s["H"], **layer.params)
            out["dS" if layer.norm else "dZ"] = g
        if layer.norm is not None:
            key, st = layer.norm
            if step <= 2:  # from dS: the norm's vjp, with dxhat, dgamma and dbeta
                g, more = STAGES[key].vjp(g, s, st, net.layout)
                out.update({k: v for k, v in more.items() if k != "dS"}, dZ=g)
            elif step == 3:  # from dxhat: the norm's vjp with gamma 1, whose dS is dxhat
                g = out["dZ"] = STAGES[key].vjp(g, s, st._replace(gamma=np.ones_like(st.gamma)),
                                                net.layout)[0]
        A_prev = rows(self.res[f"A{l - 1}"], net.layout) if l > 1 else rows(net.X, net.layout)
        out["dW"] = A_prev.T @ g
        out["dB"] = g.sum(axis=0).reshape(self.res[f"dB{l}"].shape)
        return out

    def named(self, l: int, got: dict) -> dict:
        """``within``'s output by name (``dZ1``), each in the spec's layout."""
        return {f"{k}{l}": in_layout(self.net, self.res, f"{k}{l}", a) for k, a in got.items()}


def carried_down(net, res, l: int, g, derivative=None, input_grad: bool = False,
                 kind: str = "dZ", penalty: bool = True) -> dict:
    """From layer l's gradient ``kind`` (rows layout; dZ by default), by the chain rule: what
    follows from it in layer l, then dA, ... dB (and the stage gradients) of every layer below,
    and dA0 with ``input_grad``; by name in the spec's layout, dW, dB, dgamma and dbeta with the
    penalty's gradient as nngrad adds it (unless not ``penalty``). ``derivative(k, g, S, H)``
    gives an activation's input gradient (default: its vjp), for another reading of it."""
    from ..numerics.regularization import penalty_grads

    chain, out, dZ = Chain(net, res), {}, None
    for k in range(l, 0, -1):
        if k < l:
            g, kind = dZ @ rows(net.layers[k].W, net.layout).T, "dA"
        got = chain.within(k, kind, g, derivative)
        out.update(chain.named(k, got))
        dZ = got["dZ"]
    if input_grad:
        out["dA0"] = rows(dZ @ rows(net.layers[0].W, net.layout).T, net.layout)
    if penalty and net.regularization is not None:
        for name, p in penalty_grads(net).items():
            if name in out:
                out[name] = out[name] + p
    return out
