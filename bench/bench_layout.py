"""Measure the proposed compliant layout (POST /api/parcels/{m}/{code}/layout/) on real parcels.

    .venv/bin/python bench/bench_layout.py [--cambridge 25] [--budget 10] [--keep] [--smoke]

Creates a dedicated database `gisportal_bench_layout` on the project-local cluster (var/run socket; the real
`gisportal` database is never touched), migrates it, loads the demo city (RUH) and imports the real Cambridge
data (../shared/data/cambridge/cambridge.gpkg: parcels as tests/conftest.py CAMBRIDGE_IMPORT does, road
polygons as street rights-of-way, street centrelines as streets), then for the demo city's undeveloped parcels
(90-0-x) and the N largest active Cambridge parcels runs the layout service in-process
(subdivision.layout.service.layout_propose: design, write the plan file, validate it with the real engine
against the registry) and prints one row per parcel:

  area ha, rect     the parcel's area and its rectangularity (area / minimum rotated rectangle's area)
  result            valid, or the 422 reason
  lots, lots/ha     the layout's yield
  grid/ha           the baseline: an axis-aligned grid of target-size lots (the layout's lot width x depth) clipped
                    to the parcel, counting only cells that pass the lot rules by themselves (area, width >= the
                    frontage minimum, depth ratio); no roads and no public share, so it is a generous reference
  x grid            lots/ha over grid/ha
  share %, s        the layout's public share and the wall-clock time of the whole service call

Then a summary per set: the share of parcels with a valid layout, median lots/ha, median ratio to the grid,
median and largest time. --smoke runs 2 Cambridge parcels and 1 demo parcel with a 3 s budget, in a database
of its own. The bench database is dropped at the end unless --keep.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import benchtools  # bench/ is on the path
from benchtools import bench_environment

ROOT = Path(__file__).resolve().parents[1]
DB = os.environ.get("GISPORTAL_BENCH_DB", "gisportal_bench_layout")
CAMBRIDGE = ROOT.parent / "shared" / "data" / "cambridge" / "cambridge.gpkg"


def setup_environment() -> None:
    bench_environment(DB, "bench-layout")


def create_database() -> None:
    benchtools.create_database(DB)


def drop_database() -> None:
    benchtools.drop_database(DB)


def load_data(cambridge: bool) -> None:
    from parcels.demo import load_demo_city
    from parcels.importing import import_parcels
    from parcels.layer_import import import_layer
    from parcels.services import municipality_create

    t = time.perf_counter()
    load_demo_city()
    print(f"demo city loaded in {time.perf_counter() - t:.0f} s", flush=True)
    if not cambridge:
        return
    t = time.perf_counter()
    municipality = municipality_create(code="CAM", name_en="Cambridge", centroid_lonlat=(-71.11, 42.37))
    summary = import_parcels(path=str(CAMBRIDGE), municipality=municipality, layer="parcels", code_field="id",
                             field_map={"plan_no": "MAP", "parcel_no": "LOT"},
                             rejects_path=str(ROOT / "var" / "rejects" / "bench_layout.rejects.csv"))
    print("cambridge parcels:", summary.line(), flush=True)
    for kind, layer in (("street_rows", "road_polygons"), ("streets", "street_centerlines")):
        print(f"cambridge {kind}:", import_layer(kind=kind, path=str(CAMBRIDGE), municipality=municipality,
                                                 layer=layer).line(), flush=True)
    print(f"cambridge imported in {time.perf_counter() - t:.0f} s", flush=True)


def grid_baseline(parent, rules, dims) -> int:
    """Return how many cells of an axis-aligned lot grid, clipped to PARENT, pass the lot rules by themselves."""
    import numpy as np
    import shapely

    from subdivision.engine import measure

    w, d = dims.lot_width_m, dims.lot_depth_m
    minx, miny, maxx, maxy = parent.bounds
    xs = np.arange(minx, maxx, w)
    ys = np.arange(miny, maxy, d)
    cells = shapely.box(*np.meshgrid(xs, ys), *np.meshgrid(xs + w, ys + d)).ravel()
    clipped = shapely.intersection(cells, parent)
    clipped = clipped[shapely.get_type_id(clipped) == shapely.GeometryType.POLYGON]
    clipped = clipped[shapely.area(clipped) >= rules.min_lot_area_m2]
    count = 0
    for cell in clipped:
        rect = np.asarray(shapely.oriented_envelope(cell).exterior.coords)
        sides = sorted([np.hypot(*(rect[1] - rect[0])), np.hypot(*(rect[2] - rect[1]))])
        if sides[0] >= rules.min_frontage_m and sides[1] / sides[0] <= rules.max_depth_ratio \
                and measure.thinness([cell])[0] >= 0.1:
            count += 1
    return count


def run_one(municipality: str, code: str, budget_s: float) -> dict:
    import shapely

    from gisportal import crs
    from parcels.models import Parcel
    from subdivision.layout import LayoutTargets, dimensions
    from subdivision.layout.service import NoValidLayout, layout_propose
    from subdivision.plan_context import rule_set_for

    parcel = Parcel.objects.select_related("municipality").get(municipality__code=municipality, parcel_code=code)
    metric = parcel.municipality.metric_srid
    parent = crs.from_geos(parcel.geom, metric)
    rules = rule_set_for(parcel.municipality, "residential")
    dims = dimensions(rules, LayoutTargets())
    area_ha = parent.area / 1e4
    row = {"set": municipality, "code": code, "area_ha": area_ha,
           "rect": parent.area / shapely.oriented_envelope(parent).area,
           "grid_per_ha": grid_baseline(parent, rules, dims) / area_ha}
    t = time.perf_counter()
    try:
        answer = layout_propose(municipality=municipality, parcel_code=code, targets=LayoutTargets(),
                                budget_s=budget_s)
        s = answer["summary"]
        row.update(result="valid" if answer["report"]["valid"] else "INVALID", lots=s["lots"],
                   per_ha=s["lots_per_ha"], share=s["public_share_pct"], tried=s["candidates_tried"])
    except NoValidLayout as exc:
        row.update(result="422: " + " / ".join(exc.extra.get("reasons") or [exc.message]), lots=0, per_ha=0.0,
                   share=None, tried=None)
    row["seconds"] = time.perf_counter() - t
    return row


def print_table(rows: list[dict]) -> None:
    print(f"{'set':4} {'parcel':>10} {'area ha':>8} {'rect':>5} {'lots':>5} {'lots/ha':>8} {'grid/ha':>8} "
          f"{'x grid':>7} {'share %':>8} {'s':>6}  result")
    for r in rows:
        ratio = r["per_ha"] / r["grid_per_ha"] if r["grid_per_ha"] else float("nan")
        share = f"{r['share']:.1f}" if r["share"] is not None else "-"
        print(f"{r['set']:4} {r['code']:>10} {r['area_ha']:8.2f} {r['rect']:5.2f} {r['lots']:5d} {r['per_ha']:8.2f} "
              f"{r['grid_per_ha']:8.2f} {ratio:7.2f} {share:>8} {r['seconds']:6.1f}  {r['result'][:110]}")


def print_summary(rows: list[dict]) -> None:
    print()
    print(f"{'set':4} {'parcels':>7} {'valid':>6} {'share valid':>11} {'median lots/ha':>14} {'median x grid':>13} "
          f"{'median s':>8} {'max s':>6}")
    for name in sorted({r["set"] for r in rows}):
        mine = [r for r in rows if r["set"] == name]
        ok = [r for r in mine if r["result"] == "valid"]
        ratios = [r["per_ha"] / r["grid_per_ha"] for r in ok if r["grid_per_ha"]]
        print(f"{name:4} {len(mine):7d} {len(ok):6d} {len(ok) / len(mine) * 100:10.0f}% "
              f"{statistics.median([r['per_ha'] for r in ok]) if ok else 0:14.2f} "
              f"{statistics.median(ratios) if ratios else float('nan'):13.2f} "
              f"{statistics.median([r['seconds'] for r in mine]):8.1f} {max(r['seconds'] for r in mine):6.1f}")


def main() -> int:
    global DB
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cambridge", type=int, default=25, help="how many of the largest Cambridge parcels")
    parser.add_argument("--budget", type=float, default=10.0, help="search budget per parcel, seconds")
    parser.add_argument("--keep", action="store_true", help=f"keep the {DB} database")
    parser.add_argument("--reuse", action="store_true", help="reuse a kept database instead of loading again")
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    if args.smoke:
        DB = f"{DB}_smoke_{os.getpid()}"
        args.cambridge, args.budget = 2, 3.0
    setup_environment()
    status = subprocess.run([str(ROOT / "scripts" / "pg.sh"), "status"], capture_output=True, text=True, check=False)
    if status.returncode != 0:
        subprocess.run([str(ROOT / "scripts" / "pg.sh"), "start"], check=True)
    print(f"database {DB}; budget {args.budget:g} s a parcel; nproc {os.cpu_count()}, load average "
          f"{os.getloadavg()[0]:.2f}", flush=True)
    if not args.reuse:
        create_database()
    import django

    django.setup()
    import logging

    logging.getLogger("subdivision.engine.validate").setLevel(logging.CRITICAL)  # rule crashes count as findings
    from django.db.models import FloatField, Func

    from parcels.models import Parcel, ParcelStatus

    try:
        if not args.reuse:
            load_data(cambridge=CAMBRIDGE.exists())
        demo = sorted(Parcel.objects.filter(municipality__code="RUH", parcel_code__startswith="90-0-",
                                            status=ParcelStatus.ACTIVE).values_list("parcel_code", flat=True))
        if args.smoke:
            demo = demo[:1]

        class Area(Func):
            function = "ST_Area"
            output_field = FloatField()

        largest = list(Parcel.objects.filter(municipality__code="CAM", status=ParcelStatus.ACTIVE)
                       .annotate(a=Area("geom")).order_by("-a", "parcel_code")
                       .values_list("parcel_code", flat=True)[:args.cambridge])
        rows = []
        for municipality, codes in (("RUH", demo), ("CAM", largest)):
            for code in codes:
                row = run_one(municipality, code, args.budget)
                rows.append(row)
                print(f"  {municipality} {code}: {row['result'][:80]}, {row['lots']} lots, {row['seconds']:.1f} s",
                      flush=True)
        print()
        print_table(rows)
        print_summary(rows)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            drop_database()
    return 0


if __name__ == "__main__":
    sys.exit(main())
