"""Time plan validation end to end (HTTP upload to gunicorn) against the engine alone and raw PostGIS.

    .venv/bin/python bench/bench_validate.py [--sizes 100 1000 5000 20000] [--rounds 3] [--keep]
                                             [--profile [LOTS ...]] [--top 25] [--smoke]

Creates a dedicated database `gisportal_bench_validate` on the project-local cluster (var/run socket),
migrates it, creates the demo accounts (token of `surveyor`) and a municipality BENCH (UTM 38N,
metric_srid 32638, north Riyadh) whose boundary covers every plan. For each size a plan is generated
with bench/plan_generator.generate_plan, placed side by side from origin (668000, 2742000) with 1.5 km
between plans (so no plan sees another's parent as a neighbour), its parent registered as parcel
BENCH-P<lots>, and its features written to a GeoJSON file in EPSG:32638 with a legacy `crs` member and
properties kind, lot_no, stated_area, land_use. Then, for each size and round, side by side:

  end to end   POST the file to /api/plans/validate/ on gunicorn (1 worker, timeout 300) on loopback:
               wall clock of the HTTP request; the answer must be 200 with valid == true
  server       the request's own duration from the server's JSON request log (no client/transport)
  engine       subdivision.engine.validate on the generated PlanContext, in-process (the floor)
  PostGIS ref  raw SQL on the same features in a temp table (loaded with COPY, GiST index, not timed):
               overlaps by a `&&` self-join with ST_Area(ST_Intersection) > 0.5, and
               gap = ST_Area(ST_Difference(parent, ST_Union(features)))

One untimed warm-up request precedes the rounds; medians are reported. Afterwards, services.plan_validate
is split into its phases in-process (one run per size), and when a target is missed (or with --profile)
cProfile runs around services.plan_validate, in-process, for the sizes concerned.

Targets (end to end): 5,000 lots < 3 s; t(20000) <= 30 x t(1000).
The real database (`gisportal`) is never touched: DATABASE_URL is removed from the environment and
GISPORTAL_DB_NAME is forced. The bench database is dropped at the end unless --keep.
Exit status: 0 when the targets are met, 1 otherwise.

--smoke checks that the bench still runs: the smallest size, one round, the phase split, targets not
enforced (exit 0 unless an answer is wrong or a step fails), in a database of its own
(gisportal_bench_validate_smoke_<pid>) so that it may run beside a real bench or another smoke run.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import benchtools  # bench/ is on the path
from benchtools import bench_environment, pg_connect, python

ROOT = Path(__file__).resolve().parents[1]
DB = "gisportal_bench_validate"
MUNICIPALITY = "BENCH"
METRIC_SRID = 32638
ORIGIN = (668_000.0, 2_742_000.0)
PLAN_SPACING_M = 1_500.0
BOUNDARY_MARGIN_M = 5_000.0
OVERLAP_TOL_M2 = 0.5
TARGET_5000_S = 3.0
TARGET_RATIO = 30.0


def setup_environment() -> None:
    bench_environment(DB, "bench-validate")


def create_database() -> None:
    benchtools.create_database(DB)


def drop_database() -> None:
    benchtools.drop_database(DB)


# ---- plans and files -------------------------------------------------------------------------------
class Plan:
    def __init__(self, n_lots: int, ctx, code: str, path: Path):
        self.n_lots, self.ctx, self.code, self.path = n_lots, ctx, code, path
        self.content = b""

    @property
    def n_features(self) -> int:
        return len(self.ctx.features)


def make_plans(sizes: list[int], workdir: Path) -> list[Plan]:
    """Generate the plans side by side, left to right from ORIGIN, and write their GeoJSON files."""
    from bench.plan_generator import generate_plan

    plans, x = [], ORIGIN[0]
    for n in sizes:
        ctx = generate_plan(n, origin=(x, ORIGIN[1]), seed=n)
        plan = Plan(n, ctx, f"BENCH-P{n}", workdir / f"plan_{n}.geojson")
        write_geojson(plan)
        plans.append(plan)
        x = ctx.parents[0].geom.bounds[2] + PLAN_SPACING_M
    return plans


def write_geojson(plan: Plan) -> None:
    """Write the plan's features as GeoJSON in EPSG:32638 with a legacy (GeoJSON 2008) `crs` member."""
    import shapely

    features = [
        {"type": "Feature",
         "properties": {"kind": f.kind, "lot_no": f.lot_no, "stated_area": f.stated_area, "land_use": f.land_use},
         "geometry": shapely.geometry.mapping(f.geom)}
        for f in plan.ctx.features
    ]
    doc = {"type": "FeatureCollection", "name": "plan",
           "crs": {"type": "name", "properties": {"name": f"urn:ogc:def:crs:EPSG::{METRIC_SRID}"}},
           "features": features}
    plan.content = json.dumps(doc, separators=(",", ":")).encode()
    plan.path.write_bytes(plan.content)


