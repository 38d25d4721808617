"""Hostile and oversized plans over HTTP: time, answer size and worker memory, this checkout beside another.

    .venv/bin/python bench/bench_hostile.py [--before REV] [--lots 99000] [--timeout 120] [--smoke]

Three uploads that used to take a server down (issue 7), stored through `POST /api/plans/` on gunicorn
(1 worker, --timeout as `make run` sets it) on loopback:

  copies 1000   one 20 m x 30 m lot repeated 1,000 times (GeoJSON, EPSG:32638)
  copies 3000   the same lot 3,000 times
  grid N        N lots of 20 m x 30 m in a grid with no roads (every lot lacks street access)

then, with those plans stored, what every planner pays: the plan list, and the grid plan's detail,
findings and features. Each answer's status, wall-clock time and size are printed, and the worker's
resident memory after the run.

With --before REV the same runs are made, in the same process and against the same cluster, on a git
worktree of REV (e.g. the commit before this work) in a database of its own, and both are printed side
by side. Everything goes through each checkout's own manage.py (migrate, ensure_demo_accounts,
api_token, import_parcels) and HTTP, so the bench needs nothing of either checkout's Python API.
Databases `gisportal_bench_hostile[_before]` are dropped at the end; the real database is never touched.

--smoke checks that the bench still runs: 20 copies and a 300-lot grid, this checkout only, in a database
of its own (gisportal_bench_hostile_smoke_<pid>); exit 0 when every answer is a 2xx or a clear 4xx.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchtools import python  # bench/ is on the path

ROOT = Path(__file__).resolve().parents[1]
SOCKET = ROOT / "var" / "run"
PORT = os.environ.get("GISPORTAL_PGPORT", "5432")
SRID = 32638
ORIGIN = (668_000.0, 2_742_000.0)
LOT_W, LOT_H = 20.0, 30.0
GRID_COLUMNS = 300


def pg(dbname: str):
    import psycopg2

    conn = psycopg2.connect(host=str(SOCKET), port=PORT, user="gisportal", dbname=dbname)
    conn.autocommit = True
    return conn


def box(x0: float, y0: float, x1: float, y1: float) -> dict:
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


def feature_collection(features: list[dict]) -> bytes:
    return json.dumps({"type": "FeatureCollection",
                       "crs": {"type": "name", "properties": {"name": f"urn:ogc:def:crs:EPSG::{SRID}"}},
                       "features": features}, separators=(",", ":")).encode()


def copies_plan(n: int) -> bytes:
    x0, y0 = ORIGIN
    lot = box(x0 + 10, y0 + 10, x0 + 10 + LOT_W, y0 + 10 + LOT_H)
    return feature_collection([{"type": "Feature", "properties": {"kind": "lot", "lot_no": str(i + 1)},
                                "geometry": lot} for i in range(n)])


def grid_origin() -> tuple[float, float]:
    return ORIGIN[0] + 1_000.0, ORIGIN[1]


def grid_plan(n: int) -> bytes:
    gx, gy = grid_origin()
    features = []
    for i in range(n):
        x, y = gx + (i % GRID_COLUMNS) * LOT_W, gy + (i // GRID_COLUMNS) * LOT_H
        features.append({"type": "Feature", "properties": {"kind": "lot", "lot_no": str(i + 1)},
                         "geometry": box(round(x, 2), round(y, 2), round(x + LOT_W, 2), round(y + LOT_H, 2))})
    return feature_collection(features)


def parents_file(n: int) -> bytes:
    x0, y0 = ORIGIN
    gx, gy = grid_origin()
    rows = -(-n // GRID_COLUMNS)
    return feature_collection([
        {"type": "Feature", "properties": {"code": "H-COPIES"}, "geometry": box(x0, y0, x0 + 100, y0 + 100)},
        {"type": "Feature", "properties": {"code": "H-GRID"},
         "geometry": box(gx, gy, gx + GRID_COLUMNS * LOT_W, gy + rows * LOT_H)},
    ])


@dataclass
class Answer:
    status: int | str
    seconds: float
    size: int
    body: dict | None = None

    def cell(self) -> str:
        size = f"{self.size / 1e6:.2f} MB" if self.size >= 100_000 else f"{self.size / 1e3:.1f} kB"
        return f"{self.status} {self.seconds:7.2f} s {size:>10}"


@dataclass
class Checkout:
    label: str
    path: Path
    db: str
    env: dict = field(default_factory=dict)
    answers: dict = field(default_factory=dict)
    rss_mb: float = float("nan")

    def manage(self, *args: str) -> str:
        result = subprocess.run([python(), "manage.py", *args], cwd=self.path, env=self.env,
                                capture_output=True, text=True)
        if result.returncode:
            raise RuntimeError(f"{self.label}: manage.py {' '.join(args)}: {(result.stderr or result.stdout)[-1500:]}")
        return result.stdout.strip()


def prepare(checkout: Checkout, workdir: Path, n_grid: int) -> str:
    """Create and migrate the checkout's database, register the parents; return a surveyor token."""
    admin = pg("postgres")
    with admin.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {checkout.db} WITH (FORCE)")
        cur.execute(f"CREATE DATABASE {checkout.db}")
    admin.close()
    with pg(checkout.db) as conn, conn.cursor() as cur:
        cur.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    checkout.manage("migrate", "--no-input", "-v", "0")
    checkout.manage("ensure_demo_accounts")
    parents = workdir / "parents.geojson"
    if not parents.exists():
        parents.write_bytes(parents_file(n_grid))
    checkout.manage("import_parcels", str(parents), "--municipality", "HOST", "--create-municipality",
                    "--name", "Hostile bench", "--code-field", "code", "--no-progress")
    if (checkout.path / "subdivision" / "management" / "commands" / "ensure_demo_workflow.py").exists():
        checkout.manage("ensure_demo_workflow")  # surveyors upload for an office since the approval workflow
    return checkout.manage("api_token", "surveyor").split()[-1]


