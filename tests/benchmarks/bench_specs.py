"""Big specs and check at scale, each beside its yardstick in the same run.

    python tests/benchmarks/bench_specs.py [--repeat N]

- A ~50 MB NPZ spec: ``nngrad.load`` beside ``np.load`` reading every array.
- A spec of about 1 million numbers in YAML: ``nngrad.load``, in seconds.
- A big result printed as tables: ``render_table`` into a file, in seconds.
- ``nngrad.check(mode="fast")`` on nets of about 0.25, 1 and 2 million parameters, in
  multiples of one ``nngrad.run`` of the same net.
The files are written to a temporary folder and removed afterwards.
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

import nngrad
from bench_core import relu_net, relu_spec, timed
from nngrad.specs.write import write_spec


def median_time(fn, repeat: int) -> float:
    fn()
    return statistics.median(timed(fn)[0] for _ in range(repeat))


def n_params(net) -> int:
    return sum(layer.W.size + layer.b.size for layer in net.layers)


def big_npz(folder: Path, repeat: int) -> str:
    path = folder / "big.npz"
    write_spec(relu_spec((784, 2048, 2048, 10), batch=256), str(path))
    mb = path.stat().st_size / 1e6

    def numpy_load():
        with np.load(path) as z:
            return {k: z[k] for k in z.files}
    t_np, t_nn = median_time(numpy_load, repeat), median_time(lambda: nngrad.load(path), repeat)
    return (f"  NPZ spec, {mb:.0f} MB: np.load {t_np * 1000:.1f} ms, nngrad.load {t_nn * 1000:.1f} ms: "
            f"{t_nn / t_np:.2f}x np.load")


def big_yaml(folder: Path) -> str:
    path = folder / "big.yaml"
    write_spec(relu_spec((500, 1000, 500, 10), batch=8), str(path))
    start = time.perf_counter()
    net = nngrad.load(path)
    numbers = n_params(net) + net.X.size + net.T.size
    seconds = time.perf_counter() - start
    return (f"  YAML spec, {numbers / 1e6:.2f} million numbers, {path.stat().st_size / 1e6:.0f} MB: "
            f"nngrad.load {seconds:.2f} s")


def big_table(repeat: int) -> str:
    from rich.console import Console

    from nngrad.render.table import render_table

    net = relu_net((784, 2048, 2048, 10), batch=256)
    res = nngrad.run(net)
    size = sum(a.size for a in res.values())

    def render():
        render_table(res, Console(file=io.StringIO(), width=120, force_terminal=True))
    return (f"  table of a result of {size / 1e6:.1f} million numbers: "
            f"{median_time(render, repeat) * 1000:.1f} ms")


def check_at_scale(repeat: int) -> list[str]:
    lines = []
    for widths in ((784, 256, 128, 10), (784, 1024, 256, 10), (784, 1024, 1024, 10)):
        net = relu_net(widths, batch=1024)
        one_run = median_time(lambda: nngrad.run(net), repeat)
        check = median_time(lambda: nngrad.check(net, mode="fast"), max(1, repeat // 2))
        lines.append(f"  check --mode fast, {'-'.join(map(str, widths))} ({n_params(net) / 1e6:.2f} M "
                     f"parameters, batch 1024, 8 directions): {check:.2f} s = {check / one_run:.1f}x "
                     f"one nngrad.run ({one_run * 1000:.0f} ms)")
    return lines


def report_specs(repeat: int) -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        lines = ["big specs", big_npz(folder, repeat), big_yaml(folder), big_table(repeat)]
    return lines + ["check at scale"] + check_at_scale(repeat)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print("\n".join(report_specs(args.repeat)))


if __name__ == "__main__":
    main()