def register(plans: list[Plan]) -> str:
    """Create the demo accounts, BENCH and every plan's parent parcel; return a surveyor token."""
    import shapely
    from django.contrib.auth import get_user_model

    from gisportal import crs
    from gisportal.accounts.services import api_token_create, demo_accounts_ensure
    from parcels.services import municipality_create
    from tests.parcels.factories import make_parcel

    demo_accounts_ensure()
    surveyor = get_user_model().objects.get(username="surveyor")
    bounds = shapely.total_bounds([p.ctx.parents[0].geom for p in plans])
    box = shapely.box(bounds[0] - BOUNDARY_MARGIN_M, bounds[1] - BOUNDARY_MARGIN_M,
                      bounds[2] + BOUNDARY_MARGIN_M, bounds[3] + BOUNDARY_MARGIN_M)
    box = shapely.segmentize(box, 500.0)  # follow the UTM square closely once in lon/lat
    municipality = municipality_create(code=MUNICIPALITY, name_en="Bench (north Riyadh)", name_ar="اختبار",
                                       boundary_wgs84=crs.transform(box, METRIC_SRID, crs.WGS84),
                                       metric_srid=METRIC_SRID)
    for plan in plans:
        make_parcel(municipality, plan.code, plan.ctx.parents[0].geom)
    from subdivision.demo import demo_workflow_ensure

    demo_workflow_ensure()  # the surveyor uploads for the demo surveying office
    return api_token_create(user=surveyor, name="bench_validate")


# ---- gunicorn ----------------------------------------------------------------------------------------
class Server:
    """gunicorn on a free loopback port, 1 worker, timeout 300; its JSON request log goes to a file."""

    def __init__(self, log_path: Path):
        import requests

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.base = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        self.log = open(log_path, "wb")
        self.proc = subprocess.Popen(
            [python(), "-m", "gunicorn", "gisportal.wsgi:application", "--bind", f"127.0.0.1:{port}",
             "--workers", "1", "--timeout", "300"],
            cwd=ROOT, env=dict(os.environ), stdout=subprocess.DEVNULL, stderr=self.log)
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {log_path.read_text()[-2000:]}")
            try:
                requests.get(self.base + "/healthz", timeout=5)
                return
            except requests.ConnectionError:
                if time.monotonic() > deadline:
                    raise RuntimeError("gunicorn did not answer /healthz within 60 s") from None
                time.sleep(0.2)

    def request_ms(self) -> list[float]:
        """Return the durations (ms) the server logged for /api/plans/validate/, in order."""
        out = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if rec.get("msg") == "request" and rec.get("path") == "/api/plans/validate/":
                out.append(float(rec["ms"]))
        return out

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def post_plan(server: Server, token: str, plan: Plan) -> tuple[float, int, dict | str]:
    import requests

    t0 = time.perf_counter()
    response = requests.post(
        server.base + "/api/plans/validate/",
        headers={"Authorization": f"Token {token}"},
        files={"file": (plan.path.name, plan.content, "application/geo+json")},
        data={"municipality": MUNICIPALITY, "parents": plan.code, "land_use": "residential"},
        timeout=600,
    )
    seconds = time.perf_counter() - t0
    try:
        body = response.json()
    except ValueError:
        body = response.text[:2000]
    return seconds, response.status_code, body


