"""Costs that must stay flat as a YAML spec grows: step beside run, and hostile text per MB.

    python tests/benchmarks/bench_faults.py [--quick]

- step: ``nngrad step SPEC --lr 0.01 --in-place`` on YAML specs of about 0.1, 0.5 and 1.5 MB
  (made by ``nngrad init``) beside ``nngrad run SPEC --format json`` of the same spec, as whole
  processes, interleaved; medians. The ratio must not grow with the size (patching the numbers
  in place was once quadratic: 211 s for 1.5 MB). Beside it, what step costs beyond run, per MB:
  rewriting every number and composing the text once more, which must not grow either.
- hostile: ``nngrad.load`` of texts that a quadratic scan of the raw text would hang on, each
  at three sizes: a long comment line of apostrophes on a small spec, a long X on one flow
  line, and a W of many one-number rows, in block style and on one flow line. Each figure is
  in seconds per MB and as a ratio to the smallest size's, which must stay about 1.
``--quick`` uses smaller sizes and fewer repeats (a smoke run). Files go to a temporary folder.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nngrad

SPEC_HEAD = "X: [[1.0]]\nT: [[1.0]]\nloss: mse\nlayers:\n  - activation: identity\n"
STEP_WIDTHS = (("100", "100", "10"), ("250", "250", "10"), ("400", "400", "10"))


def wall(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def nngrad_cmd(*args) -> list[str]:
    return [sys.executable, "-m", "nngrad", *map(str, args)]


def report_step(folder: Path, repeat: int) -> list[str]:
    lines = [f"step beside run, whole processes, median of {repeat} interleaved"]
    for widths in STEP_WIDTHS:
        spec = folder / f"step_{'_'.join(widths)}.yaml"
        subprocess.run(nngrad_cmd("init", *widths, "-o", spec), check=True, capture_output=True)
        mb = spec.stat().st_size / 1e6
        step_cmd = nngrad_cmd("step", spec, "--lr", 0.01, "--in-place")
        run_cmd = nngrad_cmd("run", spec, "--format", "json")
        wall(run_cmd)  # warm the caches
        steps, runs = [], []
        for _ in range(repeat):
            steps.append(wall(step_cmd))
            runs.append(wall(run_cmd))
        step, run = statistics.median(steps), statistics.median(runs)
        lines.append(f"  {'-'.join(widths):<11} {mb:5.2f} MB: step {step:6.2f} s, run {run:6.2f} s: "
                     f"step = {step / run:4.2f}x run; step - run = {(step - run) / mb:5.2f} s/MB")
    return lines


def apostrophes(n: int) -> str:
    return "# " + "'" * n + "\n" + SPEC_HEAD + "    W: [[0.5]]\n"


def long_x(n: int) -> str:
    rows = ",".join(f"[0.{i % 9 + 1}]" for i in range(n))
    return (SPEC_HEAD.replace("X: [[1.0]]", f"X: [{rows}]")
            .replace("T: [[1.0]]", "T: [" + ",".join(["[1.0]"] * n) + "]") + "    W: [[0.5]]\n")


def narrow_w(n: int, flow: bool = False) -> str:
    x = "X: [[" + ", ".join(["1.0"] * n) + "]]"
    w = ("    W: [" + ",".join(["[0.5]"] * n) + "]\n") if flow else \
        "    W:\n" + "      - [0.5]\n" * n
    return SPEC_HEAD.replace("X: [[1.0]]", x) + w


HOSTILE = {
    "comment line of apostrophes": (apostrophes, (250_000, 500_000, 1_000_000)),
    "X of one-number rows on one flow line": (long_x, (32_000, 64_000, 128_000)),
    "W of one-number rows, block style": (narrow_w, (250_000, 500_000, 1_000_000)),
    "W of one-number rows on one flow line": (lambda n: narrow_w(n, flow=True),
                                              (250_000, 500_000, 1_000_000)),
}


def report_hostile(folder: Path, repeat: int, scale: float) -> list[str]:
    lines = [f"hostile YAML, nngrad.load, median of {repeat}: time per MB against the smallest size"]
    (folder / "warm.yaml").write_text(apostrophes(1))
    nngrad.load(folder / "warm.yaml")  # imports and first calls, outside the clock
    for name, (make, sizes) in HOSTILE.items():
        lines.append(f"  {name}")
        first = None
        for size in sizes:
            path = folder / "hostile.yaml"
            path.write_text(make(int(size * scale)))
            mb = path.stat().st_size / 1e6
            seconds = []
            for _ in range(repeat):
                start = time.perf_counter()
                nngrad.load(path)
                seconds.append(time.perf_counter() - start)
            per_mb = statistics.median(seconds) / mb
            first = first or per_mb
            lines.append(f"    {int(size * scale):>9,} ({mb:5.2f} MB): {statistics.median(seconds):6.3f} s,"
                         f" {per_mb:6.3f} s/MB = {per_mb / first:4.2f}x the smallest's")
    return lines


def report(quick: bool) -> list[str]:
    folder = Path(tempfile.mkdtemp(prefix="bench_faults_"))
    try:
        return ["faults lose nothing, in linear time"] + report_step(folder, 1 if quick else 3) + \
            report_hostile(folder, 1 if quick else 3, 0.25 if quick else 1.0)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="Smaller texts, fewer repeats.")
    args = parser.parse_args()
    print("\n".join(report(args.quick)))


if __name__ == "__main__":
    main()
