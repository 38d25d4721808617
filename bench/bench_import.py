"""Time the parcel importer against ogr2ogr (the physical limit) on the Cambridge parcels.

    .venv/bin/python bench/bench_import.py [--rounds 3] [--keep] [--data PATH]

Creates a dedicated database `gisportal_bench` on the project-local cluster (var/run socket),
migrates it, then for each round times, side by side:

  ogr2ogr             ogr2ogr -f PostgreSQL ... -t_srs EPSG:3857 (COPY) into a plain table
  first import (CLI)  manage.py import_parcels ... into an empty registry (wall clock, incl. start-up)
  re-import (CLI)     the same file again: every parcel must come back unchanged
  ... (in-process)    the same two, timing only the import_parcels() call in a django.setup() process

The real database (`gisportal`) is never touched: DATABASE_URL is removed from the children's
environment and GISPORTAL_DB_NAME is forced. The bench database is dropped at the end unless --keep.
Exit status: 0 when the target (first import <= 2x ogr2ogr) is met or the data is absent, 1 otherwise.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "cambridge" / "cambridge.gpkg"
SOCKET = ROOT / "var" / "run"
PORT = os.environ.get("GISPORTAL_PGPORT", "5432")
DB = "gisportal_bench"
MUNICIPALITY = "CAMB"
LAYER = "parcels"
IMPORT_ARGS = ["--layer", LAYER, "--code-field", "id", "--map", "plan_no=MAP", "--map", "parcel_no=LOT"]
TARGET_RATIO = 2.0

SUMMARY_RE = re.compile(
    r"read (\d+), created (\d+), updated (\d+), unchanged (\d+), repaired (\d+), rejected (\d+)")

# Runs in a child process: django.setup(), then time import_parcels() alone (first, then again).
IN_PROCESS = r"""
import json, sys, time
import django
django.setup()
from django.db import connection
from parcels.importing import import_parcels
from parcels.models import Municipality
path, code, layer = sys.argv[1:4]
municipality = Municipality.objects.get(code=code)
connection.ensure_connection()
out = {}
for label in ("first", "again"):
    t0 = time.perf_counter()
    summary = import_parcels(path=path, municipality=municipality, layer=layer, code_field="id",
                             field_map={"plan_no": "MAP", "parcel_no": "LOT"}, progress=False)
    out[label] = {"seconds": time.perf_counter() - t0, "line": summary.line()}
