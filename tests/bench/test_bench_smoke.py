"""Every benchmark still runs: each script with --smoke (smallest size, one round, no targets) exits 0
and prints a line of its table. Run as the Makefile runs them: the venv's python, from the project."""

import os
import re
import subprocess
import sys

import pytest

from tests.conftest import CAMBRIDGE
from tests.support import ROOT

pytestmark = pytest.mark.slow

PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable
# script: lines its --smoke output must hold (regular expressions, each matched against one line)
TABLE_LINES = {
    "bench_engine.py": [r"^\s+lots\s+features\s+time s", r"^\s+100\s+\d+\s+\d+\.\d{3}\s+\d+\.\d{3}\s+True\s"],
    "bench_validate.py": [
        r"^\s+100\s+\d+\s+\d+\.\d\d\s+\d+\.\d{3}\s+\d+\.\d{3}\s+\d+\.\d{3}\s+\d+\.\d{3}\s.*True",  # e2e table
        r"^\s+100(\s+\d+\.\d{3}){7}$",  # the phase split of services.plan_validate (it once crashed)
        r"^smoke run finished$",
    ],
    "bench_hostile.py": [r"^POST copies 20\s+201\s", r"^POST grid 300\s+201\s", r"^GET grid findings\s+200\s"],
    "bench_import.py": [r"^\|\s+smoke\s+\|\s+\d+\s+\|"],
    # Every server answered and its table row is there (the tile counts checked against PostGIS).
    "bench_layers.py": [r"^\| tiles uncached \| raw SQL", r"^\| tiles uncached \| MapServer 8 FastCGI \|",
                        r"^\| tiles uncached \| platform \| [\d,.]+ \|",
                        r"^\| OGC API items limit=1,000 \| pygeoapi \|", r"^\| mixed load \| platform \|",
                        r"^smoke run finished$"],
    "run_all.py": [rf"^==== bench/{name}: exit 0 ====$"
                   for name in ("bench_import.py", "bench_engine.py", "bench_validate.py")],
}


def _environment() -> dict[str, str]:
    # The benches choose their own databases; the test run's settings must not leak into them.
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "GISPORTAL_TEST_DB")}
    env.setdefault("SECRET_KEY", "bench-smoke")
    env.setdefault("GISPORTAL_BENCH_LAYERS_DB", "gisportal_bench_layers_smoke")  # not the full run's database
    return env


def _has_smoke(script: str) -> bool:
    helped = subprocess.run([PYTHON, f"bench/{script}", "--help"], cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    return "--smoke" in helped.stdout


@pytest.mark.parametrize("script", TABLE_LINES)
def test_benchmark_runs_with_smoke(script):
    if script == "bench_import.py" and not _has_smoke(script):
        pytest.skip("bench/bench_import.py has no --smoke yet (another change adds it)")
    if script in ("bench_import.py", "bench_layers.py", "run_all.py") and not CAMBRIDGE.exists():
        pytest.skip(f"the import bench needs the Cambridge data: {CAMBRIDGE}")
    run = subprocess.run([PYTHON, f"bench/{script}", "--smoke"], cwd=ROOT, env=_environment(), capture_output=True,
                         text=True, timeout=900)
    assert run.returncode == 0, f"exit {run.returncode}\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    if script == "bench_layers.py" and run.stdout.startswith("skipped:"):
        pytest.skip(run.stdout.strip())  # not root and the peers' Debian packages are missing
    lines = run.stdout.splitlines()
    for pattern in TABLE_LINES[script]:
        assert any(re.search(pattern, line) for line in lines), f"no line matches {pattern!r}:\n{run.stdout[-3000:]}"
