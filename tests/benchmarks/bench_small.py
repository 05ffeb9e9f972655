"""Small nets, where Python's overhead is the cost: ``nngrad.run`` and ``nngrad step`` beside
the hand-written NumPy a student would write for the same net, in one run.

    python tests/benchmarks/bench_small.py [--quick]

- ``nngrad.run`` on sample net 1 (4-6-6-6-1, ReLU, MSE, one example) and on sample net 4 (Matt
  Mazur's 2-2-2, sigmoid, half_sse), min per call, beside a plain NumPy forward and backward of
  the same net (the same Z, A, dA, dZ, dW, dB; target: at most 1.3x).
- ``nngrad step sample_nets/04_mazur.yaml --steps 10000 -o OUT.yaml``, a whole process (start,
  read, descend, write), beside a whole process that reads the same YAML with PyYAML, runs the
  same 10,000 steps of plain NumPy descent and writes the updated spec with PyYAML (target: at
  most 1.5x). Median of interleaved runs; the two final losses must agree.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import nngrad

SAMPLES = Path(__file__).resolve().parents[2] / "sample_nets"
RELU, MAZUR = SAMPLES / "01_relu_mse.yaml", SAMPLES / "04_mazur.yaml"


def by_hand_relu(X, T, Ws, bs):
    """4-6-6-6-1: ReLU hidden layers, identity output, MSE (mean over every entry)."""
    Z1 = X.dot(Ws[0]) + bs[0]
    A1 = np.maximum(0, Z1)
    Z2 = A1.dot(Ws[1]) + bs[1]
    A2 = np.maximum(0, Z2)
    Z3 = A2.dot(Ws[2]) + bs[2]
    A3 = np.maximum(0, Z3)
    Y = A3.dot(Ws[3]) + bs[3]
    loss = ((Y - T) ** 2).mean()
    dY = 2 * (Y - T) / Y.size
    dW4, dB4 = A3.T.dot(dY), dY.sum(axis=0)
    dA3 = dY.dot(Ws[3].T)
    dZ3 = dA3 * (Z3 > 0)
    dW3, dB3 = A2.T.dot(dZ3), dZ3.sum(axis=0)
    dA2 = dZ3.dot(Ws[2].T)
    dZ2 = dA2 * (Z2 > 0)
    dW2, dB2 = A1.T.dot(dZ2), dZ2.sum(axis=0)
    dA1 = dZ2.dot(Ws[1].T)
    dZ1 = dA1 * (Z1 > 0)
    dW1, dB1 = X.T.dot(dZ1), dZ1.sum(axis=0)
    return loss, (dW1, dW2, dW3, dW4), (dB1, dB2, dB3, dB4)


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def by_hand_mazur(X, T, Ws, bs):
    """2-2-2: sigmoid layers, half_sse (0.5 * sum of squares)."""
    Z1 = X.dot(Ws[0]) + bs[0]
    A1 = sigmoid(Z1)
    Z2 = A1.dot(Ws[1]) + bs[1]
    Y = sigmoid(Z2)
    loss = 0.5 * ((Y - T) ** 2).sum()
    dY = Y - T
    dZ2 = dY * Y * (1 - Y)
    dW2, dB2 = A1.T.dot(dZ2), dZ2.sum(axis=0)
    dA1 = dZ2.dot(Ws[1].T)
    dZ1 = dA1 * A1 * (1 - A1)
    dW1, dB1 = X.T.dot(dZ1), dZ1.sum(axis=0)
    return loss, (dW1, dW2), (dB1, dB2)


def min_per_call(fn, calls: int, rounds: int) -> list[float]:
    """The time of one call in each of ``rounds`` rounds of ``calls`` calls."""
    out = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        out.append((time.perf_counter() - start) / calls)
    return out


def run_lines(quick: bool) -> list[str]:
    lines = ["small nets: nngrad.run beside a hand-written NumPy forward + backward "
             "(min per call of interleaved rounds; target <= 1.3x)"]
    calls, rounds = (200, 5) if quick else (2000, 15)
    for path, by_hand in ((RELU, by_hand_relu), (MAZUR, by_hand_mazur)):
        net = nngrad.load(path)
        args = (net.X, net.T, [layer.W for layer in net.layers], [layer.b for layer in net.layers])
        res, (loss, dWs, dBs) = nngrad.run(net), by_hand(*args)
        same = np.isclose(res.loss, loss, rtol=1e-12) and all(
            np.allclose(res[f"d{kind}{l}"], d, rtol=1e-12, atol=1e-15)
            for kind, ds in (("W", dWs), ("B", dBs)) for l, d in enumerate(ds, 1))
        times: dict = {"nngrad": [], "NumPy": []}
        for _ in range(rounds):
            times["nngrad"] += min_per_call(lambda: nngrad.run(net), calls, 1)
            times["NumPy"] += min_per_call(lambda: by_hand(*args), calls, 1)
        ours, theirs = min(times["nngrad"]), min(times["NumPy"])
        lines.append(f"  {'-'.join(map(str, net.widths)):<10} nngrad.run {ours * 1e6:6.1f} µs, "
                     f"by hand {theirs * 1e6:6.1f} µs: {ours / theirs:5.2f}x"
                     + ("" if same else "   (GRADIENTS DIFFER)"))
    return lines


DESCENT_BY_HAND = r'''
import sys
import numpy as np
import yaml

spec_path, out_path, steps, lr = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
with open(spec_path) as f:
    spec = yaml.safe_load(f)
X, T = np.array(spec["X"], dtype=float), np.array(spec["T"], dtype=float)
Ws = [np.array(layer["W"], dtype=float) for layer in spec["layers"]]
bs = [np.array(layer["b"], dtype=float) for layer in spec["layers"]]


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def loss_and_grads(W1, b1, W2, b2):
    A1 = sigmoid(X.dot(W1) + b1)
    Y = sigmoid(A1.dot(W2) + b2)
    dZ2 = (Y - T) * Y * (1 - Y)
    dZ1 = dZ2.dot(W2.T) * A1 * (1 - A1)
    return 0.5 * ((Y - T) ** 2).sum(), X.T.dot(dZ1), dZ1.sum(axis=0), A1.T.dot(dZ2), dZ2.sum(axis=0)


for k in range(steps):
    loss, dW1, db1, dW2, db2 = loss_and_grads(Ws[0], bs[0], Ws[1], bs[1])
    Ws, bs = [Ws[0] - lr * dW1, Ws[1] - lr * dW2], [bs[0] - lr * db1, bs[1] - lr * db2]
loss = loss_and_grads(Ws[0], bs[0], Ws[1], bs[1])[0]
print(f"step {steps}: loss {loss:.10g}", file=sys.stderr)
for layer, W, b in zip(spec["layers"], Ws, bs):
    layer["W"], layer["b"] = W.tolist(), b.tolist()
with open(out_path, "w") as f:
    yaml.safe_dump(spec, f, sort_keys=False)
'''


def final_loss(stderr: str) -> str:
    return stderr.strip().splitlines()[-1].split("-> ")[-1].split("loss ")[-1]


def step_lines(quick: bool) -> list[str]:
    steps, lr, repeat = 10000, 0.5, 3 if quick else 9
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "descent.py"
        script.write_text(DESCENT_BY_HAND)
        commands = {
            "nngrad step": [sys.executable, "-m", "nngrad", "step", str(MAZUR), "--lr", str(lr),
                            "--steps", str(steps), "-o", str(Path(tmp) / "ours.yaml"),
                            "--force"],
            "by hand": [sys.executable, str(script), str(MAZUR), str(Path(tmp) / "theirs.yaml"),
                        str(steps), str(lr)]}
        times: dict = {name: [] for name in commands}
        losses = {}
        for _ in range(repeat + 1):  # the first round warms the caches and is not counted
            for name, cmd in commands.items():
                start = time.perf_counter()
                done = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env)
                times[name].append(time.perf_counter() - start)
                losses[name] = final_loss(done.stderr)
    ours, theirs = (statistics.median(times[name][1:]) for name in commands)
    same = "" if losses["nngrad step"] == losses["by hand"] else \
        f"   (FINAL LOSSES DIFFER: {losses['nngrad step']} and {losses['by hand']})"
    return [f"step --steps {steps} on Mazur's 2-2-2, whole process, median of {repeat} interleaved "
            f"runs (target <= 1.5x)",
            f"  nngrad step {ours:.2f} s, hand-written NumPy loop {theirs:.2f} s: "
            f"{ours / theirs:.2f}x; final loss {losses['nngrad step']}{same}"]


def report(quick: bool = False) -> list[str]:
    return run_lines(quick) + step_lines(quick)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    print("\n".join(report(parser.parse_args().quick)))


if __name__ == "__main__":
    main()
