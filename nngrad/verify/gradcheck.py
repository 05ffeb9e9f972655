"""Gradient checking: nngrad's analytic dW, dB (dgamma, dbeta) against central finite differences.

The numeric side always runs in float64: d ≈ (L(p + eps) - L(p - eps)) / (2 eps). Full mode
perturbs every parameter (2 forward passes each). Fast mode checks ``directions`` random unit
directions v per tensor, comparing the directional derivative (L(p + eps v) - L(p - eps v)) / 2eps
with sum(G * v), so its cost does not grow with the number of parameters (as PyTorch's
gradcheck fast mode). For W, b and X, both move Z_l from the unperturbed pass, Z_l ± eps
(A_{l-1} · V) for W_l and Z_l ± eps v for b_l (an entry: V one-hot), and stack a tensor's
perturbations into blocks that each run layers l..L once (``stacked``); a norm or dropout runs
on each group as a whole batch. A full-mode X entry on a net with stages (it moves one example,
and the batch statistics with it) and a norm's gamma and beta run one at a time: full mode
moves the parameter and runs the whole net (``_full``); fast mode moves Z_l, or gamma_l and
beta_l in place with Z_l kept, and runs layers l..L (``_fast``). A perturbation
that moves a pre-activation across a kink (each activation's and loss's record says where: relu
at 0, mae where y = t, svm at a margin of 0; the L1 penalty at a weight of 0) is skipped and
reported, not failed. A tensor that is 0 to within atol on both sides (b before a batchnorm,
which the norm's mean removes) has relative error 0: its finite differences' rounding noise has
no scale to be relative to.

``part`` checks the whole loss (``all``), or the loss of the outputs (``data``) or the penalty
alone (``penalty``), as cs231n advises; ``input_grad`` also checks dA0 by perturbing X.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..errors import NngradError
from ..model.network import Network
from ..model.shapes import rows
from ..numerics.activations import ACTIVATIONS
from ..numerics.losses import LOSSES
from ..numerics.passes import forward, forward_from, forward_loss, loss_value, run, targets
from ..numerics.regularization import penalty, penalty_grads
from .report import (OK, SKIPPED_KINK, TOLERANCES, WRONG_VALUES, Report, TensorReport,
                     overflow_warning)
from .stacked import applies, fast_directions, full_entries, kind_of as _kind
from .tails import user_index as _user_index

from . import MODES, PARTS  # noqa: F401 - gradcheck.PARTS as before


def check_gradients(net: Network, *, mode: str = "auto", eps: float = 1e-6,
                    rtol: float | None = None, atol: float | None = None, directions: int = 8,
                    full_max_params: int = 2000, worst: int = 5, seed: int = 0,
                    part: str = "all", input_grad: bool = False, progress=None) -> Report:
    """Check every dW and dB of ``net`` against finite differences; a ``Report`` per tensor.

    ``mode``: ``full``, ``fast`` or ``auto`` (full up to ``full_max_params`` parameters).
    A tensor agrees when max|analytic - numeric| <= atol + rtol * max|numeric|; rtol and atol
    default to ``TOLERANCES[net.dtype]`` (looser for float32, whose analytic pass is float32).
    ``progress``, if given, is called as ``progress(done, total)`` after each perturbation (an
    entry in full mode, a direction in fast mode), ``total`` being how many there are.
    """
    if mode not in MODES:
        raise NngradError(f"unknown check mode {mode!r}; expected one of: {', '.join(MODES)}")
    if part not in PARTS:
        raise NngradError(f"unknown part {part!r}; expected one of: {', '.join(PARTS)}")
    if part == "penalty" and net.regularization is None:
        raise NngradError("the spec has no regularization, so part 'penalty' has nothing to check")
    if not (eps > 0 and directions >= 1):
        raise NngradError("eps must be positive and directions at least 1")
    rtol = TOLERANCES[net.dtype][0] if rtol is None else rtol
    atol = TOLERANCES[net.dtype][1] if atol is None else atol
    if not (rtol >= 0 and atol >= 0):  # nan too
        raise NngradError(f"rtol and atol must be 0 or more, not {rtol!r} and {atol!r}")
    analytic = _analytic(net, part, input_grad)
    net64 = _float64_copy(net)
    params = [(name, p) for name, _, _, p in net64.parameters()]
    if input_grad:
        params.insert(0, ("dA0", net64.X))
    objective = Objective(part != "penalty", part != "data" and net.regularization is not None)
    n_params = sum(p.size for name, p in params if name != "dA0")
    if mode == "auto":
        mode = "full" if n_params + (net.X.size if input_grad else 0) <= full_max_params else "fast"
    rng = np.random.default_rng(seed)
    base = _unperturbed(net64) if objective.data or mode == "fast" else None
    report = Report("check", settings={"mode": mode, "eps": eps, "rtol": rtol, "atol": atol,
                                       "parameters": n_params, "dtype": net.dtype, "part": part,
                                       **({"inputs": net.X.size} if input_grad else {}),
                                       **({"directions": directions} if mode == "fast" else {})})
    candidates, tick = [], _counter(progress, sum(P.size if mode == "full" else directions
                                                  for _, P in params))
    for name, P in params:
        G = np.asarray(analytic[name], dtype=np.float64)
        stacked = applies(net64, name, objective, mode)
        if mode == "full":
            a, n, kinks = (G.reshape(-1), *full_entries(net64, base, name, P, eps, objective, tick)) \
                if stacked else _full(net64, name, P, G, eps, objective, tick)
        else:
            a, n, kinks = (fast_directions if stacked else _fast)(
                net64, base, name, P, G, eps, directions, rng, objective, tick)
        at = (lambda i: (i,)) if mode == "fast" else \
            (lambda i, s=P.shape: tuple(map(int, np.unravel_index(i, s))))
        with np.errstate(all="ignore"):  # inf - inf where the net overflowed: nan, never ok
            report.tensors[name] = _verdict(a, n, kinks, rtol, atol)
            candidates += _elements(name, a, n, kinks, at, worst)
        report.skipped += [f"{name}{_label(at(i), mode)}: {why}; skipped" for i, why in kinks.items()]
    overflowed = analytic.first_nonfinite() if hasattr(analytic, "first_nonfinite") else None
    if overflowed is not None:
        report.warnings.append(overflow_warning(overflowed))
    if net.dtype == "float32":
        report.warnings.append(f"the spec is float32: its analytic gradients are computed in "
                               f"float32, so they are held to rtol={rtol:g}, atol={atol:g}")
    report.worst = sorted(candidates, key=lambda c: -c[4] if c[4] == c[4] else -np.inf)[:worst]
    return report


@dataclass(frozen=True)
class Objective:
    """What is differentiated: the loss of the outputs (``data``), the ``penalty``, or both."""

    data: bool
    penalty: bool

    def loss(self, net) -> tuple:
        """(loss, Zs, As, stage values) of ``net`` as it is now; the lists empty without the
        data part."""
        value, Zs, As, Ss = forward_loss(net, with_penalty=False) if self.data else (0.0, [], [], [])
        return value + (penalty(net) if self.penalty else 0.0), Zs, As, Ss


def _analytic(net: Network, part: str, input_grad: bool) -> dict:
    """The gradients under test: of the whole loss, of the data part, or of the penalty."""
    if part == "penalty":  # X carries no penalty: dA0 is 0 (a spec without one is refused above)
        grads = penalty_grads(net)
        return {"dA0": np.zeros_like(net.X),
                **{name: grads.get(name, np.zeros_like(p)) for name, _, _, p in net.parameters()}}
    return run(net if part == "all" else replace(net, regularization=None), input_grad=input_grad)


def _float64_copy(net: Network) -> Network:
    """A float64 network whose X and parameters are fresh C-ordered arrays, safe to perturb in
    place (a dropout mask too: it is float64 and stays as drawn)."""
    own = lambda a: np.array(a, dtype=np.float64, order="C")  # noqa: E731
    fresh = net.with_parameters({(l, kind): own(p) for _, l, kind, p in net.parameters()})
    layers = [replace(layer, dropout=layer.dropout._replace(mask=own(layer.dropout.mask)))
              if layer.dropout is not None else layer for layer in fresh.layers]
    return replace(fresh, X=own(net.X), layers=tuple(layers), dtype="float64")


def _counter(progress, total: int):
    """``tick(k=1)``, to call after k perturbations: tells ``progress(done, total)`` for each."""
    done = 0

    def tick(k: int = 1) -> None:
        nonlocal done
        for _ in range(k if progress is not None else 0):
            done += 1
            progress(done, total)

    return tick


def _full(net, name, P, G, eps, objective, tick):
    flat, numeric, kinks = P.reshape(-1), np.empty(P.size), {}
    for i in range(P.size):
        saved = flat[i]
        flat[i] = saved + eps
        plus = objective.loss(net)
        flat[i] = saved - eps
        minus = objective.loss(net)
        flat[i] = saved
        numeric[i] = (plus[0] - minus[0]) / (2 * eps)
        crossing = _kink_crossed(net, plus, minus) if objective.data else None
        crossing = crossing or _l1_crossed(net, name, objective, saved + eps, saved - eps)
        if crossing:
            kinks[i] = crossing
        tick()
    return G.reshape(-1), numeric, kinks


def _l1_crossed(net, name, objective, plus, minus) -> str | None:
    """Where a perturbation of a penalized parameter moves an entry across 0, the L1 kink."""
    reg = net.regularization
    if not objective.penalty or not reg.l1 or name == "dA0" or not reg.penalized(_kind(name)):
        return None
    if np.any(np.sign(plus) != np.sign(minus)):
        return "crosses the L1 kink at 0"
    return None


def _unperturbed(net):
    """The Zs, As and targets that fast mode perturbs from, computed once."""
    with np.errstate(all="ignore"):
        Zs, As = forward(net)
    return Zs, As, targets(net, As[-1])


def _fast(net, base, name, P, G, eps, directions, rng, objective, tick):
    """Fast mode for one tensor: W_l moves Z_l by eps (A_{l-1} V), b_l by eps v and X by eps (V
    W_1); a norm's gamma or beta enters after Z_l, so it is moved in place and Z_l kept. Each
    runs layers l..L from there."""
    kind = _kind(name)
    l = 1 if name == "dA0" else int(name[1 + len(kind):])
    Zs, As, T = base
    A_prev = As[l - 2] if l > 1 else rows(net.X, net.layout)
    reg, penalized = net.regularization, objective.penalty and name != "dA0" and \
        net.regularization.penalized(kind)
    analytic, numeric, kinks = np.empty(directions), np.empty(directions), {}
    for j in range(directions):
        v = rng.standard_normal(G.shape)
        v /= np.linalg.norm(v)
        crossing, numeric[j] = None, 0.0
        with np.errstate(all="ignore"):
            if objective.data and kind in ("gamma", "beta"):
                plus, minus = (_moved_tail(net, l, Zs[l - 1], T, P, sign * eps * v) for sign in (1, -1))
            elif objective.data:
                dZ = rows(v, net.layout) @ rows(net.layers[0].W, net.layout) if name == "dA0" else \
                    A_prev @ rows(v, net.layout) if kind == "W" else v.reshape(-1)
                plus, minus = (_tail_loss(net, l, Zs[l - 1] + sign * eps * dZ, T) for sign in (1, -1))
            if objective.data:
                numeric[j] = (plus[0] - minus[0]) / (2 * eps)
                crossing = _kink_crossed(net, plus, minus, first=l)
            if penalized:
                moved = [P + eps * v, P - eps * v]
                numeric[j] += (reg.penalty(moved[:1], net.batch) - reg.penalty(moved[1:], net.batch)) / (2 * eps)
                crossing = crossing or _l1_crossed(net, name, objective, *moved)
            analytic[j] = float((G * v).sum())
        if crossing:
            kinks[j] = crossing
        tick()
    return analytic, numeric, kinks


def _moved_tail(net, l, Z, T, P, step):
    """``_tail_loss`` from layer l's unperturbed Z with P (a norm's gamma or beta, which layer l
    reads) moved by ``step`` in place, and then put back exactly."""
    saved = P.copy()
    P += step
    try:
        return _tail_loss(net, l, Z, T)
    finally:
        P[...] = saved


def _tail_loss(net, l, Z, T):
    Zs, As, Ss = forward_from(net, l, Z)
    return loss_value(net, Zs[-1], As[-1], T), Zs, As, Ss


def _kink_crossed(net, plus, minus, first: int = 1) -> str | None:
    """Where the + and - perturbations fall on two sides of a kink, in words; else None.
    ``plus`` and ``minus`` hold the Zs, As and stage values of layers ``first``..L; each
    activation's and the loss's record gives the array whose sign changes at its kinks, read at
    the activation's input (S, after a norm)."""
    (_, Zp, Ap, Sp), (_, Zm, Am, Sm) = plus, minus
    for l, layer in enumerate(net.layers[first - 1:], start=first):
        kink = ACTIVATIONS[layer.activation].kink
        if kink is not None:
            k, name = l - first, "Z" if layer.norm is None else "S"  # S: only after a norm
            inp = (lambda Z, S: Z if S is None else S["S"])  # noqa: E731
            crossed = (kink(inp(Zp[k], Sp[k])) > 0) != (kink(inp(Zm[k], Sm[k])) > 0)
            if crossed.any():
                at = _user_index(np.argwhere(crossed)[0], net.layout)
                return f"crosses the {layer.activation} kink of {name}{l}{at}"
    kink = LOSSES[net.loss].kink
    if kink is not None:
        T = targets(net, Ap[-1])
        crossed = (kink(Ap[-1], T, **net.loss_params) > 0) != (kink(Am[-1], T, **net.loss_params) > 0)
        if crossed.any():
            at = _user_index(np.argwhere(crossed)[0], net.layout)
            return f"crosses the {net.loss} kink of A{len(net.layers)}{at} ({LOSSES[net.loss].kink_at})"
    return None