print("RESULT " + json.dumps(out))
"""

# Python + Django start-up alone, for reading the CLI numbers.
STARTUP = "import django; django.setup(); import parcels.importing, parcels.management.commands.import_parcels"


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("DATABASE_URL", None)  # it would override GISPORTAL_DB_NAME and point elsewhere
    env["GISPORTAL_DB_NAME"] = DB
    env["DJANGO_SETTINGS_MODULE"] = "gisportal.settings"
    env.setdefault("SECRET_KEY", "bench")
    env["GISPORTAL_DEMO"] = "0"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def find_binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


class Bench:
    def __init__(self, data: Path, psql: str, ogr2ogr: str, python: str):
        self.data, self.psql, self.ogr2ogr, self.python = data, psql, ogr2ogr, python
        self.env = child_env()

    # ---- database helpers -------------------------------------------------------------------
    def sql(self, statement: str, db: str = DB) -> str:
        result = subprocess.run(
            [self.psql, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", str(SOCKET), "-p", PORT,
             "-U", "gisportal", "-d", db, "-c", statement],
            capture_output=True, text=True, env=self.env)
        if result.returncode:
            raise RuntimeError(f"psql failed on {statement!r}: {result.stderr.strip()}")
        return result.stdout.strip()

    def create_database(self) -> None:
        self.sql(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)", db="postgres")
        self.sql(f"CREATE DATABASE {DB}", db="postgres")
        self.sql("CREATE EXTENSION IF NOT EXISTS postgis")
        self.run([self.python, str(ROOT / "manage.py"), "migrate", "--no-input", "-v", "0"], "migrate")

    def drop_database(self) -> None:
        self.sql(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)", db="postgres")

    def reset_registry(self, *, keep_municipality: bool = False) -> None:
        statement = "TRUNCATE parcels_parcelversion, parcels_parcel CASCADE;"
        if not keep_municipality:
            statement += f" DELETE FROM parcels_municipality WHERE code = '{MUNICIPALITY}';"
        self.sql(statement)

    # ---- timed steps -------------------------------------------------------------------------
    def run(self, cmd: list[str], what: str, env: dict | None = None) -> tuple[float, str]:
        t0 = time.perf_counter()
        result = subprocess.run(cmd, capture_output=True, text=True, env=env or self.env, cwd=ROOT)
        seconds = time.perf_counter() - t0
        if result.returncode:
            raise RuntimeError(f"{what} failed ({result.returncode}): {(result.stderr or result.stdout).strip()}")
        return seconds, result.stdout

    def ogr(self) -> float:
        env = dict(self.env, PG_USE_COPY="YES")
        conn = f"PG:host={SOCKET} port={PORT} dbname={DB} user=gisportal"
        seconds, _ = self.run(
            [self.ogr2ogr, "-f", "PostgreSQL", conn, str(self.data), LAYER, "-nln", "bench_ogr", "-overwrite",
             "-lco", "GEOMETRY_NAME=geom", "-lco", "SPATIAL_INDEX=GIST", "-t_srs", "EPSG:3857",
             "-nlt", "MULTIPOLYGON"], "ogr2ogr", env=env)
        return seconds

    def cli_import(self, *, create: bool) -> tuple[float, dict]:
        cmd = [self.python, str(ROOT / "manage.py"), "import_parcels", str(self.data),
               "--municipality", MUNICIPALITY, *IMPORT_ARGS, "--no-progress"]
        if create:
            cmd.append("--create-municipality")
        seconds, out = self.run(cmd, "manage.py import_parcels")
        return seconds, parse_summary(out)

    def in_process(self) -> dict:
        _, out = self.run([self.python, "-c", IN_PROCESS, str(self.data), MUNICIPALITY, LAYER],
                          "in-process import_parcels()")
        line = next(l for l in out.splitlines() if l.startswith("RESULT "))
        result = json.loads(line[len("RESULT "):])
        return {k: (v["seconds"], parse_summary(v["line"])) for k, v in result.items()}

    def startup(self) -> float:
        return self.run([self.python, "-c", STARTUP], "python start-up")[0]


def parse_summary(text: str) -> dict:
    match = SUMMARY_RE.search(text)
    if not match:
        raise RuntimeError(f"no import summary in output: {text.strip()[:300]!r}")
    keys = ("read", "created", "updated", "unchanged", "repaired", "rejected")
    return dict(zip(keys, map(int, match.groups())))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help=f"keep the {DB} database at the end")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="GeoPackage with a 'parcels' layer")
    args = parser.parse_args()

    if not args.data.exists():
        print(f"skipped: parcel data {args.data} absent")
        return 0
    psql, ogr2ogr = find_binary("psql"), find_binary("ogr2ogr")
    if not psql or not ogr2ogr:
        print(f"skipped: {'psql' if not psql else 'ogr2ogr'} absent")
        return 0
    status = subprocess.run([str(ROOT / "scripts" / "pg.sh"), "status"], capture_output=True, text=True)
    if status.returncode != 0:  # "stopped"
        subprocess.run([str(ROOT / "scripts" / "pg.sh"), "start"], check=True)

    python = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() \
        else sys.executable
    bench = Bench(args.data, psql, ogr2ogr, python)
    times: dict[str, list[float]] = {k: [] for k in (
        "ogr2ogr", "first_cli", "first_inproc", "again_cli", "again_inproc", "startup")}
    problems: list[str] = []
    ogr_rows = None

    print(f"data: {args.data} ({args.data.stat().st_size / 1e6:.1f} MB), layer {LAYER}; database {DB}; "
          f"{args.rounds} round(s); nproc {os.cpu_count()}, load average {os.getloadavg()[0]:.2f}", flush=True)
    bench.create_database()
    try:
        for r in range(1, args.rounds + 1):
            times["ogr2ogr"].append(bench.ogr())
            ogr_rows = int(bench.sql("SELECT count(*) FROM bench_ogr"))

            bench.reset_registry()
            t, first = bench.cli_import(create=True)
            times["first_cli"].append(t)
            t, again = bench.cli_import(create=False)
            times["again_cli"].append(t)

            bench.reset_registry(keep_municipality=True)
            inproc = bench.in_process()
            times["first_inproc"].append(inproc["first"][0])
            times["again_inproc"].append(inproc["again"][0])
            times["startup"].append(bench.startup())

            for label, s, expect_new in (("first import (CLI)", first, True), ("re-import (CLI)", again, False),
                                          ("first import (in-process)", inproc["first"][1], True),
                                          ("re-import (in-process)", inproc["again"][1], False)):
                kept = s["read"] - s["rejected"]
                if expect_new and (s["created"] != kept or s["updated"] or s["unchanged"]):
                    problems.append(f"round {r} {label}: expected {kept} created, got {s}")
                if not expect_new and (s["unchanged"] != kept or s["created"] or s["updated"]):
                    problems.append(f"round {r} {label}: expected {kept} unchanged, got {s}")
            print(f"round {r}: ogr2ogr {times['ogr2ogr'][-1]:.2f} s ({ogr_rows} rows) | "
                  f"first CLI {times['first_cli'][-1]:.2f} s / in-process {times['first_inproc'][-1]:.2f} s "
                  f"[read {first['read']}, created {first['created']}, repaired {first['repaired']}, "
                  f"rejected {first['rejected']}] | re-import CLI {times['again_cli'][-1]:.2f} s / in-process "
                  f"{times['again_inproc'][-1]:.2f} s [unchanged {again['unchanged']}, updated {again['updated']}]"
                  f" | start-up {times['startup'][-1]:.2f} s", flush=True)
    finally:
        if args.keep:
            print(f"kept database {DB}")
        else:
            bench.drop_database()

    med = {k: statistics.median(v) for k, v in times.items()}
    base = med["ogr2ogr"]
    rows = [
        ("ogr2ogr (COPY, -t_srs 3857, GIST)", med["ogr2ogr"]),
        ("gisportal first import (CLI wall)", med["first_cli"]),
        ("gisportal first import (import_parcels() only)", med["first_inproc"]),
        ("gisportal re-import (CLI wall)", med["again_cli"]),
        ("gisportal re-import (import_parcels() only)", med["again_inproc"]),
        ("python + django start-up alone", med["startup"]),
    ]
    print()
    print(f"| {'tool':<48} | {'median s':>8} | {'x ogr2ogr':>9} |")
    print(f"|{'-' * 50}|{'-' * 9}:|{'-' * 10}:|")
    for name, seconds in rows:
        print(f"| {name:<48} | {seconds:>8.2f} | {seconds / base:>9.2f} |")
    print()
    ratio = med["first_cli"] / base
    passed = ratio <= TARGET_RATIO
    print(f"target: gisportal first import <= {TARGET_RATIO:g}x ogr2ogr: {ratio:.2f}x "
          f"({med['first_cli']:.2f} s vs {base:.2f} s) -> {'PASS' if passed else 'FAIL'}")
    print(f"re-import faster than first import: "
          f"{'yes' if med['again_cli'] < med['first_cli'] else 'NO'} "
          f"({med['again_cli']:.2f} s vs {med['first_cli']:.2f} s)")
    print(f"load average at the end: {os.getloadavg()[0]:.2f} (other work on the machine inflates the numbers)")
    for problem in problems:
        print(f"PROBLEM: {problem}")
    return 0 if passed and not problems else 1


if __name__ == "__main__":
    raise SystemExit(main())
