"""The demo city's sample plan with two gaps between neighbouring lots: one small enough to be drafting error,
one too large. Used by the fix tests (tests/subdivision/test_fix_demo_plan.py) and the browser tests of the
corrections (tests/web/test_plan_corrections.py). Needs the demo city in the database."""

from __future__ import annotations

import json
from collections.abc import Callable

import shapely
import shapely.geometry

PARENT = "90-0-1"
NEAR_MISS_M, FAR_MISS_M = 0.3, 3.2


def gap_plan_geojson(prepare: Callable[[list[dict], object], list[dict]] | None = None,
                     ) -> tuple[bytes, dict[str, tuple[str, str]]]:
    """Return the sample plan of PARENT as GeoJSON with one lot drawn NEAR_MISS_M short of its neighbour and
    another FAR_MISS_M short, and which lots (shrunk, neighbour) each gap is between ({"near": ("1", "2"),
    "far": ...}). PREPARE(features, parcel), when given, changes the sample plan first (metric features)."""
    from gisportal import crs
    from parcels.models import Parcel
    from subdivision.sample_plan import sample_plan

    parcel = Parcel.objects.select_related("municipality").get(municipality__code="RUH", parcel_code=PARENT,
                                                               status="active")
    metric = parcel.municipality.metric_srid
    features = sample_plan(crs.transform(shapely.from_wkb(bytes(parcel.geom.wkb)), parcel.geom.srid, metric))
    if prepare is not None:
        features = prepare(features, parcel)
    lots = {f["lot_no"]: f for f in features if f["kind"] == "lot"}
    # Pairs of lots side by side (a shared edge of the full 30 m depth), no lot in two pairs.
    pairs, used = [], set()
    for a in lots:
        for b in lots:
            if a < b and not {a, b} & used and \
                    shapely.intersection(lots[a]["geometry"], lots[b]["geometry"]).length > 25:
                pairs.append((a, b))
                used |= {a, b}
    assert len(pairs) >= 2, f"the sample plan of {PARENT} has too few neighbouring lots: {sorted(lots)}"
    which = {}
    for (shrunk, neighbour), miss_m, name in zip(pairs, (NEAR_MISS_M, FAR_MISS_M), ("near", "far")):
        strip = shapely.buffer(lots[neighbour]["geometry"], miss_m, join_style="mitre")
        lots[shrunk]["geometry"] = shapely.difference(lots[shrunk]["geometry"], strip).normalize()
        lots[shrunk]["stated_area"] = None  # no area mismatch on top of the gap
        which[name] = (shrunk, neighbour)
    return json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {k: v for k, v in f.items() if k != "geometry" and v is not None},
         "geometry": shapely.geometry.mapping(crs.transform(f["geometry"], metric, crs.WGS84))}
        for f in features]}).encode(), which
