"""The picture of a network as data: its nodes and edges, for ``nngrad graph`` to draw.

``graph(net, res)`` is the chain at matrix level, rows layout as written here (columns: the
transposes): X -> Z1 = X W1 + b1 -> (the stages) -> A1 -> ... -> AL -> loss. Every tensor is a
``Node``: the parameters (W, b, gamma, beta) and the stages' values (mu, var, xhat, S; H, mask, as
``nngrad run`` names them) are nodes of their own. Every ``Edge`` carries its forward operation and
its backward factor, the factor the gradient of its target is multiplied by on the way back to its
source (``·W2ᵀ``, ``⊙[Z1 > 0]``, ``⊙ mask1/keep``). ``graph(net, res, units=True)`` is the
neuron-level graph of a tiny net: a node per unit, an edge per weight, numbered w1, w2, ... in Matt
Mazur's order (by target unit, then by source unit). ``against``: a compare ``Report``, whose wrong
tensors are marked, and whose earliest wrong layer is starred.

The colour of a node is its ``heat``: log10 of its gradient's norm on the scale ``HEAT`` (from
1e-8, vanishing, to 1e2), which the renderers colour. Pure numpy.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import NngradError

SMALL = 16  # a tensor of at most this many entries shows its values
HEAT = (-8.0, 2.0)  # log10 ‖gradient‖ at the two ends of the colour scale
UNITS_MAX = 16  # the widest layer --units draws


@dataclass(frozen=True)
class Summary:
    """min, max and the Frobenius norm of an array, and its entries when it has ``SMALL`` or fewer
    (a tuple of rows, in the spec's layout)."""

    min: float
    max: float
    norm: float
    values: tuple | None = None


@dataclass(frozen=True)
class Node:
    """One tensor (or, with units, one neuron): its ``name``, ``kind`` (input, param, value, stage,
    loss, unit), ``shape``, ``value`` and ``grad`` (``Summary`` or None), ``grad_name`` (as the
    results name it), ``layer`` (0 for X and the loss: L + 1), ``wrong`` (compare marked its
    gradient wrong) and ``star`` (the earliest wrong layer's). ``col``/``row``: its place in a grid."""

    name: str
    kind: str
    shape: tuple
    value: Summary | None
    grad: Summary | None
    grad_name: str | None
    layer: int
    col: int
    row: int
    wrong: bool = False
    star: bool = False
    detail: str = ""

    @property
    def heat(self) -> float | None:
        """log10 ‖gradient‖ (None: no gradient; ``-inf`` for a zero one)."""
        if self.grad is None or not np.isfinite(self.grad.norm):
            return None
        return float(np.log10(self.grad.norm)) if self.grad.norm > 0 else float("-inf")


@dataclass(frozen=True)
class Edge:
    """From ``source`` to ``target`` (node names): the ``forward`` operation and the ``backward``
    factor."""

    source: str
    target: str
    forward: str
    backward: str


@dataclass(frozen=True)
class Graph:
    """The nodes and edges of one picture, the ``title``, and whether it is of ``units``."""

    nodes: tuple
    edges: tuple
    title: str = "network"
    units: bool = False
    notes: tuple = field(default_factory=tuple)

    def node(self, name: str) -> Node:
        return next(n for n in self.nodes if n.name == name)


def summary(a) -> Summary:
    """``Summary`` of ``a`` (non-finite entries count in min/max as they are)."""
    a = np.asarray(a, dtype=np.float64)
    if a.size == 0:
        return Summary(0.0, 0.0, 0.0, ())
    values = None
    if a.size <= SMALL:
        values = tuple(tuple(float(v) for v in row) for row in np.atleast_2d(a))
    return Summary(float(a.min()), float(a.max()), float(np.linalg.norm(a.ravel())), values)


DERIVATIVE = {  # the backward factor of an activation, z its input and a its output
    "identity": "·1", "relu": "⊙[{z} > 0]", "leaky_relu": "⊙[{z} > 0 : 1, else α]",
    "elu": "⊙[{z} > 0 : 1, else {a} + α]", "sigmoid": "⊙ {a}(1 − {a})", "tanh": "⊙ (1 − {a}²)",
    "softplus": "⊙ σ({z})", "silu": "⊙ silu′({z})", "gelu": "⊙ gelu′({z})",
    "softmax": "{a} ⊙ (g − Σ g ⊙ {a})",
}


def _wrong(against) -> tuple[set, int | None]:
    """The gradient names compare marked wrong, and the earliest wrong layer (None: none)."""
    if against is None:
        return set(), None
    bad = {name for name, t in against.tensors.items() if t.status != "ok"}
    layers = [d.layer for d in against.diagnoses if d.kind == "earliest_wrong_layer" and d.layer]
    if not layers and bad:  # no diagnosis: the first wrong in backprop order, layer L down
        numbered = [int("".join(c for c in n if c.isdigit()) or 0) for n in bad]
        layers = [max(numbered)]
    return bad, (layers[0] if layers else None)


class _Builder:
    def __init__(self, res, against):
        self.res, self.nodes, self.edges = res, [], []
        self.bad, self.star = _wrong(against)

    def add(self, name, kind, value, grad_name, layer, col, row, detail=""):
        grad = self.res.get(grad_name) if grad_name else None
        wrong = grad_name in self.bad
        value = np.asarray(value)
        self.nodes.append(Node(name, kind, tuple(value.shape), summary(value),
                               None if grad is None else summary(grad),
                               grad_name if grad is not None or wrong else None, layer, col, row,
                               wrong, wrong and layer == self.star, detail))

    def edge(self, source, target, forward, backward):
        self.edges.append(Edge(source, target, forward, backward))


def graph(net, res=None, *, units: bool = False, against=None, title: str = "network") -> Graph:
    """The ``Graph`` of ``net`` with the values and gradients of ``res`` (``nngrad.run(net)``;
    with ``input_grad=True``, X shows dA0; None: ``run(net, input_grad=True)``). ``units``: the neuron-level graph (every layer at most
    ``UNITS_MAX`` wide, else ``NngradError``). ``against``: a compare ``Report`` of ``net``."""
    if res is None:
        from ..numerics.passes import run

        res = run(net, input_grad=True)
    return (_units if units else _chain)(net, res, against, title)


def _chain(net, res, against, title) -> Graph:
    b, L, rows = _Builder(res, against), len(net.layers), net.layout == "rows"
    b.add("X", "input", net.X, "dA0", 0, 0, 0, "A0")
    prev, col = "X", 0
    for l, layer in enumerate(net.layers, start=1):
        col += 1
        b.add(f"W{l}", "param", layer.W, f"dW{l}", l, col, -1)
        b.add(f"b{l}", "param", layer.b, f"dB{l}", l, col, 1)
        b.add(f"Z{l}", "value", res[f"Z{l}"], f"dZ{l}", l, col, 0)
        p = "A0" if prev == "X" else prev
        b.edge(prev, f"Z{l}", f"·W{l} + b{l}" if rows else f"W{l}· + b{l}",
               f"·W{l}ᵀ" if rows else f"W{l}ᵀ·")
        b.edge(f"W{l}", f"Z{l}", "", f"{p}ᵀ·" if rows else f"·{p}ᵀ")
        b.edge(f"b{l}", f"Z{l}", "+", "Σ over the batch")
        prev, steps = f"Z{l}", dict(layer.stages)
        norm = layer.norm
        if norm:
            key, state = norm
            col += 1
            b.add(f"mu{l}", "stage", res[f"mu{l}"], None, l, col, -1)
            b.add(f"var{l}", "stage", res[f"var{l}"], None, l, col, 1)
            b.add(f"xhat{l}", "stage", res[f"xhat{l}"], f"dxhat{l}", l, col, 0, key)
            over = "batch" if key == "batchnorm" else "features"
            b.edge(prev, f"mu{l}", f"mean over the {over}", "1/N")
            b.edge(prev, f"var{l}", f"variance over the {over}", f"2(Z{l} − mu{l})/N")
            b.edge(prev, f"xhat{l}", f"(Z{l} − mu{l})/σ{l}", f"/σ{l}")
            b.edge(f"mu{l}", f"xhat{l}", "", f"−Σ dxhat{l} / σ{l}")
            b.edge(f"var{l}", f"xhat{l}", "", f"−½ Σ dxhat{l} ⊙ (Z{l} − mu{l}) σ{l}⁻³")
            col += 1
            b.add(f"gamma{l}", "param", state.gamma, f"dgamma{l}", l, col, -1)
            b.add(f"beta{l}", "param", state.beta, f"dbeta{l}", l, col, 1)
            b.add(f"S{l}", "stage", res[f"S{l}"], f"dS{l}", l, col, 0)
            b.edge(f"xhat{l}", f"S{l}", f"γ{l} ⊙ xhat{l} + β{l}", f"⊙ γ{l}")
            b.edge(f"gamma{l}", f"S{l}", "", f"Σ dS{l} ⊙ xhat{l}")
            b.edge(f"beta{l}", f"S{l}", "", f"Σ dS{l}")
            prev = f"S{l}"
        col += 1
        drop = steps.get("dropout")
        out = f"H{l}" if drop is not None else f"A{l}"
        kind = "stage" if drop is not None else "value"
        b.add(out, kind, res[out], f"d{out}", l, col, 0, layer.activation)
        fn = DERIVATIVE.get(layer.activation, f"⊙ {layer.activation}′({{z}})")
        b.edge(prev, out, layer.activation, fn.format(z=prev, a=out))
        if drop is not None:
            col += 1
            b.add(f"mask{l}", "stage", res[f"mask{l}"], None, l, col, -1, f"keep {drop.keep:g}")
            b.add(f"A{l}", "value", res[f"A{l}"], f"dA{l}", l, col, 0)
            keep = f"/{drop.keep:g}" if drop.inverted else ""
            b.edge(out, f"A{l}", f"⊙ mask{l}{keep}", f"⊙ mask{l}{keep}")
            b.edge(f"mask{l}", f"A{l}", "⊙", "")
        prev = f"A{l}"
    b.nodes.append(Node("loss", "loss", (), summary(res.loss), summary(1.0), "loss", L + 1,
                        col + 1, 0, detail=f"{res.loss_name}, {res.reduction}"))
    b.edge(prev, "loss", res.loss_name, f"∂loss/∂A{L}")
    return Graph(tuple(b.nodes), tuple(b.edges), title)


def _units(net, res, against, title) -> Graph:
    widths = net.widths
    if max(widths) > UNITS_MAX:
        raise NngradError(f"--units draws layers of at most {UNITS_MAX} units; this net's widths "
                          f"are {'-'.join(map(str, widths))}: leave out --units")
    b, rows, k = _Builder(res, against), net.layout == "rows", 0
    pick = (lambda a, j: a[:, j]) if rows else (lambda a, j: a[j, :])
    for i in range(widths[0]):
        dx = res.get("dA0")
        b.nodes.append(Node(f"i{i + 1}", "input", (net.batch,), summary(pick(net.X, i)),
                            None if dx is None else summary(pick(dx, i)), None if dx is None else "dA0",
                            0, 0, i, detail=f"X[{i}]"))
    for l, layer in enumerate(net.layers, start=1):
        W = layer.W if rows else layer.W.T
        bias = np.reshape(layer.b, -1)
        last = l == len(net.layers)
        for j in range(widths[l]):
            name = f"o{j + 1}" if last else (f"h{j + 1}" if len(widths) == 3 else f"h{l}_{j + 1}")
            z, dz = pick(res[f"Z{l}"], j), pick(res[f"dZ{l}"], j)
            a = pick(res[f"A{l}"], j)
            wrong = any(f"{g}{l}" in b.bad for g in ("dW", "dB", "dZ", "dA"))
            b.nodes.append(Node(name, "unit", z.shape, summary(a), summary(dz), f"dZ{l}", l, l, j,
                                wrong, wrong and l == b.star,
                                f"net {_short(z)}, out {_short(a)}, {layer.activation}"))
        b.nodes.append(Node(f"b{l}", "param", np.shape(layer.b), summary(layer.b),
                            summary(res[f"dB{l}"]), f"dB{l}", l, l - 1, widths[l - 1],
                            f"dB{l}" in b.bad, f"dB{l}" in b.bad and l == b.star))
        sources = [n.name for n in b.nodes if n.col == l - 1 and n.kind in ("input", "unit")]
        sources = sources[:widths[l - 1]]
        targets = [n.name for n in b.nodes if n.col == l and n.kind == "unit"]
        dW = res[f"dW{l}"] if rows else res[f"dW{l}"].T
        for j, target in enumerate(targets):
            for i, source in enumerate(sources):
                k += 1
                b.edge(source, target, f"w{k} = {W[i, j]:.4g}", f"dw{k} = {dW[i, j]:.4g}")
            db = np.reshape(res[f"dB{l}"], -1)
            b.edge(f"b{l}", target, f"b{l}[{j}] = {bias[j]:.4g}", f"dB{l}[{j}] = {db[j]:.4g}")
    outs = [n.name for n in b.nodes if n.col == len(net.layers) and n.kind == "unit"]
    b.nodes.append(Node("loss", "loss", (), summary(res.loss), summary(1.0), "loss",
                        len(net.layers) + 1, len(net.layers) + 1, 0,
                        detail=f"{res.loss_name}, {res.reduction}"))
    for o in outs:
        b.edge(o, "loss", res.loss_name, "∂loss/∂out")
    return Graph(tuple(b.nodes), tuple(b.edges), title, units=True)


def _short(a) -> str:
    a = np.reshape(a, -1)
    return f"{a[0]:.4g}" if a.size == 1 else f"[{', '.join(f'{v:.3g}' for v in a[:4])}{', …' if a.size > 4 else ''}]"
