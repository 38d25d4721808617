"""Run every benchmark in bench/ in sequence with the venv's python, printing each one's output.

    .venv/bin/python bench/run_all.py [--smoke]     (what `make bench` runs, without --smoke)

--smoke passes --smoke to each benchmark: smallest size, one round, targets not enforced; a check
that every benchmark still runs. Exit status: 0 when every benchmark met its targets (or skipped, or
ran with --smoke), else the first non-zero status.
"""
from __future__ import annotations

import argparse
import subprocess
from pathlib import Path

from benchtools import python  # bench/ is on the path

ROOT = Path(__file__).resolve().parents[1]
BENCHES = ["bench_import.py", "bench_engine.py", "bench_validate.py", "bench_hostile.py", "bench_layers.py"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="run each benchmark with --smoke")
    args = parser.parse_args()
    status = 0
    for name in BENCHES:
        print(f"==== bench/{name}{' --smoke' if args.smoke else ''} ====", flush=True)
        rc = subprocess.run([python(), str(ROOT / "bench" / name), *(["--smoke"] if args.smoke else [])],
                            cwd=ROOT).returncode
        print(f"==== bench/{name}: exit {rc} ====\n", flush=True)
        status = status or rc
    return status


if __name__ == "__main__":
    raise SystemExit(main())
