"""The hypotheses about one wrong tensor: each builds what a mistake would have given and
tests it against the user's tensor M (``diagnose`` calls them in turn).

``ctx`` holds the network, the right results (``ctx.res``), and ``ctx.fit(M, C)``: the finite
c with M = c C to the compare tolerance, or None. A hypothesis counts only where its candidate
differs from the right value: a candidate that is a multiple of the right tensor is no evidence.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np

from ..model.shapes import rows
from ..numerics.activations import ACTIVATIONS
from .chain import act_io, layer_of, split
from .report import Diagnosis


def one(ctx, c: float) -> bool:
    """Whether c is 1 to the compare tolerance (float32's is looser)."""
    return abs(c - 1) <= max(1e-9, ctx.rtol)


def also_scaled(ctx, name: str, c: float) -> str:
    """'' when c is 1, else '; besides, NAME is c times the right value: why'."""
    if one(ctx, c):
        return ""
    return "; besides, " + scale_text(ctx, name, c)[1]


def transpose(ctx, name, M, R) -> list:
    if M.ndim != 2 or M.shape != R.T.shape or ctx.fit(R.T, R) is not None:
        return []  # Rᵀ = c R (a (1, 1) tensor, a symmetric one): nothing to tell apart
    c = ctx.fit(M.T, R)
    if c is None:
        return []
    l = layer_of(name)
    formula = {"rows": f"A{l - 1}ᵀ · dZ{l}", "columns": f"dZ{l} · A{l - 1}ᵀ"}[ctx.net.layout] \
        if name.startswith("dW") else None
    hint = (f"in the {ctx.net.layout} layout {name} = {formula.replace('A0', 'X')}, which has "
            f"the shape of W{l}" if formula else f"in the {ctx.net.layout} layout {name} is {R.shape}")
    where = f"its rows and columns are swapped (both are {M.shape})" if M.shape == R.shape else \
        f"it is {M.shape} where {R.shape} belongs"
    return [Diagnosis(name, "transpose", f"{name} is the transpose of the right gradient: {where}"
                      + also_scaled(ctx, name, c), layer=l, factor=c, hint=hint)]


def untransposed_weight(ctx, name, M, R) -> list:
    """dA_l = dZ_{l+1} · W_{l+1} (in rows; W · dZ in columns) where W_{l+1}ᵀ belongs, in a
    square layer, and the dZ_l, dW_l, dB_l that follow from it."""
    net, (kind, l) = ctx.net, split(name)
    if not 0 <= l < len(net.layers) or M.shape != R.shape or (l == 0 and kind != "dA"):
        return []  # (dA0 = dX, with W1)
    W = rows(net.layers[l].W, net.layout)
    if W.shape[0] != W.shape[1] or ctx.fit(W, W.T) is not None:
        return []
    dA = rows(ctx.res[f"dZ{l + 1}"], net.layout) @ W
    c = ctx.fit(M, ctx.as_tensor(name, dA, source="dA"))
    if c is None:
        return []
    product = f"dZ{l + 1} · W{l + 1}" if net.layout == "rows" else f"W{l + 1} · dZ{l + 1}"
    what = "" if kind == "dA" else f" (and {name} follows from it)"
    return [Diagnosis(name, "transpose", f"dA{l} is {product}, with W{l + 1} where W{l + 1}ᵀ "
                      f"belongs{what}: W{l + 1} is square, so the shapes did not tell"
                      + also_scaled(ctx, name, c), layer=l, factor=c,
                      hint=f"dA{l} = " + (f"dZ{l + 1} · W{l + 1}ᵀ" if net.layout == "rows"
                                          else f"W{l + 1}ᵀ · dZ{l + 1}"))]


PARAMETER = {"dB": "b", "dgamma": "gamma", "dbeta": "beta"}


def bias(ctx, name, M, R) -> list:
    """dB not summed over the batch (for dgamma and dbeta the norms' records name it), and dB,
    dgamma or dbeta summed over the wrong axis, over every entry, or in another shape."""
    kind, l = split(name)
    if kind not in PARAMETER:
        return []
    net, p = ctx.net, f"{PARAMETER[kind]}{l}"
    what, given = _unsummed(ctx, kind, l)
    hint = f"sum {what} over the examples ({'axis 0' if net.layout == 'rows' else 'axis 1'})"
    c = ctx.fit(M, given) if kind == "dB" and given.shape != R.shape and given.size != R.size \
        else None
    if c is not None:  # (with one example, dZ already has b's shape: nothing to tell)
        return [Diagnosis(name, "bias_reduction", f"{name} is {what} itself, not summed over the "
                          f"batch: it must have the shape of {p}, {R.shape}"
                          + also_scaled(ctx, name, c), layer=l, factor=c, hint=hint)]
    across = rows(given, net.layout).sum(axis=1)
    c = ctx.fit(M.reshape(-1), across) if M.size == across.size != R.size else None
    if c is not None:
        return [Diagnosis(name, "bias_reduction", f"{name} is {what} summed over the wrong axis "
                          f"(over the units of each example, not over the examples): it is "
                          f"{M.shape} where {R.shape} belongs" + also_scaled(ctx, name, c),
                          layer=l, factor=c, hint=hint)]
    if M.size == 1 < R.size and ctx.fit(M.reshape(-1), given.sum().reshape(-1)) is not None:
        return [Diagnosis(name, "bias_reduction", f"{name} is {what} summed over every entry "
                          f"(np.sum(..., axis=None)): one number where {R.shape} belongs",
                          layer=l, hint=hint)]
    c = ctx.fit(M.reshape(R.shape), R) if M.shape != R.shape and M.size == R.size else None
    if c is None:
        return []
    right = one(ctx, c)
    if M.ndim > R.ndim:
        how = f"sum without keepdims, or .reshape(-1), to reach {p}'s {R.shape}"
    else:
        how = f"sum with keepdims=True, or .reshape{R.shape}, to reach {p}'s {R.shape}"
    return [Diagnosis(name, "bias_reduction", f"{name} has the shape {M.shape}; {p} is {R.shape}"
                      + (": the values are right" if right else ", and " + scale_text(ctx, name, c)[1]),
                      layer=l, factor=c, hint=how)]


def _unsummed(ctx, kind: str, l: int):
    """(words, the tensor in the spec's layout) that dB, dbeta or dgamma sums over the batch."""
    res = ctx.res
    if kind == "dB":
        return f"dZ{l}", res[f"dZ{l}"]
    if kind == "dbeta":
        return f"dS{l}", res[f"dS{l}"]
    return f"dS{l} * xhat{l}", res[f"dS{l}"] * res[f"xhat{l}"]


def activation(ctx, name, M, R) -> list:
    net, (kind, l) = ctx.net, split(name)
    if kind in ("dA", "dH") or l < 1 or M.shape != R.shape:
        return []  # only what follows the activation: its input's gradient (dZ, or dS), and on
    layer = net.layers[l - 1]
    zn, an = act_io(net, l)
    src, up = ("dS" if layer.norm else "dZ"), ("dH" if layer.dropout else "dA")
    dA, Z, A = (rows(ctx.res[n], net.layout) for n in (f"{up}{l}", zn, an))
    fitting = []
    for label, dZ in derivative_mistakes(ctx, layer, l, dA, Z, A):
        candidate = ctx.as_tensor(name, dZ, src)
        c = ctx.fit(M, candidate) if candidate is not None else None
        if c is not None and ctx.fit(candidate, R) is None:
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
                      f"{layer.activation}" + also_scaled(ctx, name, c), layer=l, factor=c,
                      hint=f"{src}{l} = {up}{l} * {layer.activation}'({zn})")]


