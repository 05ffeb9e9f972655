"""Core throughput and memory: ``nngrad.run`` beside the GEMM floor and PyTorch, in one run.

    python tests/benchmarks/bench_core.py [--repeat N] [--batch M]

The net is 784-1024-1024-10 (ReLU, ReLU, identity; MSE), batch 4096, in float32 and float64.
The GEMM floor is the matrix products a full result needs and nothing else: A_{l-1}·W_l for
every layer, A_{l-1}ᵀ·dZ_l for every layer and dZ_l·W_lᵀ for l ≥ 2, on arrays of the same
shapes and dtype. PyTorch (CPU autograd, the same net and loss) is timed when it is installed.
Each contender runs ``repeat`` times, interleaved, and the median is reported. Each keeps what
it computed until its clock has stopped, so that freeing memory is timed for none of them.

Throughput is measured twice: in this process, where every big array gets fresh pages from the
kernel (glibc hands out blocks of 32 MiB and more by mmap, and returns them on free), and in a
child process told to keep freed memory for reuse, which leaves only the arithmetic: the
difference is the kernel's cost of zeroing fresh pages, paid by every array a result holds.

Memory is the peak that tracemalloc sees (NumPy reports its buffers to it) from before the
network is made to the end of the run, divided by the bytes the result must hold: the inputs
(X, T, every W and b) and every array of the result, each buffer counted once.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc

import numpy as np

import nngrad

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # torch's idle threads must not spin while NumPy runs

WIDTHS = (784, 1024, 1024, 10)


def relu_spec(widths, batch: int, seed: int = 0) -> dict:
    """A spec as ``write_spec`` takes it (arrays, and Layers): ReLU hidden layers, an identity
    output, MSE; He-scaled random weights, small random biases."""
    rng = np.random.default_rng(seed)
    layers = [nngrad.Layer(rng.standard_normal((n_in, n_out)) * np.sqrt(2 / n_in),
                           rng.standard_normal(n_out) * 0.1,
                           "relu" if l < len(widths) - 2 else "identity")
              for l, (n_in, n_out) in enumerate(zip(widths, widths[1:]))]
    return {"loss": "mse", "X": rng.standard_normal((batch, widths[0])),
            "T": rng.standard_normal((batch, widths[-1])), "layers": layers}


def relu_net(widths, batch: int, dtype: str = "float64") -> nngrad.Network:
    spec = relu_spec(widths, batch)
    return nngrad.Network(spec["X"], spec["T"], spec["layers"], spec["loss"], dtype=dtype)


def make_net(dtype: str, batch: int) -> nngrad.Network:
    return relu_net(WIDTHS, batch, dtype)


def gemm_floor(net: nngrad.Network):
    """The products alone, on arrays shaped like A_l and dZ_l; returns a closure to time."""
    rng = np.random.default_rng(1)
    dt = net.X.dtype
    Ws = [layer.W for layer in net.layers]
    As = [net.X] + [rng.standard_normal((net.batch, W.shape[1])).astype(dt) for W in Ws[:-1]]
    dZs = [rng.standard_normal((net.batch, W.shape[1])).astype(dt) for W in Ws]

    def products():
        out = [A @ W for A, W in zip(As, Ws)]
        for l in range(len(Ws) - 1, -1, -1):
            out.append(As[l].T @ dZs[l])
            if l:
                out.append(dZs[l] @ Ws[l].T)
        return out
    return products


def torch_step(net: nngrad.Network):
    """PyTorch's forward and backward of the same net and loss, or None without torch."""
    try:
        import torch
    except ImportError:
        return None
    X = torch.from_numpy(net.X)
    T = torch.from_numpy(net.T)
    params = [(torch.from_numpy(layer.W.copy()).requires_grad_(),
               torch.from_numpy(layer.b.copy()).requires_grad_()) for layer in net.layers]

    def step():
        A = X
        for l, (W, b) in enumerate(params):
            Z = torch.addmm(b, A, W)
            A = torch.relu(Z) if l < len(params) - 1 else Z
        loss = torch.nn.functional.mse_loss(A, T)
        for W, b in params:
            W.grad = b.grad = None
        loss.backward()
        return loss
    return step


def timed(fn) -> tuple[float, float]:
    """Wall seconds for ``fn()``, and the kernel's CPU seconds in them (page faults and the
    like); what it returns is freed after the clock stops, as a caller frees a result when it
    is done with it, not inside the call."""
    kernel = resource.getrusage(resource.RUSAGE_SELF).ru_stime
    start = time.perf_counter()
    out = fn()  # noqa: F841
    seconds = time.perf_counter() - start
    kernel = resource.getrusage(resource.RUSAGE_SELF).ru_stime - kernel
    del out
    return seconds, kernel


