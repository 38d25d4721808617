"""Time the parcel importer against ogr2ogr (the physical limit) on the Cambridge parcels, tiled.

    .venv/bin/python bench/bench_import.py [--sizes 1 16 32] [--rounds 3] [--keep] [--data PATH] [--smoke]

Size N is Cambridge tiled N times side by side (same fields, ids made unique), built once into
var/bench/ from the source. Creates a dedicated database `gisportal_bench` on the project-local
cluster (var/run socket), migrates it, then for each size and round times, side by side:

  ogr2ogr             ogr2ogr -f PostgreSQL ... -t_srs EPSG:3857 (COPY) into a plain table
  first import (CLI)  manage.py import_parcels ... into an empty registry (wall clock, incl. start-up)
  re-import (CLI)     the same file again: every parcel must come back unchanged
  ... (in-process)    the same two, timing only the import_parcels() call in a django.setup() process

The real database (`gisportal`) is never touched: DATABASE_URL is removed from the children's
environment and GISPORTAL_DB_NAME is forced. The bench database is dropped at the end unless --keep.
Each command's peak RSS is measured with wait4() on that child alone; a CHECKPOINT before each
timed step writes out what the step before left dirty. Sizes above 16 run one
round (they measure memory). Targets, at every size >= 16: first import (CLI) <= 3x ogr2ogr,
re-import (CLI) <= 2x ogr2ogr, peak RSS <= 600 MB and not above the 16x figure at larger sizes.
--smoke runs a 2,000-parcel subset once, enforces nothing, and exits 0 when it ran.
Exit status: 0 when the targets are met (or --smoke ran, or the data is absent), 1 otherwise.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchtools import find_binary  # bench/ is on the path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "cambridge" / "cambridge.gpkg"
SOCKET = ROOT / "var" / "run"
PORT = os.environ.get("GISPORTAL_PGPORT", "5432")
DB = os.environ.get("GISPORTAL_BENCH_DB", "gisportal_bench")  # another name lets two benches run at once
MUNICIPALITY = "CAMB"
LAYER = "parcels"
IMPORT_ARGS = ["--layer", LAYER, "--code-field", "id", "--map", "plan_no=MAP", "--map", "parcel_no=LOT"]
FIRST_TARGET = 3.0
AGAIN_TARGET = 2.0
RSS_TARGET_MB = 600
TARGET_FROM_SIZE = 16
BENCH_DIR = ROOT / "var" / "bench"
SMOKE_ROWS = 2000

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

    def settle(self) -> None:
        """Write out what the step before left dirty, so no timed step pays for another's writes."""
        self.sql("CHECKPOINT")

    # ---- timed steps -------------------------------------------------------------------------
    def run(self, cmd: list[str], what: str, env: dict | None = None) -> tuple[float, str]:
        seconds, out, _ = self.run_measured(cmd, what, env)
        return seconds, out

    def run_measured(self, cmd: list[str], what: str, env: dict | None = None) -> tuple[float, str, float]:
        """Run CMD; return wall seconds, its stdout and its own peak RSS in MB (wait4 on that child)."""
        with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
            t0 = time.perf_counter()
            child = subprocess.Popen(cmd, stdout=out, stderr=err, text=True, env=env or self.env, cwd=ROOT)
            _, status, usage = os.wait4(child.pid, 0)
            seconds = time.perf_counter() - t0
            child.returncode = os.waitstatus_to_exitcode(status)
            out.seek(0)
            err.seek(0)
            stdout, stderr = out.read(), err.read()
        if child.returncode:
            raise RuntimeError(f"{what} failed ({child.returncode}): {(stderr or stdout).strip()[-2000:]}")
        return seconds, stdout, usage.ru_maxrss / 1024

    def ogr(self) -> tuple[float, float]:
        env = dict(self.env, PG_USE_COPY="YES")
        conn = f"PG:host={SOCKET} port={PORT} dbname={DB} user=gisportal"
        seconds, _, rss = self.run_measured(
            [self.ogr2ogr, "-f", "PostgreSQL", conn, str(self.data), LAYER, "-nln", "bench_ogr", "-overwrite",
             "-lco", "GEOMETRY_NAME=geom", "-lco", "SPATIAL_INDEX=GIST", "-t_srs", "EPSG:3857",
             "-nlt", "MULTIPOLYGON"], "ogr2ogr", env=env)
        return seconds, rss

    def cli_import(self, *, create: bool) -> tuple[float, dict, float]:
        cmd = [self.python, str(ROOT / "manage.py"), "import_parcels", str(self.data),
               "--municipality", MUNICIPALITY, *IMPORT_ARGS, "--no-progress"]
        if create:
            cmd.append("--create-municipality")
        seconds, out, rss = self.run_measured(cmd, "manage.py import_parcels")
        return seconds, parse_summary(out), rss

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


