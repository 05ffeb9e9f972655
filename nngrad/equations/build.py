"""The chain rule of every layer as equations with shapes, in the spec's own layout.

``explain(net)`` writes the forward pass, the loss with its reduction, and each layer's backward
equations (dA, dZ, dW, dB), as ``Equation`` trees (see ``equations``) that evaluate to the core's
results; a layer's batchnorm, layernorm and dropout add theirs (``stages``). The equations are built from shapes alone, so ``shapewalk`` can also follow a spec
whose shapes do not fit, up to the equation where they fail, saying what was needed.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..model.network import Network
from ..numerics.activations import ACTIVATIONS
from ..numerics.losses import FUSED, LOSSES
from . import expr as E
from . import stages
from .expr import Div, Equation, Flat, Fn, Op, Sum, Sym, Tr, shape_text
from .notation import plain
from .penalty import bias_shape as _bias_shape, penalized as _penalized, penalty as _penalty
from .skeleton import Skeleton, skeleton


@dataclass(frozen=True)
class Explanation:
    """Every equation, forward then loss then backward; ``failure`` the one whose shapes do not fit."""

    skeleton: Skeleton
    equations: tuple

    @property
    def failure(self) -> Equation | None:
        return next((e for e in self.equations if not e.fits), None)


def explain(net: Network) -> Explanation:
    """The equations of ``net``: forward, loss, and backward layer by layer, with shapes."""
    sk = skeleton(net)
    return Explanation(sk, tuple(build(sk)))


# --- the equations ---------------------------------------------------------------------------

def build(sk: Skeleton) -> list[Equation]:
    """Forward, loss, backward; stops after the first equation whose shapes do not fit."""
    eqs: list[Equation] = []
    Zs, As, Fs = _forward(sk, eqs)
    if eqs and not eqs[-1].fits:
        return eqs
    _loss(sk, As[-1], eqs)
    if not eqs[-1].fits:
        return eqs
    _backward(sk, Zs, As, Fs, eqs)
    return eqs


def _sym(name: str, shape) -> Sym:
    return Sym(name, None if shape is None else tuple(shape))


def _forward(sk: Skeleton, eqs: list) -> tuple[list, list, list]:
    """Each layer's Z and A, and its activation's input and output (S or Z, H or A)."""
    rows_ = sk.layout == "rows"
    A_prev = _sym("X", sk.X)
    Zs, As, Fs = [], [], []
    for l, layer in enumerate(sk.layers, start=1):
        W = _sym(f"W{l}", layer.W)
        n = layer.W[1] if rows_ else layer.W[0]
        given = layer.b
        b = _sym(f"b{l}", _bias_shape(sk, n) if given is None or len(given) == 1 and given[0] == n
                 else given)
        product = Op("@", A_prev, W) if rows_ else Op("@", W, A_prev)
        rhs = Op("+", product, b)
        needed = _w_needed(sk, l, A_prev, layer.W, given) if product.shape is None \
            else _b_needed(sk, l, given, n)
        Z = _sym(f"Z{l}", rhs.shape)
        eqs.append(Equation(Z, rhs, l, "forward", _bias_note(sk, l, given), needed))
        if needed:
            return Zs, As, Fs
        x = Z if layer.norm is None else stages.forward(sk, l, layer.norm, Z, n, eqs)
        if x is None:
            return Zs, As, Fs
        act = ACTIVATIONS[layer.activation]
        A = H = _sym(f"{'A' if layer.dropout is None else 'H'}{l}", x.shape)
        f = x if layer.activation == "identity" else Fn(layer.activation, x, sk.layout, layer.alpha,
                                                         boxed=True)
        eqs.append(Equation(H, f, l,
                            "forward", f"{layer.activation}(z) = {act.formula}"
                            + (f", α = {layer.alpha:g}" if layer.alpha is not None else "")
                            + (", entry by entry" if act.elementwise
                               else ", over each example's features")))
        if layer.dropout is not None:
            A = stages.forward(sk, l, layer.dropout, H, n, eqs)
            if A is None:
                return Zs, As, Fs
        Zs.append(Z)
        As.append(A)
        Fs.append((x, H))
        A_prev = A
    return Zs, As, Fs


def _w_needed(sk: Skeleton, l: int, A_prev: Sym, W: tuple, b) -> str:
    rows_ = sk.layout == "rows"
    k = A_prev.shape[1] if rows_ else A_prev.shape[0]
    side, dim = ("columns", "rows") if rows_ else ("rows", "columns")
    msg = f"{A_prev.name} has {k} {side}, so W{l} needs {k} {dim}; it is ({shape_text(W)})"
    if (W[1] if rows_ else W[0]) == k:
        return msg + f": did you mean its transpose ({shape_text(W[::-1])})?"
    n = str(b[0]) if b is not None and len(b) == 1 else f"n{l}"
    return msg + f", and must be ({k}×{n})" if rows_ else msg + f", and must be ({n}×{k})"


def _b_needed(sk: Skeleton, l: int, given, n: int) -> str:
    if given is None or given in ((n,), _bias_shape(sk, n)):
        return ""
    return (f"b{l} must be ({n},) or ({shape_text(_bias_shape(sk, n))}) to match W{l}'s {n} "
            f"outputs, not ({shape_text(given)})")


def _bias_note(sk: Skeleton, l: int, given) -> str:
    along = "row" if sk.layout == "rows" else "column"
    if given is None:
        return f"b{l} is omitted: zeros"
    if len(given) == 1:
        return f"b{l} is given as ({given[0]},) and added to every {along}, one per example"
    return f"b{l} is added to every {along}, one per example"


def _reduce(sk: Skeleton, x, n_out: int):
    """``x`` divided as the reduction says: (expression, what the divisor is)."""
    m = sk.m
    if sk.reduction == "mean":
        return Div(x, m * n_out), (f"the mean divides by m·n{len(sk.layers)} = {m}×{n_out}, "
                                   f"{_n(m * n_out, 'entry', 'entries')} of Y")
    if sk.reduction == "batch_mean":
        return Div(x, m), f"batch_mean divides by m, {_n(m, 'example')}"
    return x, "sum: no division"


def _loss(sk: Skeleton, Y: Sym, eqs: list) -> None:
    L = len(sk.layers)
    T = _sym("T", sk.T)
    n_out = Y.shape[1] if sk.layout == "rows" else Y.shape[0]
    term = LOSSES[sk.loss].rule(E, Y, T, _loss_params(sk))
    rhs, why = _reduce(sk, Sum(term), n_out)
    penalty, said = _penalty(sk)
    if penalty is not None:
        rhs, why = Op("+", rhs, penalty), f"{why}; {said}"
    needed = "" if T.shape == Y.shape else \
        f"T must be ({shape_text(Y.shape)}), the shape of the output A{L}, not ({shape_text(T.shape)})"
    if sk.labels and not needed:
        why += f"; T is the one-hot ({shape_text(T.shape)}) matrix of the {sk.m} class labels"
    eqs.append(Equation(Sym("L", ()), rhs, L, "loss",
                        f"{sk.loss}: l(y, t) = {LOSSES[sk.loss].formula}, summed; {why}", needed))


def _backward(sk: Skeleton, Zs: list, As: list, Fs: list, eqs: list) -> None:
    rows_ = sk.layout == "rows"
    L = len(sk.layers)
    T = _sym("T", sk.T)
    dZ_next = None
    for l in range(L, 0, -1):
        layer = sk.layers[l - 1]
        Z, A = Zs[l - 1], As[l - 1]
        dA = _sym(f"dA{l}", A.shape)
        n = A.shape[1] if rows_ else A.shape[0]
        if l == L:
            record = LOSSES[sk.loss]
            dterm, dterm_why = record.grad_rule(E, A, T, _loss_params(sk)), record.why
            rhs, why = _reduce(sk, dterm, n)
            once = "" if rhs is dterm else "; dividing here, once, carries into every dW and dB below"
            eqs.append(Equation(dA, rhs, l, "backward", f"dL/dA{l}: {dterm_why}; {why}{once}"))
        else:
            W_next = _sym(f"W{l + 1}", sk.layers[l].W)
            arrives = Op("@", dZ_next, Tr(W_next)) if rows_ else Op("@", Tr(W_next), dZ_next)
            eqs.append(Equation(dA, arrives, l, "backward",
                                f"Z{l + 1} = {plain(_affine(sk, A, W_next))} + b{l + 1}: the gradient "
                                f"flows back through W{l + 1}, transposed"))
        dZ = _sym(f"dZ{l}", Z.shape)
        fused = FUSED.get((layer.activation, sk.loss)) if l == L else None
        if fused is not None:
            eqs.append(_fused(sk, dZ, A, T, n))
        else:
            act = ACTIVATIONS[layer.activation]
            p = {**layer.params, "layout": sk.layout}
            x, H = Fs[l - 1]
            g = dA if layer.dropout is None else stages.backward(sk, l, layer.dropout, dA, n, eqs)
            dx = dZ if layer.norm is None else _sym(f"dS{l}", Z.shape)
            eqs.append(Equation(dx, act.rule(E, g, x, H, p), l, "backward", act.why + (
                "" if x is Z else f"; here f's input is S{l}, the normalised Z{l}")))
            if layer.norm is not None:
                stages.backward(sk, l, layer.norm, dx, n, eqs)
            elif l < L and layer.activation != "identity" and layer.dropout is None:
                eqs.append(Equation(dZ, act.rule(E, arrives, Z, A, p), l, "backward",
                                    f"in one line: the chain rule from dZ{l + 1} to dZ{l}"))
        A_prev = As[l - 2] if l > 1 else _sym("X", sk.X)
        W = _sym(f"W{l}", layer.W)
        dW, extra = _penalized(sk, Op("@", Tr(A_prev), dZ) if rows_ else Op("@", dZ, Tr(A_prev)), W)
        eqs.append(Equation(_sym(f"dW{l}", layer.W), dW, l, "backward",
                            f"Z{l} = {plain(_affine(sk, A_prev, W))} + b{l}: "
                            f"the product sums over {_n(sk.m, 'example')}, "
                            f"and dW{l} has W{l}'s shape{extra}"))
        given = layer.b or (n,)
        axis, along = ("rows", "row") if rows_ else ("cols", "column")
        keep = len(given) == 2
        b = _sym(f"b{l}", _bias_shape(sk, n))  # as added; read as given
        dB, extra = _penalized(sk, Sum(dZ, axis, keepdims=keep), b if keep else Flat(b), bias=True)
        eqs.append(Equation(_sym(f"dB{l}", given), dB, l, "backward",
                            f"b{l} is added to every {along}, so dB{l} sums dZ{l} over the "
                            f"{axis.replace('cols', 'columns')}, in b{l}'s shape ({', '.join(map(str, given))}"
                            f"{',' if len(given) == 1 else ''}){extra}"
                            + (f"; batchnorm subtracts the batch mean, so b{l} cancels: dB{l} is 0 "
                               "up to rounding" if layer.norm and layer.norm.key == "batchnorm" else "")))
        dZ_next = dZ
    W1 = _sym("W1", sk.layers[0].W)
    eqs.append(Equation(_sym("dA0", sk.X), Op("@", dZ_next, Tr(W1)) if rows_ else Op("@", Tr(W1), dZ_next),
                        1, "backward", "the input gradient dX (run --input-grad): the gradient flows "
                        "back through W1 into X, and dA0 has X's shape"))


def _n(n: int, word: str, words: str = "") -> str:
    return f"{n} {word if n == 1 else words or word + 's'}"


def _affine(sk: Skeleton, A_prev: Sym, W: Sym):
    return Op("@", A_prev, W) if sk.layout == "rows" else Op("@", W, A_prev)


def _fused(sk: Skeleton, dZ: Sym, A: Sym, T: Sym, n: int) -> Equation:
    l = len(sk.layers)
    act = sk.layers[-1].activation
    fused = FUSED[(act, sk.loss)]
    rhs, why = _reduce(sk, fused.rule(E, A, T, sk.soft_targets, sk.layout), n)
    return Equation(dZ, rhs, l, "backward",
                    f"{act} and {sk.loss} fused: {fused.why} simplifies to this, computed from "
                    f"Z{l} so that it stays finite when A{l} saturates; {why}")


def _loss_params(sk: Skeleton) -> dict:
    return {**sk.loss_params, "layout": sk.layout}
