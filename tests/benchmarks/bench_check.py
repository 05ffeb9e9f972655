"""nngrad check's speed, each figure beside its yardstick, measured in one run (interleaved).

    python tests/benchmarks/bench_check.py [--quick]

- Full mode on the 20-50-18-1 net (1,987 parameters; tanh, sigmoid or relu hidden layers,
  identity output, MSE), batch 1 and 8: check's time / (2 x parameters x one bare forward), the
  bare forward being a hand-written NumPy forward + loss of the same net, as plain as a
  student's (target: at most 2.5); and the same over nngrad.forward. Min of interleaved rounds.
- Fast mode (8 directions) on depth-10 ReLU nets 784-h-...-h-10 (nine hidden layers of h = 128,
  320, 450: about 0.2, 1 and 2 M parameters), batch 1024: check's time / one nngrad.run (target:
  under 30), beside the same ratio of their matrix products' multiply-adds, the least that the
  localisation per tensor needs: 2 x 8 perturbed passes of layers l+1..L for each of W_l and b_l,
  8 products A_{l-1} V, one run for the analytic gradients and one forward. Min of
  interleaved repeats (a shared machine's noise only adds time).
``--quick`` repeats each measurement fewer times (a smoke run; the figures are noisier).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import nngrad  # noqa: E402
from bench_core import relu_net  # noqa: E402

SMALL = (20, 50, 18, 1)
HIDDEN = {"tanh": np.tanh, "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
          "relu": lambda z: np.maximum(z, 0)}
DEEP = (128, 320, 450)


def small_net(hidden: str, batch: int) -> nngrad.Network:
    rng = np.random.default_rng(0)
    layers = [nngrad.Layer(rng.standard_normal((n_in, n_out)) / np.sqrt(n_in),
                           rng.standard_normal(n_out) * 0.1, hidden if l < 2 else "identity")
              for l, (n_in, n_out) in enumerate(zip(SMALL, SMALL[1:]))]
    return nngrad.Network(rng.standard_normal((batch, SMALL[0])),
                          rng.standard_normal((batch, SMALL[-1])), layers, "mse")


def by_hand_forward(X, T, W1, b1, W2, b2, W3, b3, f):
    """The 20-50-18-1 net's loss, as a student writes it."""
    A1 = f(X @ W1 + b1)
    A2 = f(A1 @ W2 + b2)
    Y = A2 @ W3 + b3
    return ((Y - T) ** 2).mean()


def per_call(fn, calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


def full_lines(quick: bool) -> list[str]:
    lines = ["check full mode, 20-50-18-1 (1,987 parameters): check / (2 x parameters x one "
             "forward), min of interleaved rounds (target <= 2.5)"]
    rounds, calls = (3, 200) if quick else (9, 1000)
    for hidden, f in HIDDEN.items():
        for batch in (1, 8):
            net = small_net(hidden, batch)
            n_params = sum(layer.W.size + layer.b.size for layer in net.layers)
            args = (net.X, net.T, *[a for layer in net.layers for a in (layer.W, layer.b)], f)
            report = nngrad.check(net, mode="full")
            times: dict = {"hand": [], "forward": [], "check": []}
            for _ in range(rounds):
                times["hand"].append(per_call(lambda: by_hand_forward(*args), calls))
                times["forward"].append(per_call(lambda: nngrad.forward(net), calls // 4))
                times["check"].append(per_call(lambda: nngrad.check(net, mode="full"), 3))
            hand, fwd, check = (min(times[k]) for k in ("hand", "forward", "check"))
            lines.append(f"  {hidden:<7} batch {batch}: check {check * 1e3:6.2f} ms; forward by hand "
                         f"{hand * 1e6:5.1f} µs: {check / (2 * n_params * hand):5.2f}x; "
                         f"nngrad.forward {fwd * 1e6:5.1f} µs: {check / (2 * n_params * fwd):5.2f}x"
                         + ("" if report.agree else "   (CHECK DISAGREES)"))
    return lines


def products(widths, m: int) -> tuple[int, int]:
    """Multiply-adds of the matrix products of one run, and of one fast check (8 directions)."""
    layer = [m * a * b for a, b in zip(widths, widths[1:])]
    L = len(layer)
    run = 2 * sum(layer) + sum(layer[1:])  # forward, dW, dA (no dA0)
    tails = sum(2 * 2 * 8 * sum(layer[l + 1:]) for l in range(L))  # W_l, b_l: ± per direction
    return run, run + sum(layer) + tails + 8 * sum(layer)  # + the analytic run, a forward, A V


def fast_lines(quick: bool) -> list[str]:
    lines = ["check --mode fast, depth 10 (784-h x 9-10, ReLU), batch 1024, 8 directions: "
             "check / one nngrad.run, min of interleaved repeats (target < 30)"]
    nets = {h: relu_net((784,) + (h,) * 9 + (10,), batch=1024) for h in DEEP}
    times: dict = {h: {"run": [], "check": []} for h in DEEP}
    agree = {h: nngrad.check(nets[h], mode="fast").agree for h in DEEP} if not quick else {}
    for _ in range(1 if quick else 3):
        for h, net in nets.items():
            nngrad.run(net)
            times[h]["run"].append(per_call(lambda: nngrad.run(net), 1))
            times[h]["check"].append(per_call(lambda: nngrad.check(net, mode="fast"), 1))
    for h, net in nets.items():
        run, check = (min(times[h][k]) for k in ("run", "check"))
        n_params = sum(layer.W.size + layer.b.size for layer in net.layers)
        flops_run, flops_check = products(net.widths, net.batch)
        lines.append(f"  h = {h:<3} ({n_params / 1e6:.2f} M parameters): check {check:5.2f} s, run "
                     f"{run * 1e3:4.0f} ms: {check / run:4.1f} runs; by multiply-adds "
                     f"{flops_check / flops_run:4.1f} runs" +
                     ("   (CHECK DISAGREES)" if agree.get(h) is False else ""))
    return lines


def report(quick: bool) -> list[str]:
    return full_lines(quick) + fast_lines(quick)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="Fewer repeats: a smoke run.")
    args = parser.parse_args()
    started = time.perf_counter()
    for line in report(args.quick):
        print(line, flush=True)
    print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