class Server:
    def __init__(self, checkout: Checkout, timeout_s: int, log: Path):
        import requests

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.base = f"http://127.0.0.1:{port}"
        self.log = open(log, "wb")
        self.proc = subprocess.Popen(
            [python(), "-m", "gunicorn", "gisportal.wsgi:application", "--bind", f"127.0.0.1:{port}",
             "--workers", "1", "--timeout", str(timeout_s)],
            cwd=checkout.path, env=checkout.env, stdout=subprocess.DEVNULL, stderr=self.log)
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(self.base + "/healthz", timeout=5)
                return
            except requests.ConnectionError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn of {checkout.label} did not start: {log.read_text()[-1500:]}") from None
                time.sleep(0.2)

    def worker_rss_mb(self) -> float:
        children = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True).stdout.split()
        for pid in children:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def call(method: str, url: str, timeout_s: float, **kwargs) -> Answer:
    import requests

    t0 = time.perf_counter()
    try:
        response = requests.request(method, url, timeout=timeout_s, **kwargs)
    except requests.RequestException as exc:
        return Answer(type(exc).__name__, time.perf_counter() - t0, 0)
    seconds = time.perf_counter() - t0
    try:
        body = response.json()
    except ValueError:
        body = None
    return Answer(response.status_code, seconds, len(response.content), body if isinstance(body, dict) else None)


