"""A batch bigger than memory: ``nngrad run BIG.npz --keep grads --batch-chunk N``.

    python tests/benchmarks/bench_bigbatch.py [--quick]

"The machine's free memory" is a cgroup (v1 memory controller) made for the child process:
1 GiB (--quick: 256 MiB), swap included. The NPZ, written to a temporary folder in blocks, is 3
times that: X (m, 784) and T (m, 10) of float64, stored uncompressed as ``np.savez`` stores
them, for a 784-64-10 ReLU net with mse. Its page cache is dropped before the child starts, so
that the child reads the file itself, charged to its cgroup.

- exact: dW1, dB1, dW2, dB2 and the loss against a reference written here in plain NumPy,
  summed over the same chunks as the data were written (independent of nngrad); max relative
  error per tensor, which must be ~1e-15.
- memory: the child's peak RSS (``ru_maxrss``, which counts the pages of the mapped file it
  has touched) beside 2 x one chunk's working set (``memory.run_bytes`` at the chunk) plus the
  parameters' bytes; the target is a ratio under 1. Beside it, the peak RSS of the same command
  on a 2-example NPZ (what the interpreter, numpy and nngrad take before any data), and the
  cgroup's own peak (``memory.max_usage_in_bytes``: RSS, page cache and kernel memory).

Where no cgroup can be made (not root, no v1 memory controller), the child runs unlimited and
the report says so; the figures are still measured. Every file written is removed.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np

CGROUPS = Path("/sys/fs/cgroup/memory")
WIDTHS = (784, 64, 10)
SEED = 18


def report(quick: bool) -> list[str]:
    limit = (256 if quick else 1024) << 20
    chunk = 8192 if quick else 16384
    folder = Path(tempfile.mkdtemp(prefix="nngrad-bigbatch-"))
    try:
        return _measure(folder, limit, chunk)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _measure(folder: Path, limit: int, chunk: int) -> list[str]:
    n0, n1, n2 = WIDTHS
    m = 3 * limit // (8 * (n0 + n2))
    net = _parameters()
    started = time.perf_counter()
    reference = _write(folder / "big.npz", net, m, chunk)
    written = time.perf_counter() - started
    size = (folder / "big.npz").stat().st_size
    _write(folder / "tiny.npz", net, 2, chunk)
    group, why = _cgroup(limit)
    try:
        started = time.perf_counter()
        rss, code, err = _child(folder / "big.npz", folder / "grads.npz", chunk, group)
        took = time.perf_counter() - started
        cgroup_peak = int((group / "memory.max_usage_in_bytes").read_text()) if group else None
        base, _, _ = _child(folder / "tiny.npz", folder / "tiny_grads.npz", chunk, group)
    finally:
        if group is not None:
            group.rmdir()
    lines = [f"bigbatch: {m:,} examples of {n0} features, a {size / 2**30:.2f} GiB NPZ "
             f"(written in {written:.1f} s), --batch-chunk {chunk}",
             f"  memory limit: {f'a cgroup of {limit / 2**20:.0f} MiB' if group else why}"]
    if code != 0:
        return lines + [f"  FAILED: exit status {code}: {err.strip()[-300:]}"]
    got = np.load(folder / "grads.npz")
    errors = {name: _relative(got[name], want) for name, want in reference.items()}
    lines.append("  exact: max relative error " + ", ".join(f"{k} {v:.1e}" for k, v in errors.items())
                 + (" (ok)" if max(errors.values()) < 1e-12 else " (WRONG)"))
    working, params = _working_set(chunk, net)
    bound = 2 * working + params
    lines.append(f"  peak RSS {rss / 2**20:.0f} MiB = {rss / bound:.2f}x (2 x a chunk's working set "
                 f"{working / 2**20:.0f} MiB + parameters {params / 2**20:.1f} MiB = "
                 f"{bound / 2**20:.0f} MiB; target < 1); the run took {took:.1f} s")
    lines.append(f"  beside: the same command on a 2-example NPZ peaks at {base / 2**20:.0f} MiB; "
                 + (f"the cgroup's peak {cgroup_peak / 2**20:.0f} MiB" if cgroup_peak else
                    "no cgroup peak"))
    return lines


def _parameters() -> dict:
    rng = np.random.default_rng(SEED)
    n0, n1, n2 = WIDTHS
    return {"W1": rng.standard_normal((n0, n1)) / np.sqrt(n0), "b1": rng.standard_normal(n1) * 0.1,
            "W2": rng.standard_normal((n1, n2)) / np.sqrt(n1), "b2": rng.standard_normal(n2) * 0.1}


def _write(path: Path, net: dict, m: int, chunk: int) -> dict:
    """An NPZ of ``m`` examples, X and T written ``chunk`` rows at a time; the gradients of a
    784-64-10 relu/identity net with mse (mean), by hand, summed over the same chunks."""
    n0, n1, n2 = WIDTHS
    W1, b1, W2, b2 = net["W1"], net["b1"], net["W2"], net["b2"]
    grads = {"dW1": 0.0, "dB1": 0.0, "dW2": 0.0, "dB2": 0.0, "loss": 0.0}
    factor = 1.0 / (m * n2)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, width in (("X", n0), ("T", n2)):
            with zf.open(f"{name}.npy", "w", force_zip64=True) as f:
                np.lib.format.write_array_header_1_0(
                    f, {"descr": "<f8", "fortran_order": False, "shape": (m, width)})
                for start in range(0, m, chunk):
                    rows = min(chunk, m - start)
                    X, T = _block(start, rows)
                    f.write((X if name == "X" else T).data)
                    if name == "X":
                        Z1 = X @ W1 + b1
                        A1 = np.maximum(Z1, 0.0)
                        Y = A1 @ W2 + b2
                        dY = 2.0 * factor * (Y - T)
                        dZ1 = (dY @ W2.T) * (Z1 > 0)
                        grads["loss"] += factor * ((Y - T) ** 2).sum()
                        grads["dW2"] += A1.T @ dY
                        grads["dB2"] += dY.sum(axis=0)
                        grads["dW1"] += X.T @ dZ1
                        grads["dB1"] += dZ1.sum(axis=0)
        for name, value in {**net, "activations": np.array(["relu", "identity"]),
                            "loss": np.array("mse")}.items():
            with zf.open(f"{name}.npy", "w") as f:
                np.lib.format.write_array(f, np.asarray(value), allow_pickle=False)
    with open(path, "rb") as f:  # the child reads the file from disk, charged to its cgroup
        os.fsync(f.fileno())
        os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
    return grads


def _block(start: int, rows: int) -> tuple:
    rng = np.random.default_rng((SEED, start))
    return rng.standard_normal((rows, WIDTHS[0])), rng.standard_normal((rows, WIDTHS[-1]))


def _cgroup(limit: int) -> tuple:
    """A new v1 memory cgroup of ``limit`` bytes, swap included, or (None, why not)."""
    group = CGROUPS / f"nngrad-bigbatch-{os.getpid()}"
    try:
        group.mkdir()
    except OSError as e:
        return None, (f"none: no cgroup could be made at {group} ({e.strerror}); the child ran "
                      "without a memory limit")
    try:
        (group / "memory.limit_in_bytes").write_text(str(limit))
        if (group / "memory.memsw.limit_in_bytes").exists():
            (group / "memory.memsw.limit_in_bytes").write_text(str(limit))
    except OSError as e:
        group.rmdir()
        return None, f"none: the cgroup's limit could not be set ({e.strerror})"
    return group, ""


def _child(spec: Path, out: Path, chunk: int, group: Path | None) -> tuple:
    """(peak RSS in bytes, exit status, standard error) of the nngrad command in ``group``."""
    def enter():
        if group is not None:
            (group / "cgroup.procs").write_text(str(os.getpid()))

    cmd = [sys.executable, "-c", LAUNCH, "run", str(spec), "--keep", "grads",
           "--batch-chunk", str(chunk), "-o", str(out)]
    with tempfile.TemporaryFile() as err:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=err, preexec_fn=enter, text=True)
        err.seek(0)
        return int(proc.stdout.split()[-1]) * 1024, proc.returncode, err.read().decode(errors="replace")


# The command runs as the grandchild of a small launcher: a child forked from this process
# counts this process's resident pages, before its exec, in its own peak (ru_maxrss).
LAUNCH = """import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.executable, [sys.executable, "-m", "nngrad", *sys.argv[1:]])
_, status, usage = os.wait4(pid, 0)
print(usage.ru_maxrss)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def _working_set(chunk: int, net: dict) -> tuple:
    """``memory.run_bytes`` of one chunk (keep grads), and the parameters' bytes."""
    import nngrad
    from nngrad.numerics.memory import run_bytes

    X, T = _block(0, chunk)
    small = nngrad.Network(X=X, T=T, loss="mse", layers=[
        nngrad.Layer(net["W1"], net["b1"], "relu"), nngrad.Layer(net["W2"], net["b2"], "identity")])
    return run_bytes(small, keep="grads", batch_chunk=chunk), sum(p.nbytes for p in net.values())


def _relative(got: np.ndarray, want) -> float:
    want = np.asarray(want)
    return float(np.abs(got - want).max() / max(np.abs(want).max(), 1e-300))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="A 256 MiB limit: a smoke run.")
    args = parser.parse_args()
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a killed child leaves no core file
    print("\n".join(report(args.quick)), flush=True)


if __name__ == "__main__":
    main()