def check_answer(plan: Plan, status: int, body) -> str | None:
    """Return a problem description, or None when the answer is 200 with valid == true."""
    if status == 200 and isinstance(body, dict) and body.get("valid") is True:
        return None
    if isinstance(body, dict) and "findings" in body:
        codes: dict[str, int] = {}
        for f in body["findings"]:
            codes[f["code"]] = codes.get(f["code"], 0) + 1
        return f"{plan.n_lots} lots: HTTP {status}, valid={body.get('valid')}, findings {codes}"
    return f"{plan.n_lots} lots: HTTP {status}: {str(body)[:500]}"


# ---- engine and PostGIS reference ------------------------------------------------------------------
def time_engine(plan: Plan) -> tuple[float, object]:
    from subdivision.engine import validate

    t0 = time.perf_counter()
    report = validate(plan.ctx)
    return time.perf_counter() - t0, report


class Reference:
    """The core coverage checks in raw PostGIS, on the plan's features loaded into a temp table."""

    OVERLAPS = """
        SELECT count(*), coalesce(sum(area), 0) FROM (
            SELECT ST_Area(ST_Intersection(a.geom, b.geom)) AS area
            FROM bench_feature a JOIN bench_feature b ON a.id < b.id AND a.geom && b.geom
        ) pairs WHERE area > %s"""
    GAP = """
        SELECT ST_Area(ST_Difference(p.geom, u.geom))
        FROM bench_parent p, (SELECT ST_Union(geom) AS geom FROM bench_feature) u"""

    def __init__(self):
        self.conn = pg_connect(DB)

    def load(self, plan: Plan) -> None:
        import shapely

        def ewkb(g):
            return shapely.to_wkb(shapely.set_srid(g, METRIC_SRID), hex=True, include_srid=True)

        with self.conn.cursor() as cur:
            cur.execute("DROP TABLE IF EXISTS bench_feature, bench_parent")
            cur.execute(f"CREATE TEMP TABLE bench_feature (id int PRIMARY KEY, kind text, "
                        f"geom geometry(Polygon, {METRIC_SRID}))")
            cur.execute(f"CREATE TEMP TABLE bench_parent (geom geometry(Polygon, {METRIC_SRID}))")
            rows = "".join(f"{i}\t{f.kind}\t{ewkb(f.geom)}\n" for i, f in enumerate(plan.ctx.features))
            cur.copy_expert("COPY bench_feature (id, kind, geom) FROM STDIN", io.StringIO(rows))
            cur.copy_expert("COPY bench_parent (geom) FROM STDIN",
                            io.StringIO(f"{ewkb(plan.ctx.parents[0].geom)}\n"))
            cur.execute("CREATE INDEX ON bench_feature USING gist (geom)")
            cur.execute("ANALYZE bench_feature")
            cur.execute("ANALYZE bench_parent")

    def run(self) -> tuple[float, int, float, float]:
        """Return (seconds, overlapping pairs, overlap m², gap m²)."""
        with self.conn.cursor() as cur:
            t0 = time.perf_counter()
            cur.execute(self.OVERLAPS, (OVERLAP_TOL_M2,))
            pairs, overlap_area = cur.fetchone()
            cur.execute(self.GAP)
            (gap,) = cur.fetchone()
            seconds = time.perf_counter() - t0
        return seconds, int(pairs), float(overlap_area), float(gap or 0.0)

    def close(self) -> None:
        self.conn.close()


# ---- server side, in-process ---------------------------------------------------------------------------
def upload_arguments(plan: Plan) -> dict:
    return {"upload": plan.content, "filename": plan.path.name, "municipality": MUNICIPALITY,
            "parents": plan.code, "srid": None, "land_use": "residential"}