def run(checkout: Checkout, files: dict[str, bytes], workdir: Path, args) -> None:
    token = prepare(checkout, workdir, args.lots)
    planner_token = checkout.manage("api_token", "planner").split()[-1]
    server = Server(checkout, args.timeout, workdir / f"gunicorn-{checkout.label}.log")
    surveyor = {"Authorization": f"Token {token}"}
    planner = {"Authorization": f"Token {planner_token}"}
    try:
        call("GET", server.base + "/api/plans/", 30, headers=planner)  # warm-up
        grid_id = None
        for name, content in files.items():
            parent = "H-GRID" if name.startswith("grid") else "H-COPIES"
            answer = call("POST", server.base + "/api/plans/", args.timeout + 30, headers=surveyor,
                          files={"file": (f"{name}.geojson", content, "application/geo+json")},
                          data={"municipality": "HOST", "parents": parent, "title": name})
            checkout.answers[f"POST {name}"] = answer
            print(f"  {checkout.label}: POST {name}: {answer.cell()}", flush=True)
            if name.startswith("grid") and answer.body and "id" in answer.body:
                grid_id = answer.body["id"]
            if answer.status != 201:  # a killed worker: let gunicorn start another before going on
                time.sleep(3)
        for name, path in [("GET list", "/api/plans/"), ("GET grid detail", f"/api/plans/{grid_id}/"),
                           ("GET grid findings", f"/api/plans/{grid_id}/findings/"),
                           ("GET grid features", f"/api/plans/{grid_id}/features/")]:
            if grid_id is None and "grid" in name:
                continue
            answer = call("GET", server.base + path, args.timeout + 30, headers=planner)
            checkout.answers[name] = answer
            print(f"  {checkout.label}: {name}: {answer.cell()}", flush=True)
        # the list again, as every planner pays it on each visit
        checkout.answers["GET list (again)"] = call("GET", server.base + "/api/plans/", 60, headers=planner)
        checkout.rss_mb = server.worker_rss_mb()
    finally:
        server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", metavar="REV", help="also run on a worktree of this git revision")
    parser.add_argument("--lots", type=int, default=99_000, help="lots in the grid plan")
    parser.add_argument("--copies", type=int, nargs="+", default=[1000, 3000])
    parser.add_argument("--timeout", type=int, default=120, help="gunicorn worker timeout, s (make run: 120)")
    parser.add_argument("--smoke", action="store_true", help="small plans, this checkout only (a check that it runs)")
    args = parser.parse_args()
    database = "gisportal_bench_hostile"
    if args.smoke:
        args.lots, args.copies, args.before = 300, [20], None
        database = f"{database}_smoke_{os.getpid()}"

    status = subprocess.run([str(ROOT / "scripts" / "pg.sh"), "status"], capture_output=True, text=True)
    if status.returncode != 0:
        subprocess.run([str(ROOT / "scripts" / "pg.sh"), "start"], check=True)
    workdir = Path(tempfile.mkdtemp(prefix="bench_hostile-"))
    base_env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    base_env.update(DJANGO_SETTINGS_MODULE="gisportal.settings", SECRET_KEY="bench-hostile", GISPORTAL_DEMO="1",
                    PYTHONDONTWRITEBYTECODE="1", GISPORTAL_LOG_LEVEL="WARNING")
    checkouts = [Checkout("after", ROOT, database, {**base_env, "GISPORTAL_DB_NAME": database})]
    worktree = None
    if args.before:
        worktree = workdir / "before"
        subprocess.run(["git", "worktree", "add", "--detach", str(worktree), args.before], cwd=ROOT, check=True,
                       capture_output=True)
        (worktree / "var").mkdir()
        (worktree / "var" / "run").symlink_to(SOCKET)
        checkouts.insert(0, Checkout("before", worktree, "gisportal_bench_hostile_before",
                                     {**base_env, "GISPORTAL_DB_NAME": "gisportal_bench_hostile_before"}))
    files = {f"copies {n}": copies_plan(n) for n in args.copies}
    files[f"grid {args.lots}"] = grid_plan(args.lots)
    print("files: " + ", ".join(f"{name} {len(c) / 1e6:.2f} MB" for name, c in files.items())
          + f"; gunicorn 1 worker, timeout {args.timeout} s; nproc {os.cpu_count()}", flush=True)
    try:
        for checkout in checkouts:
            run(checkout, files, workdir, args)
        names = list(dict.fromkeys(k for c in checkouts for k in c.answers))
        print()
        print(f"{'request':<22}" + "".join(f"{c.label + ' (status, time, size)':>34}" for c in checkouts))
        for name in names:
            print(f"{name:<22}" + "".join(f"{c.answers[name].cell() if name in c.answers else '-':>34}"
                                          for c in checkouts))
        print(f"{'worker RSS after, MB':<22}" + "".join(f"{c.rss_mb:>34.0f}" for c in checkouts))
        after = checkouts[-1]
        bounded = all(a.status in (201, 200, 422, 413) for a in after.answers.values())
        print("every answer of this checkout is a 2xx or a clear 4xx" if bounded else "SOME ANSWERS FAILED")
        return 0 if bounded else 1
    finally:
        admin = pg("postgres")
        with admin.cursor() as cur:
            for checkout in checkouts:
                cur.execute(f"DROP DATABASE IF EXISTS {checkout.db} WITH (FORCE)")
        admin.close()
        if worktree is not None:
            subprocess.run(["git", "worktree", "remove", "--force", str(worktree)], cwd=ROOT, capture_output=True)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
