"""Cold start of the nngrad command beside ``python -c "import numpy"``, measured in one run;
``nngrad --help`` beside ``import click`` too (it needs no numpy).

    python tests/benchmarks/bench_coldstart.py [--repeat N]

Runs each command N times, interleaved so that machine noise falls on both alike, and
prints the median wall time of each and its ratio to ``import numpy``. The commands run with
Python's bytecode cache on (PYTHONDONTWRITEBYTECODE removed), as after ``pip install``, which
compiles every module; the first, unmeasured run writes nngrad's cache in a source checkout.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

SAMPLE = Path(__file__).resolve().parents[2] / "sample_nets" / "01_relu_mse.yaml"

COMMANDS = {
    "python -c 'import numpy'": [sys.executable, "-c", "import numpy"],
    "nngrad run <sample 1> --format json": [sys.executable, "-m", "nngrad", "run", str(SAMPLE),
                                            "--format", "json"],
    "nngrad run <sample 1> (table)": [sys.executable, "-m", "nngrad", "run", str(SAMPLE)],
    "python -c 'import click'": [sys.executable, "-c", "import click"],
    "nngrad --help": [sys.executable, "-m", "nngrad", "--help"],
}


ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def wall_time(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=ENV)
    return time.perf_counter() - start


def report(repeat: int) -> list[str]:
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for name, cmd in COMMANDS.items():  # warm the file cache
        wall_time(cmd)
    for _ in range(repeat):
        for name, cmd in COMMANDS.items():
            times[name].append(wall_time(cmd))
    base = statistics.median(times["python -c 'import numpy'"])
    lines = [f"cold start, median of {repeat} interleaved runs"]
    for name, values in times.items():
        median = statistics.median(values)
        lines.append(f"  {name:<40} {median * 1000:7.1f} ms   {median / base:5.2f}x import numpy")
    click = statistics.median(times["python -c 'import click'"])
    lines.append(f"  nngrad --help: {statistics.median(times['nngrad --help']) / click:.2f}x import click")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=21)
    args = parser.parse_args()
    print("\n".join(report(args.repeat)))


if __name__ == "__main__":
    main()