def phases(plan: Plan) -> dict[str, float]:
    """Time the steps of services.plan_validate one by one (same calls, same order)."""
    from django.conf import settings

    from subdivision import services
    from subdivision.engine import validate
    from subdivision.plan_context import (
        build_context,
        municipality_get,
        parents_get,
        parse_parent_codes,
    )
    from subdivision.plan_files import read_plan

    out: dict[str, float] = {}
    t = time.perf_counter()
    place = municipality_get(MUNICIPALITY)
    parents = parents_get(place, parse_parent_codes(plan.code))
    out["registry"] = time.perf_counter() - t
    t = time.perf_counter()
    raw = read_plan(plan.content, filename=plan.path.name, limits=services.upload_limits(),
                    dxf_layers=settings.PLAN_DXF_LAYERS or None)
    out["read_plan"] = time.perf_counter() - t
    t = time.perf_counter()
    ctx = build_context(raw=raw, municipality=place, parents=parents, land_use="residential")
    out["build_context"] = time.perf_counter() - t
    t = time.perf_counter()
    report = validate(ctx)
    out["validate"] = time.perf_counter() - t
    t = time.perf_counter()
    body = services.report_json(services.PlanCheck(place, parents, raw, ctx, report, "residential"),
                                services.finding_rows(report.findings, place.metric_srid))
    out["report_json"] = time.perf_counter() - t
    t = time.perf_counter()
    json.dumps(body)
    out["json"] = time.perf_counter() - t
    out["total"] = sum(out.values())
    return out


def profile(plan: Plan, user, top: int) -> str:
    from subdivision import services

    profiler = cProfile.Profile()
    profiler.enable()
    services.plan_validate(user=user, **upload_arguments(plan))
    profiler.disable()
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    return text.getvalue()


