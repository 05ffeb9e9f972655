"""Batchnorm and dropout at scale: ``nngrad.run`` and ``check --mode fast`` on a staged net beside
the same net without stages, in one run.

    python tests/benchmarks/bench_stages.py [--repeat N]

The net is 784-256-256-10 (ReLU, ReLU, identity; MSE), batch 1024, float64; the staged one adds
batchnorm (random gamma and beta) and dropout (keep 0.5, a seed) to both hidden layers. The issue's
target: the staged net within 1.3x of the plain net's time plus the extra elementwise passes the
stages need. Those passes are timed on their own, as plain numpy on arrays of the same shapes,
written straight from the formulas (numerics/stages.py's docstring):

    forward   mu, var = Z.mean(0), Z.var(0); xhat = (Z - mu) / sqrt(var + eps);
              S = gamma * xhat + beta; A = H * mask / keep
    backward  dH = dA * mask / keep; dxhat = dS * gamma; dgamma = (dS * xhat).sum(0); dbeta = dS.sum(0)
              dZ = (dxhat - dxhat.mean(0) - xhat * (dxhat * xhat).mean(0)) / sqrt(var + eps)

``run``'s allowance is one forward and one backward of them per staged layer. ``check``'s is every
stage forward and backward that the check runs (counted in a separate, untimed check), plus the
tails that its gamma and beta tensors add (2 x directions passes of layers l..L for each, priced
on the plain net): the plain net has no such tensors to check. Each figure is the median of
``repeat`` interleaved runs; nothing is asserted.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import nngrad  # noqa: E402
from bench_core import relu_spec, timed  # noqa: E402
from nngrad.numerics import stages  # noqa: E402
from nngrad.numerics.passes import forward, forward_from, loss_value, targets  # noqa: E402

WIDTHS, BATCH, KEEP, EPS, DIRECTIONS = (784, 256, 256, 10), 1024, 0.5, 1e-5, 8
TARGET = 1.3


def nets() -> tuple[nngrad.Network, nngrad.Network]:
    """The plain net and the same net with batchnorm + dropout on both hidden layers."""
    spec = relu_spec(WIDTHS, BATCH)
    rng = np.random.default_rng(7)
    plain = nngrad.Network(spec["X"], spec["T"], spec["layers"], spec["loss"])
    layers = [nngrad.Layer(layer.W, layer.b, layer.activation) if l == len(WIDTHS) - 2 else
              nngrad.Layer(layer.W, layer.b, layer.activation,
                           batchnorm={"gamma": rng.normal(1, 0.1, layer.W.shape[1]),
                                      "beta": rng.normal(0, 0.1, layer.W.shape[1]), "eps": EPS},
                           dropout={"keep": KEEP, "seed": 100 + l})
              for l, layer in enumerate(spec["layers"])]
    return plain, nngrad.Network(spec["X"], spec["T"], layers, spec["loss"])


def stage_arrays(n: int, seed: int = 3) -> dict:
    """Arrays shaped as one staged layer's, (BATCH, n), for the plain-numpy passes."""
    rng = np.random.default_rng(seed)
    a = lambda: rng.standard_normal((BATCH, n))  # noqa: E731
    return {"Z": a(), "H": a(), "dA": a(), "dS": a(), "gamma": rng.normal(1, 0.1, n),
            "beta": rng.normal(0, 0.1, n), "mask": (rng.random((BATCH, n)) < KEEP).astype(float)}


def extra_forward(Z, H, gamma, beta, mask, **_):
    """The forward passes a batchnorm and a dropout add to a layer, in plain numpy."""
    mu, var = Z.mean(axis=0), Z.var(axis=0)
    std = np.sqrt(var + EPS)
    xhat = (Z - mu) / std
    S = gamma * xhat + beta
    return mu, var, std, xhat, S, H * mask / KEEP


def extra_backward(dA, dS, gamma, mask, xhat, std, **_):
    """The backward passes they add: dropout's dH, the norm's dxhat, dZ, dgamma and dbeta."""
    dH = dA * mask / KEEP
    dxhat = dS * gamma
    dZ = (dxhat - dxhat.mean(axis=0) - xhat * (dxhat * xhat).mean(axis=0)) / std
    return dH, dxhat, dZ, (dS * xhat).sum(axis=0), dS.sum(axis=0)


def medians(contenders: dict, repeat: int) -> dict:
    """Median wall seconds of each contender, measured interleaved after one warm-up each."""
    times: dict = {name: [] for name in contenders}
    for fn in contenders.values():
        fn()
    for _ in range(repeat):
        for name, fn in contenders.items():
            gc.collect()
            times[name].append(timed(fn)[0])
    return {name: statistics.median(t) for name, t in times.items()}