def derivative_mistakes(ctx, layer, l, dA, Z, A):
    """(description, the dZ that mistake gives) for the usual activation-derivative mistakes:
    another elementwise activation's derivative at Z (its own forward output from Z where it
    reads one), the record's own ``mistakes``, the derivative taken at A, another layer's mask.
    In a layer with stages, Z and A are the activation's input and output (S, H) and dA its
    output's gradient (dH)."""
    seen = []
    for label, dZ in _derivative_candidates(ctx, layer, l, dA, Z, A):
        if not any(np.allclose(dZ, earlier, rtol=1e-12, atol=0) for earlier in seen):
            seen.append(dZ)  # two mistakes that give the same numbers are one hypothesis
            yield label, dZ


def _derivative_candidates(ctx, layer, l, dA, Z, A):
    own = ACTIVATIONS[layer.activation]
    zn, an = act_io(ctx.net, l)
    for other, spec in ACTIVATIONS.items():
        if other == layer.activation or not spec.elementwise:
            continue
        if other == "identity":
            yield "no activation derivative", dA
            continue
        # as people write it, in this layer's A (tanh' = 1 - A²), and applied to Z (relu'(Z))
        yield f"{other}' ({spec.derivative})", spec.vjp(dA, Z, A, **spec.params)
        yield f"{other}'({zn}) ({spec.derivative}, at {zn})", \
            spec.vjp(dA, Z, spec.f(Z, **spec.params), **spec.params)
    for label, vjp in own.mistakes:
        yield label, vjp(dA, Z, A, **layer.params)
    yield (f"{layer.activation}'({an}) instead of {layer.activation}'({zn})",
           own.vjp(dA, A, own.f(A, **layer.params), **layer.params))
    for k in range(1, len(ctx.net.layers) + 1):
        zk = act_io(ctx.net, k)[0]
        Zk = rows(ctx.res[zk], ctx.net.layout)
        if k != l and Zk.shape == Z.shape:
            yield f"the ReLU mask of layer {k} ({zk} > 0) instead of layer {l}'s", dA * (Zk > 0)


