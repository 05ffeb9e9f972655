"""Every speed and scale figure of nngrad, each beside its yardstick, measured in one run.

    python tests/benchmarks/bench.py [--quick] [--only SECTION] ...

SECTION is one of core, small, check, coldstart, specs, faults, stages, bigbatch:

- core: ``nngrad.run`` on 784-1024-1024-10, batch 4096, beside the GEMM floor and PyTorch;
  peak memory beside the bytes the result holds (``bench_core.py``).
- small: ``nngrad.run`` on sample nets 1 and 4 beside a hand-written NumPy forward and backward,
  and ``nngrad step --steps 10000`` on Mazur's net beside a hand-written NumPy descent, whole
  processes (``bench_small.py``).
- check: check's full mode on a 1,987-parameter net at batch 1 in bare forward passes, and
  ``check --mode fast`` on depth-10 nets in runs (``bench_check.py``).
- coldstart: ``nngrad run <sample> --format json`` and ``nngrad --help`` beside ``python -c
  "import numpy"`` (``bench_coldstart.py``).
- specs: a 50 MB NPZ beside ``np.load``, a 1-million-number YAML, a big table, and
  ``check --mode fast`` in multiples of one run (``bench_specs.py``).
- faults: ``nngrad step`` beside ``nngrad run`` at three sizes of YAML spec, and hostile YAML
  loaded at three sizes, per MB (``bench_faults.py``).
- stages: ``nngrad.run`` and ``check --mode fast`` on 784-256-256-10 with batchnorm + dropout,
  batch 1024, beside the same net without them plus the extra elementwise passes the stages need
  (target: within 1.3x) (``bench_stages.py``).
- bigbatch: ``run --batch-chunk`` on an NPZ 3x a memory cgroup's limit: exact gradients, and the
  peak RSS beside one chunk's working set (``bench_bigbatch.py``; needs root for the cgroup).
``--quick`` repeats each measurement fewer times (a smoke run; the figures are noisier).
The machine, the NumPy build and the thread count are printed first, since every figure
depends on them.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_bigbatch  # noqa: E402
import bench_check  # noqa: E402
import bench_coldstart  # noqa: E402
import bench_core  # noqa: E402
import bench_faults  # noqa: E402
import bench_small  # noqa: E402
import bench_specs  # noqa: E402
import bench_stages  # noqa: E402
import numpy as np  # noqa: E402

SECTIONS = ("core", "small", "check", "coldstart", "specs", "faults", "stages", "bigbatch")


def machine() -> str:
    blas = np.show_config(mode="dicts").get("Build Dependencies", {}).get("blas", {})
    return (f"python {platform.python_version()}, numpy {np.__version__} ({blas.get('name', '?')} "
            f"{blas.get('version', '')}), {os.cpu_count()} CPUs, {platform.machine()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="Fewer repeats: a smoke run.")
    parser.add_argument("--only", choices=SECTIONS, action="append",
                        help="Run only this section (may be given more than once).")
    args = parser.parse_args()
    sections = args.only or SECTIONS
    print(machine(), flush=True)
    started = time.perf_counter()
    if "core" in sections:
        print("\n".join(bench_core.report_core(4096, 3 if args.quick else 9)), flush=True)
    if "small" in sections:
        print("\n".join(bench_small.report(args.quick)), flush=True)
    if "check" in sections:
        print("\n".join(bench_check.report(args.quick)), flush=True)
    if "coldstart" in sections:
        print("\n".join(bench_coldstart.report(5 if args.quick else 21)), flush=True)
    if "specs" in sections:
        print("\n".join(bench_specs.report_specs(2 if args.quick else 5)), flush=True)
    if "faults" in sections:
        print("\n".join(bench_faults.report(args.quick)), flush=True)
    if "stages" in sections:
        print("\n".join(bench_stages.report(3 if args.quick else 9)), flush=True)
    if "bigbatch" in sections:
        print("\n".join(bench_bigbatch.report(args.quick)), flush=True)
    print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
