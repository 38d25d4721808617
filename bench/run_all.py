"""Run every benchmark in bench/ in sequence with the venv's python, printing each one's output.

    .venv/bin/python bench/run_all.py      (what `make bench` runs)

Exit status: 0 when every benchmark met its targets (or skipped), else the first non-zero status.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCHES = ["bench_import.py", "bench_engine.py", "bench_validate.py"]


def python() -> str:
    venv = ROOT / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def main() -> int:
    status = 0
    for name in BENCHES:
        print(f"==== bench/{name} ====", flush=True)
        rc = subprocess.run([python(), str(ROOT / "bench" / name)], cwd=ROOT).returncode
        print(f"==== bench/{name}: exit {rc} ====\n", flush=True)
        status = status or rc
    return status


if __name__ == "__main__":
    raise SystemExit(main())