# ---- main -----------------------------------------------------------------------------------------------
def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def main() -> int:
    global DB  # --smoke runs in a database of its own
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 5000, 20000])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help=f"keep the {DB} database (and the plan files)")
    parser.add_argument("--profile", type=int, nargs="*", metavar="LOTS",
                        help="cProfile services.plan_validate for these sizes (all sizes if none given) even if "
                             "the targets are met")
    parser.add_argument("--top", type=int, default=25, help="functions per cProfile listing")
    parser.add_argument("--smoke", action="store_true",
                        help="smallest size, one round, targets not enforced (a check that the bench runs)")
    args = parser.parse_args()
    if args.smoke:
        DB = f"{DB}_smoke_{os.getpid()}"
        args.sizes, args.rounds = [min(args.sizes)], 1
    sizes = sorted(set(args.sizes))

    setup_environment()
    status = subprocess.run([str(ROOT / "scripts" / "pg.sh"), "status"], capture_output=True, text=True)
    if status.returncode != 0:  # "stopped"
        subprocess.run([str(ROOT / "scripts" / "pg.sh"), "start"], check=True)

    workdir = Path(tempfile.mkdtemp(prefix="bench_validate-"))
    print(f"database {DB}; sizes {sizes}; {args.rounds} round(s), median reported; plan files: GeoJSON, "
          f"EPSG:{METRIC_SRID} via legacy crs member, in {workdir}; nproc {os.cpu_count()}, "
          f"load average {os.getloadavg()[0]:.2f}", flush=True)
    create_database()
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connections

    server = reference = None
    problems: list[str] = []
    try:
        t0 = time.perf_counter()
        plans = make_plans(sizes, workdir)
        token = register(plans)
        print(f"plans generated, written and registered in {time.perf_counter() - t0:.1f} s", flush=True)
        surveyor = get_user_model().objects.get(username="surveyor")

        server = Server(workdir / "gunicorn.log")
        reference = Reference()
        _, st, body = post_plan(server, token, plans[0])  # warm-up: imports, DB connection, CRS caches
        if problem := check_answer(plans[0], st, body):
            problems.append("warm-up " + problem)

        e2e: dict[int, list[float]] = {p.n_lots: [] for p in plans}
        eng: dict[int, list[float]] = {p.n_lots: [] for p in plans}
        ref: dict[int, list[float]] = {p.n_lots: [] for p in plans}
        srv: dict[int, list[float]] = {p.n_lots: [] for p in plans}
        ref_result: dict[int, tuple] = {}
        engine_valid: dict[int, bool] = {}
        for plan in plans:
            reference.load(plan)
            for _ in range(args.rounds):
                before = len(server.request_ms())
                seconds, st, body = post_plan(server, token, plan)
                e2e[plan.n_lots].append(seconds)
                if problem := check_answer(plan, st, body):
                    problems.append(problem)
                logged = server.request_ms()
                if len(logged) > before:
                    srv[plan.n_lots].append(logged[-1] / 1000)
                seconds, report = time_engine(plan)
                eng[plan.n_lots].append(seconds)
                engine_valid[plan.n_lots] = report.valid
                seconds, *result = reference.run()
                ref[plan.n_lots].append(seconds)
                ref_result[plan.n_lots] = tuple(result)
            print(f"  {plan.n_lots} lots: e2e {' '.join(f'{t:.3f}' for t in e2e[plan.n_lots])} s, "
                  f"engine {' '.join(f'{t:.3f}' for t in eng[plan.n_lots])} s, "
                  f"ref {' '.join(f'{t:.3f}' for t in ref[plan.n_lots])} s", flush=True)

        print()
        print(f"{'lots':>6} {'features':>8} {'file MB':>7} {'e2e s':>7} {'server s':>8} {'engine s':>8} "
              f"{'PostGIS s':>9} {'e2e/ref':>7} {'eng/ref':>7} {'e2e/eng':>7} {'valid':>5} {'ref ovl/gap m²':>15}")
        for plan in plans:
            n = plan.n_lots
            t_e, t_s, t_g, t_r = median(e2e[n]), median(srv[n]), median(eng[n]), median(ref[n])
            pairs, _, gap = ref_result[n]
            print(f"{n:>6} {plan.n_features:>8} {len(plan.content) / 1e6:>7.2f} {t_e:>7.3f} {t_s:>8.3f} "
                  f"{t_g:>8.3f} {t_r:>9.3f} {t_e / t_r:>7.2f} {t_g / t_r:>7.2f} {t_e / t_g:>7.1f} "
                  f"{str(engine_valid[n]):>5} {f'{pairs}/{gap:.2f}':>15}")

        ok = True
        failed_sizes: set[int] = set()
        print()
        if args.smoke:
            print("smoke run: targets not enforced")
        elif 5000 in e2e:
            t = median(e2e[5000])
            passed = t < TARGET_5000_S
            ok &= passed
            failed_sizes |= set() if passed else {5000}
            print(f"target 5,000 lots end to end < {TARGET_5000_S:g} s: {t:.2f} s  {'PASS' if passed else 'FAIL'}")
        if 1000 in e2e and 20000 in e2e and not args.smoke:
            ratio = median(e2e[20000]) / median(e2e[1000])
            passed = ratio <= TARGET_RATIO
            ok &= passed
            failed_sizes |= set() if passed else {1000, 20000}
            print(f"target t(20000) <= {TARGET_RATIO:g} x t(1000) end to end: {ratio:.1f} x  "
                  f"{'PASS' if passed else 'FAIL'}")
            if srv[1000] and srv[20000]:
                print(f"  (server-logged: {median(srv[20000]) / median(srv[1000]):.1f} x; "
                      f"engine: {median(eng[20000]) / median(eng[1000]):.1f} x)")
        for problem in problems:
            ok = False
            print(f"PROBLEM: {problem}")

        print("\nservices.plan_validate in-process, by phase (s, one run each):")
        names = ["registry", "read_plan", "build_context", "validate", "report_json", "json", "total"]
        print(f"{'lots':>6} " + " ".join(f"{k:>13}" for k in names))
        for plan in plans:
            p = phases(plan)
            print(f"{plan.n_lots:>6} " + " ".join(f"{p[k]:>13.3f}" for k in names))

        to_profile = set(failed_sizes)
        if args.profile is not None:
            to_profile |= set(args.profile or sizes) & set(sizes)
        to_profile = sorted(to_profile)
        for n in to_profile:
            plan = next(p for p in plans if p.n_lots == n)
            print(f"\n==== cProfile: services.plan_validate, {n} lots ====")
            print(profile(plan, surveyor, args.top))
        if args.smoke:
            print("smoke run finished" if ok else "SMOKE RUN FAILED")
        else:
            print("targets met" if ok else "TARGETS MISSED")
        return 0 if ok else 1
    finally:
        if server is not None:
            server.stop()
        if reference is not None:
            reference.close()
        connections.close_all()
        if args.keep:
            print(f"kept database {DB} and {workdir}")
        else:
            drop_database()
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