def tiled_source(data: Path, size: int) -> Path:
    """Return Cambridge tiled SIZE times (ids made unique), building it into var/bench/ when absent.

    Size 0 stands for the smoke subset: the first SMOKE_ROWS parcels.
    """
    if size == 1:
        return data
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    target = BENCH_DIR / (f"{data.stem}_first{SMOKE_ROWS}.gpkg" if size == 0 else f"{data.stem}_x{size}.gpkg")
    if target.exists():
        return target
    import pyogrio
    import shapely

    frame = pyogrio.read_dataframe(data, layer=LAYER, max_features=SMOKE_ROWS if size == 0 else None)
    partial = target.with_suffix(".part.gpkg")
    partial.unlink(missing_ok=True)
    if size == 0:
        pyogrio.write_dataframe(frame, partial, layer=LAYER, driver="GPKG")
    else:
        minx, miny, maxx, maxy = frame.total_bounds
        step_x, step_y = (maxx - minx) * 1.02, (maxy - miny) * 1.02
        columns = 4 if size <= 16 else 8
        ids = frame["id"].astype(str)
        for tile in range(size):
            moved = frame.copy()
            moved["id"] = ids if tile == 0 else ids + f".{tile}"
            moved["geometry"] = shapely.transform(frame.geometry.values, lambda xy, t=tile: xy + (
                (t % columns) * step_x, (t // columns) * step_y))
            pyogrio.write_dataframe(moved, partial, layer=LAYER, driver="GPKG", append=tile > 0)
            print(f"  built tile {tile + 1}/{size} of {target.name}", end="\r", flush=True)
        print()
    partial.rename(target)
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 16, 32],
                        help="Cambridge tiled N times (1 is the file itself)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help=f"keep the {DB} database at the end")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="GeoPackage with a 'parcels' layer")
    parser.add_argument("--smoke", action="store_true",
                        help=f"one round on the first {SMOKE_ROWS} parcels; no targets; exit 0 when it ran")
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
    sizes = [0] if args.smoke else args.sizes
    rounds_of = {size: (1 if args.smoke or size > TARGET_FROM_SIZE else args.rounds) for size in sizes}
    print(f"data: {args.data} ({args.data.stat().st_size / 1e6:.1f} MB), layer {LAYER}; database {DB}; "
          f"sizes {sizes}; nproc {os.cpu_count()}, load average {os.getloadavg()[0]:.2f}", flush=True)
    sources = {size: tiled_source(args.data, size) for size in sizes}
    problems: list[str] = []
    results: dict[int, dict] = {}
    bench = Bench(args.data, psql, ogr2ogr, python)
    bench.create_database()
    try:
        for size in sizes:
            bench.data = sources[size]
            times: dict[str, list[float]] = {k: [] for k in (
                "ogr2ogr", "first_cli", "first_inproc", "again_cli", "again_inproc", "startup")}
            rss: dict[str, list[float]] = {"ogr2ogr": [], "first_cli": [], "again_cli": []}
            for r in range(1, rounds_of[size] + 1):
                bench.settle()
                seconds, peak = bench.ogr()
                times["ogr2ogr"].append(seconds)
                rss["ogr2ogr"].append(peak)
                ogr_rows = int(bench.sql("SELECT count(*) FROM bench_ogr"))

                bench.reset_registry()
                bench.settle()
                t, first, peak = bench.cli_import(create=True)
                times["first_cli"].append(t)
                rss["first_cli"].append(peak)
                bench.settle()
                t, again, peak = bench.cli_import(create=False)
                times["again_cli"].append(t)
                rss["again_cli"].append(peak)

                bench.reset_registry(keep_municipality=True)
                bench.settle()
                inproc = bench.in_process()
                times["first_inproc"].append(inproc["first"][0])
                times["again_inproc"].append(inproc["again"][0])
                times["startup"].append(bench.startup())

                for label, s, expect_new in (("first import (CLI)", first, True), ("re-import (CLI)", again, False),
                                              ("first import (in-process)", inproc["first"][1], True),
                                              ("re-import (in-process)", inproc["again"][1], False)):
                    kept = s["read"] - s["rejected"]
                    if s["read"] != ogr_rows:
                        problems.append(f"size {size} round {r} {label}: read {s['read']}, ogr2ogr {ogr_rows}")
                    if expect_new and (s["created"] != kept or s["updated"] or s["unchanged"]):
                        problems.append(f"size {size} round {r} {label}: expected {kept} created, got {s}")
                    if not expect_new and (s["unchanged"] != kept or s["created"] or s["updated"]):
                        problems.append(f"size {size} round {r} {label}: expected {kept} unchanged, got {s}")
                print(f"size {size or 'smoke'} round {r}: ogr2ogr {times['ogr2ogr'][-1]:.2f} s ({ogr_rows} rows, "
                      f"{rss['ogr2ogr'][-1]:.0f} MB) | first CLI {times['first_cli'][-1]:.2f} s "
                      f"({rss['first_cli'][-1]:.0f} MB) / in-process {times['first_inproc'][-1]:.2f} s "
                      f"[read {first['read']}, created {first['created']}, repaired {first['repaired']}, "
                      f"rejected {first['rejected']}] | re-import CLI {times['again_cli'][-1]:.2f} s "
                      f"({rss['again_cli'][-1]:.0f} MB) / in-process {times['again_inproc'][-1]:.2f} s "
                      f"[unchanged {again['unchanged']}, updated {again['updated']}] "
                      f"| start-up {times['startup'][-1]:.2f} s", flush=True)
            results[size] = {"rows": ogr_rows, "t": {k: statistics.median(v) for k, v in times.items()},
                             "rss": {k: max(v) for k, v in rss.items()}, "rounds": rounds_of[size]}
    finally:
        if args.keep:
            print(f"kept database {DB}")
        else:
            bench.drop_database()

    print()
    print(f"| {'size':>6} | {'parcels':>8} | {'tool':<44} | {'median s':>8} | {'x ogr2ogr':>9} | {'peak RSS MB':>11} |")
    print(f"|{'-' * 7}:|{'-' * 9}:|{'-' * 46}|{'-' * 9}:|{'-' * 10}:|{'-' * 12}:|")
    for size, res in results.items():
        t, peak, base = res["t"], res["rss"], res["t"]["ogr2ogr"]
        for name, key in (("ogr2ogr (COPY, -t_srs 3857, GIST)", "ogr2ogr"),
                          ("gisportal first import (CLI wall)", "first_cli"),
                          ("gisportal first import (import_parcels() only)", "first_inproc"),
                          ("gisportal re-import (CLI wall)", "again_cli"),
                          ("gisportal re-import (import_parcels() only)", "again_inproc"),
                          ("python + django start-up alone", "startup")):
            label = "smoke" if size == 0 else f"{size}x"
            memory = f"{peak[key]:.0f}" if key in peak else ""
            print(f"| {label:>6} | {res['rows']:>8} | {name:<44} | {t[key]:>8.2f} | {t[key] / base:>9.2f} "
                  f"| {memory:>11} |")
    print()
    failed = False
    sixteen = results.get(TARGET_FROM_SIZE)
    for size, res in results.items():
        if size < TARGET_FROM_SIZE:
            continue
        t, peak, base = res["t"], res["rss"], res["t"]["ogr2ogr"]
        checks = [
            (f"{size}x first import (CLI) <= {FIRST_TARGET:g}x ogr2ogr", t["first_cli"] / base <= FIRST_TARGET,
             f"{t['first_cli'] / base:.2f}x ({t['first_cli']:.2f} s vs {base:.2f} s)"),
            (f"{size}x re-import (CLI) <= {AGAIN_TARGET:g}x ogr2ogr", t["again_cli"] / base <= AGAIN_TARGET,
             f"{t['again_cli'] / base:.2f}x ({t['again_cli']:.2f} s vs {base:.2f} s)"),
            (f"{size}x peak RSS <= {RSS_TARGET_MB} MB", max(peak["first_cli"], peak["again_cli"]) <= RSS_TARGET_MB,
             f"first {peak['first_cli']:.0f} MB, re-import {peak['again_cli']:.0f} MB"),
        ]
        if sixteen and size > TARGET_FROM_SIZE:
            # "No larger" within 5 %: allocator noise, not growth with the file.
            grows = max(peak["first_cli"], peak["again_cli"]) <= 1.05 * max(sixteen["rss"]["first_cli"],
                                                                            sixteen["rss"]["again_cli"])
            checks.append((f"{size}x peak RSS not above {TARGET_FROM_SIZE}x (within 5 %)", grows,
                           f"{max(peak['first_cli'], peak['again_cli']):.0f} MB vs "
                           f"{max(sixteen['rss']['first_cli'], sixteen['rss']['again_cli']):.0f} MB"))
        for name, ok, detail in checks:
            failed |= not ok
            print(f"target: {name}: {detail} -> {'PASS' if ok else 'FAIL'}")
    print(f"load average at the end: {os.getloadavg()[0]:.2f} (other work on the machine inflates the numbers)")
    for problem in problems:
        print(f"PROBLEM: {problem}")
    if args.smoke:
        return 0
    return 1 if failed or problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
