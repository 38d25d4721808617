"""Check a proposed building footprint against its parcel: setbacks and coverage. Pure functions, metres.

Findings are shaped like plan validation's: a code, a severity, a message in English and Arabic,
what was measured and the limit, and the exact offending location (in the metric CRS here; the API
moves it to EPSG:4326).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import shapely
from shapely.geometry.base import BaseGeometry

from subdivision.permits.geometry import (
    FRONT,
    REAR,
    SIDE,
    Edge,
    Rules,
    buildable_area,
    setback_of,
    setback_strip,
)

ERROR = "error"
# Lengths are compared at 1 cm and areas at 0.01 m², as in plan validation, so round-off never flips a result.
LENGTH_TOLERANCE_M = 0.01
AREA_TOLERANCE_M2 = 0.01

SETBACK_CODES = {FRONT: "SETBACK_FRONT", SIDE: "SETBACK_SIDE", REAR: "SETBACK_REAR"}
BOUNDARY_NAMES = {FRONT: ("front", "الأمامي"), SIDE: ("side", "الجانبي"), REAR: ("rear", "الخلفي")}


@dataclass(frozen=True)
class FootprintFinding:
    code: str
    severity: str
    message_en: str
    message_ar: str
    value: float | None
    limit: float | None
    location: BaseGeometry | None  # metric CRS


@dataclass(frozen=True)
class FootprintCheck:
    ok: bool
    footprint_area_m2: float
    coverage_pct: float
    coverage_limit_pct: float
    buildable: BaseGeometry
    findings: list[FootprintFinding] = field(default_factory=list)


def _m(value: float) -> str:
    return f"{value:,.2f}"


def check_footprint(footprint: BaseGeometry, parcel: BaseGeometry, edges: list[Edge], rules: Rules) -> FootprintCheck:
    """Return whether FOOTPRINT (a valid polygonal geometry) keeps the setbacks and the coverage limit."""
    findings: list[FootprintFinding] = []
    outside = shapely.difference(footprint, parcel)
    if outside.area > AREA_TOLERANCE_M2:
        findings.append(FootprintFinding(
            "FOOTPRINT_OUTSIDE_PARCEL", ERROR,
            f"{_m(outside.area)} m² of the footprint lies outside the parcel",
            f"{_m(outside.area)} م² من مسقط المبنى خارج حدود القطعة",
            round(outside.area, 2), 0.0, outside))
    inside = shapely.intersection(footprint, parcel)
    findings += _setback_findings(inside, edges, rules)
    parcel_area = parcel.area
    coverage_pct = round(footprint.area / parcel_area * 100, 2) if parcel_area > 0 else 0.0
    limit = rules.max_coverage_pct
    if coverage_pct > limit + 0.005:
        allowed = parcel_area * limit / 100
        findings.append(FootprintFinding(
            "COVERAGE_EXCEEDED", ERROR,
            f"The footprint covers {coverage_pct:.2f} % of the parcel ({_m(footprint.area)} m²), over the limit "
            f"of {limit:g} % ({_m(allowed)} m²)",
            f"يغطي مسقط المبنى {coverage_pct:.2f}% من مساحة القطعة ({_m(footprint.area)} م²)، "
            f"أكثر من الحد الأقصى {limit:g}% ({_m(allowed)} م²)",
            coverage_pct, limit, footprint))
    return FootprintCheck(
        ok=not any(f.severity == ERROR for f in findings),
        footprint_area_m2=round(footprint.area, 2),
        coverage_pct=coverage_pct,
        coverage_limit_pct=limit,
        buildable=buildable_area(parcel, edges, rules),
        findings=findings,
    )


def _setback_findings(inside: BaseGeometry, edges: list[Edge], rules: Rules) -> list[FootprintFinding]:
    """Return one finding per kind of boundary (and per street for the front) whose setback INSIDE enters."""
    groups: dict[tuple[str, str, str], list[Edge]] = {}
    for edge in edges:
        street = (edge.street.name_en, edge.street.name_ar) if edge.kind == FRONT and edge.street else ("", "")
        groups.setdefault((edge.kind, *street), []).append(edge)
    out = []
    for (kind, street_en, street_ar), group in groups.items():
        setback = setback_of(group[0], rules)
        if setback <= 0 or inside.is_empty:
            continue
        # The strip is narrowed by the tolerance: a wall built exactly on the setback line passes.
        strip = shapely.union_all([setback_strip(e, setback - LENGTH_TOLERANCE_M) for e in group])
        location = shapely.intersection(inside, strip)
        if location.area <= AREA_TOLERANCE_M2:
            continue
        distance = min(inside.distance(e.segment) for e in group)
        name_en, name_ar = BOUNDARY_NAMES[kind]
        on_en = f" on {street_en}" if street_en else ""
        on_ar = f" على {street_ar or street_en}" if (street_ar or street_en) else ""
        out.append(FootprintFinding(
            SETBACK_CODES[kind], ERROR,
            f"The footprint comes {_m(distance)} m from the {name_en} boundary{on_en}, within the {name_en} "
            f"setback of {_m(setback)} m, over {_m(location.area)} m²",
            f"يقترب مسقط المبنى إلى {_m(distance)} م من الحد {name_ar}{on_ar}، داخل الارتداد {name_ar} "
            f"البالغ {_m(setback)} م، على مساحة {_m(location.area)} م²",
            round(distance, 2), round(setback, 2), location))
    order = {"SETBACK_FRONT": 0, "SETBACK_SIDE": 1, "SETBACK_REAR": 2}
    return sorted(out, key=lambda f: order[f.code])