def throughput(dtype: str, batch: int, repeat: int) -> dict:
    """Median (wall, kernel) seconds of each contender, measured interleaved in this one run."""
    net = make_net(dtype, batch)
    contenders = {"GEMM floor": gemm_floor(net),
                  "nngrad.run": lambda: nngrad.run(net),
                  "nngrad.run keep=grads": lambda: nngrad.run(net, keep="grads")}
    step = torch_step(net)
    if step is not None:
        contenders["PyTorch autograd"] = step
    times: dict[str, list] = {name: [] for name in contenders}
    for fn in contenders.values():  # warm up: BLAS threads, caches, lazy imports
        fn()
    for _ in range(repeat):
        for name, fn in contenders.items():
            gc.collect()
            times[name].append(timed(fn))
    return {name: (statistics.median(w for w, _ in t), statistics.median(k for _, k in t))
            for name, t in times.items()}


def unique_bytes(arrays) -> int:
    seen, total = set(), 0
    for a in arrays:
        base = a if a.base is None else a.base
        if id(base) not in seen:
            seen.add(id(base))
            total += base.nbytes
    return total


def memory(dtype: str, batch: int, keep: str = "all", batch_chunk: int | None = None) -> dict:
    """Peak traced bytes of making the net and running it, beside the bytes the result holds."""
    gc.collect()
    tracemalloc.start()
    net = make_net(dtype, batch)
    res = nngrad.run(net, keep=keep, batch_chunk=batch_chunk)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    inputs = [net.X, net.T] + [a for layer in net.layers for a in (layer.W, layer.b)]
    return {"peak": peak, "held": unique_bytes(inputs + list(res.values()))}


REUSE = {"MALLOC_MMAP_THRESHOLD_": str(1 << 30), "MALLOC_TRIM_THRESHOLD_": str(1 << 32)}


def throughput_lines(batch: int, repeat: int) -> list[str]:
    lines = []
    for dtype in ("float32", "float64"):
        t = throughput(dtype, batch, repeat)
        floor = t["GEMM floor"][0]
        for name, (seconds, kernel) in t.items():
            extra = ""
            if "PyTorch autograd" in t and name.startswith("nngrad"):
                extra = f"   {seconds / t['PyTorch autograd'][0]:5.2f}x PyTorch"
            lines.append(f"  {dtype} {name:<24} {seconds * 1000:8.1f} ms (kernel {kernel * 1000:5.1f}) "
                         f"{seconds / floor:5.2f}x GEMM floor{extra}")
        if "PyTorch autograd" not in t:
            lines.append("  (PyTorch is not installed: pip install '.[bench]' to compare with it)")
    return lines


def memory_lines(batch: int) -> list[str]:
    lines = ["memory: peak traced bytes / bytes the result must hold (inputs, every Z, A, dA, "
             "dZ, dW, dB)"]
    for dtype in ("float32", "float64"):
        whole = memory(dtype, batch)
        lines.append(f"  {dtype} run                    peak {whole['peak'] / 2**20:7.1f} MiB, "
                     f"holds {whole['held'] / 2**20:7.1f} MiB: {whole['peak'] / whole['held']:5.2f}x")
        for chunk in (None, batch // 16):
            m = memory(dtype, batch, keep="grads", batch_chunk=chunk)
            name = "keep=grads" + (f", chunk {chunk}" if chunk else "")
            lines.append(f"  {dtype} {name:<22} peak {m['peak'] / 2**20:7.1f} MiB: "
                         f"{m['peak'] / whole['peak']:5.2f}x the full run's peak, "
                         f"{m['peak'] / m['held']:5.2f}x the inputs and dW, dB it holds")
    return lines


def report_core(batch: int, repeat: int) -> list[str]:
    """Throughput as a fresh process allocates (every big array new pages from the kernel),
    then in a child process whose malloc keeps freed memory for reuse (REUSE), which leaves the
    arithmetic alone; then memory."""
    lines = [f"core: {'-'.join(map(str, WIDTHS))} ReLU MSE, batch {batch}, median of {repeat} "
             f"interleaved runs", "  fresh pages (default malloc):"]
    lines += throughput_lines(batch, repeat)
    child = subprocess.run([sys.executable, __file__, "--throughput-only", "--batch", str(batch),
                            "--repeat", str(repeat)], env={**os.environ, **REUSE},
                           capture_output=True, text=True, check=True)
    lines += ["  memory reused (" + " ".join(f"{k}={v}" for k, v in REUSE.items()) + "):"]
    lines += child.stdout.splitlines()
    return lines + memory_lines(batch)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--batch", type=int, default=4096)
    parser.add_argument("--throughput-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.throughput_only:
        print("\n".join(throughput_lines(args.batch, args.repeat)))
    else:
        print("\n".join(report_core(args.batch, args.repeat)))


if __name__ == "__main__":
    main()