def _verdict(a, n, kinks, rtol, atol) -> TensorReport:
    keep = np.ones(a.shape, dtype=bool)
    keep[list(kinks)] = False
    if not keep.any():
        return TensorReport(SKIPPED_KINK, 0.0, 0.0, checked=0, skipped=len(kinks))
    err = np.abs(a - n)[keep]
    scale = float(np.abs(n[keep]).max())
    max_abs = float(err.max())
    max_rel = max_abs / scale if scale else (0.0 if max_abs == 0 else np.inf)
    if scale <= atol and max_abs <= atol:  # 0 on both sides, to within atol: see the docstring
        max_rel = 0.0
    status = OK if max_abs <= atol + rtol * scale else WRONG_VALUES
    return TensorReport(status, max_abs, max_rel, checked=int(keep.sum()), skipped=len(kinks))


def _elements(name, a, n, kinks, at, most: int):
    """(name, index, analytic, numeric, |a - n| / max|n|) for the ``most`` entries not skipped
    with the largest errors (a nan first; ties in entry order), or for all if ``most`` < 0."""
    scale = float(np.abs(n).max()) or 1.0
    kept = np.ones(a.size, dtype=bool)
    kept[list(kinks)] = False
    index = np.flatnonzero(kept)
    rel = np.abs(a[index] - n[index]) / scale
    order = np.argsort(np.where(rel == rel, -rel, -np.inf), kind="stable")
    order = order[:most] if most >= 0 else order
    return [(name, at(int(i)), float(a[i]), float(n[i]), float(e))
            for i, e in zip(index[order], rel[order])]


def _label(index: tuple, mode: str) -> str:
    """``[3, 1]`` for an entry, `` direction 3`` for a fast-mode direction."""
    return f" direction {index[0]}" if mode == "fast" else "[" + ", ".join(map(str, index)) + "]"