def loss(ctx, name, M, R) -> list:
    """dL/dY (and what follows from it in layer L) written with one of the loss record's usual
    mistakes."""
    from ..numerics.losses import LOSSES, reduction_factor
    from ..numerics.passes import targets

    net, L = ctx.net, len(ctx.net.layers)
    if layer_of(name) != L or M.shape != R.shape:
        return []
    A = rows(ctx.res[f"A{L}"], net.layout)
    T, factor = targets(net, A), reduction_factor(net.reduction, A.shape)
    for label, dterm in LOSSES[net.loss].mistakes:
        candidate = ctx.as_tensor(name, factor * dterm(A, T, **net.loss_params), "dA")
        c = ctx.fit(M, candidate)
        if c is not None and ctx.fit(candidate, R) is None:
            return [Diagnosis(name, "loss_derivative", f"{name} follows from dL/dY = {label}, "
                              f"where {net.loss}'s derivative belongs" + also_scaled(ctx, name, c),
                              layer=L, factor=c, hint=LOSSES[net.loss].why)]
    return []


def scale(ctx, name, M, R) -> list:
    c = ctx.fit(M, R)
    if c is None or one(ctx, c):
        return []
    kind, text = scale_text(ctx, name, c)
    return [Diagnosis(name, kind, text, layer=layer_of(name), factor=c)]


def scale_text(ctx, name: str, c: float) -> tuple[str, str]:
    """(kind, message) for NAME being c times the right value, with its likely cause."""
    size = _size(abs(c), max(1e-9, ctx.rtol))
    if c < 0:
        text = f"{name} has the wrong sign" + ("" if abs(abs(c) - 1) < 1e-6 else
                                               f" and is {size} the right value")
    else:
        text = f"{name} is {size} the right value"
    causes = explain_factor(abs(c), ctx.net)
    return ("sign" if c < 0 else "scale"), text + (f": {causes}" if causes else "")


def _size(c: float, tol: float = 1e-9) -> str:
    """``3 times``, ``1/4 of``, ``5/6 of``; a factor no small fraction gives, as a decimal."""
    f = Fraction(c).limit_denominator(64) if math.isfinite(c) and c > 0 else None
    if f is not None and f.numerator <= 10 ** 6 and abs(float(f) - c) <= tol * c:
        if f.denominator == 1:
            return f"{f.numerator} times"
        return f"{f.numerator}/{f.denominator} {'of' if f < 1 else 'times'}"
    return f"{c:.6g} times"


def explain_factor(c: float, net) -> str:
    """Why a gradient would be c times too large, from the causes the spec's loss and reduction
    make possible (m examples, n outputs, the 2 of a square); '' if nothing fits."""
    from ..numerics.losses import LOSSES

    if not (0 < c < math.inf) or abs(c - 1) < 1e-6:
        return ""
    m, n, red = net.batch, net.widths[-1], net.reduction
    with np.errstate(all="ignore"):  # does dl/dy at y - t = 1 hold a 2, as (y - t)² does?
        two = LOSSES[net.loss].dterm(np.ones((1, 1)), np.zeros((1, 1)), **net.loss_params)
    two = bool(np.isclose(two, 2.0).all())
    reasons = {
        ("m", 1): (red in ("mean", "batch_mean"), f"the 1/m of the mean over the batch is missing (m = {m})"),
        ("m", -1): (True, f"it is divided by m = {m} where the loss does not divide by the batch"
                    if red == "sum" else f"it is divided by m = {m} once more than the loss "
                    "does (1/m twice: in dZ, and again in dW and dB)"),
        ("n", 1): (red == "mean", f"it is averaged over the m examples, but the loss averages over "
                                  f"all m·n = {m * n} elements of Y (n = {n} outputs)"),
        ("n", -1): (red != "mean", f"it is divided by the n = {n} outputs too, where the loss "
                                   f"({red}) does not divide by them"),
        ("2", 1): (not two, "it has a factor of 2 too many (the 2 of a square's derivative, "
                            f"which {net.loss} does not have)"),
        ("2", -1): (two, "the 2 from the derivative of the square, 2(y - t), is missing"),
        ("mn", 1): (red == "mean", f"the 1/(m·n) of the mean over all m·n = {m * n} elements of Y "
                                   "is missing"),
        ("mn", -1): (red == "sum", f"it is divided by m·n = {m * n} where the loss does not divide"),
    }
    value = {"m": m, "n": n, "2": 2, "mn": m * n}
    for count in (1, 2, 3):
        matches = []
        for names in itertools.combinations(("m", "n", "2", "mn"), count):
            if "mn" in names and ("m" in names or "n" in names or n == 1 or m == 1):
                continue
            for signs in itertools.product((1, -1), repeat=count):
                causes = [reasons[(k, s)] for k, s in zip(names, signs)]
                f = np.prod([float(value[k]) ** s for k, s in zip(names, signs)])
                if abs(f - c) <= 1e-6 * c and all(value[k] != 1 for k in names) \
                        and all(ok for ok, _ in causes):
                    matches.append(" and ".join(text for _, text in causes))
        if matches:
            return matches[0] if len(matches) == 1 else \
                "several explanations fit equally: " + "; or ".join(matches)
    return ""