def count_stage_calls(net) -> dict:
    """How many stage forwards and vjps one ``check(net, mode="fast")`` runs, by stage key."""
    counts = {f"{key} {kind}": 0 for key in stages.STAGES for kind in ("forward", "vjp")}
    saved = dict(stages.STAGES)

    def counting(key, kind, fn):
        def counted(*args):
            counts[f"{key} {kind}"] += 1
            return fn(*args)
        return counted
    try:
        for key, stage in saved.items():
            stages.STAGES[key] = stage._replace(forward=counting(key, "forward", stage.forward),
                                                vjp=counting(key, "vjp", stage.vjp))
        nngrad.check(net, mode="fast", directions=DIRECTIONS)
    finally:
        stages.STAGES.update(saved)
    return counts


def tail_costs(plain, repeat: int) -> dict:
    """Seconds of one pass of layers l..L and the loss on the plain net, by l: what fast mode
    spends per direction and sign on a tensor of layer l."""
    Zs, As = forward(plain)
    T = targets(plain, As[-1])

    def tail(l):
        Zt, At, _ = forward_from(plain, l, Zs[l - 1])
        return loss_value(plain, Zt[-1], At[-1], T)
    tails = {l: (lambda l=l: tail(l)) for l in range(1, len(WIDTHS) - 1)}
    return medians(tails, repeat)


def report(repeat: int) -> list[str]:
    plain, staged = nets()
    hidden = WIDTHS[1:-1]
    arrays = [stage_arrays(n, seed=l) for l, n in enumerate(hidden)]
    kept = [{**a, **dict(zip(("mu", "var", "std", "xhat"), extra_forward(**a)[:4]))} for a in arrays]
    t = medians({
        "plain run": lambda: nngrad.run(plain), "staged run": lambda: nngrad.run(staged),
        "plain run keep=grads": lambda: nngrad.run(plain, keep="grads"),
        "staged run keep=grads": lambda: nngrad.run(staged, keep="grads"),
        "extra forward": lambda: [extra_forward(**a) for a in arrays],
        "extra backward": lambda: [extra_backward(**a) for a in kept],
    }, repeat)
    t.update(medians({"plain check": lambda: nngrad.check(plain, mode="fast"),
                      "staged check": lambda: nngrad.check(staged, mode="fast")},
                     max(1, repeat // 3)))
    per_layer_fwd, per_layer_bwd = t["extra forward"] / len(hidden), t["extra backward"] / len(hidden)
    extra_run = t["extra forward"] + t["extra backward"]
    calls = count_stage_calls(staged)
    fwd_calls, bwd_calls = calls["batchnorm forward"], calls["batchnorm vjp"]
    tails = tail_costs(plain, repeat)
    param_tails = sum(2 * 2 * DIRECTIONS * tails[l] for l in tails)  # gamma_l and beta_l
    extra_check = fwd_calls * per_layer_fwd + bwd_calls * per_layer_bwd + param_tails
    ms = lambda s: f"{s * 1000:8.1f} ms"  # noqa: E731
    lines = [f"stages: {'-'.join(map(str, WIDTHS))} ReLU MSE, batch {BATCH}, float64, batchnorm + "
             f"dropout (keep {KEEP}, seed) on both hidden layers; median of {repeat} interleaved runs "
             f"(check: {max(1, repeat // 3)})",
             f"  extra elementwise passes (plain numpy, both layers): forward {ms(t['extra forward'])}, "
             f"backward {ms(t['extra backward'])}"]
    for what, extra in (("run", extra_run), ("run keep=grads", extra_run)):
        p, s = t[f"plain {what}"], t[f"staged {what}"]
        lines.append(f"  nngrad.{what:<16} plain {ms(p)}  staged {ms(s)}  {s / p:5.2f}x plain   "
                     f"staged / (plain + extra {ms(extra).strip()}) = {s / (p + extra):4.2f} "
                     f"(target <= {TARGET})")
    p, s = t["plain check"], t["staged check"]
    lines.append(f"  check --mode fast       plain {ms(p)}  staged {ms(s)}  {s / p:5.2f}x plain   "
                 f"staged / (plain + extra {ms(extra_check).strip()}) = {s / (p + extra_check):4.2f} "
                 f"(target <= {TARGET})")
    lines.append(f"    check's extra: {fwd_calls} forwards and {bwd_calls} backwards of a staged "
                 f"layer's stages, {ms((fwd_calls * per_layer_fwd + bwd_calls * per_layer_bwd)).strip()}"
                 f"; gamma and beta's {2 * 2 * DIRECTIONS * len(tails)} tails priced on the plain net, "
                 f"{ms(param_tails).strip()}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    print("\n".join(report(args.repeat)))


if __name__ == "__main__":
    main()
