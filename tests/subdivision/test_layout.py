"""A proposed compliant layout: the pure designer on shapes of every kind, the API, and sample_plan."""

import json

import numpy as np
import pytest
import shapely
import shapely.affinity
from django.conf import settings
from django.contrib.gis.geos import LineString, MultiLineString
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from gisportal import crs
from parcels.models import Parcel, Street
from parcels.services import parcels_retire
from subdivision.engine import (
    ExistingParcel,
    PlanContext,
    PlanFeature,
    RuleSet,
    validate,
)
from subdivision.layout import (
    LayoutTargets,
    NoLayout,
    design_layout,
    dimensions,
    target_problems,
)
from subdivision.layout.draw import CONNECT_M, Candidate, Drawn
from subdivision.layout.search import (
    FileCRS,
    merge_open_slivers,
    read_back,
    registry_conflicts,
)
from tests.parcels.factories import RIYADH_ORIGIN, make_parcel, rect, riyadh

X, Y = 500_000.0, 2_700_000.0
BUDGET_S = 3.0


def street(x0, y0, x1, y1):
    return shapely.box(X + x0, Y + y0, X + x1, Y + y1)


def poly(*xy):
    return shapely.Polygon([(X + x, Y + y) for x, y in xy])


SOUTH = street(-100, -20, 500, 0)  # a 20 m right-of-way along the south side
WEST = street(-20, -100, 0, 500)  # and one along the west side
SHAPES = {
    "rectangle, street on one side": (shapely.box(X, Y, X + 180, Y + 220), [SOUTH]),
    "rectangle, streets on two sides": (shapely.box(X, Y, X + 180, Y + 220), [SOUTH, WEST]),
    "L-shape": (poly((0, 0), (240, 0), (240, 100), (100, 100), (100, 240), (0, 240)), [SOUTH]),
    "trapezoid": (poly((0, 0), (260, 0), (190, 170), (40, 170)), [SOUTH]),
    "rotated rectangle": (shapely.affinity.rotate(shapely.box(X, Y, X + 160, Y + 200), 27, origin=(X, Y)),
                          [shapely.affinity.rotate(SOUTH, 27, origin=(X, Y))]),
}


def engine_findings(layout, parent, rows, rules=None):
    rules = rules or RuleSet()
    features = tuple(PlanFeature(f.kind, f.lot_no, f.geom, round(f.geom.area, 2) if f.kind == "lot" else None,
                                 f.land_use, i) for i, f in enumerate(layout.features))
    report = validate(PlanContext(features=features, parents=(ExistingParcel("P", parent, "active"),),
                                  street_rows=tuple(rows), rules=rules))
    return report


@pytest.mark.parametrize("name", list(SHAPES))
def test_every_layout_validates_clean_and_reaches_the_streets(name):
    parent, rows = SHAPES[name]
    layout = design_layout(parent, street_rows=rows, rules=RuleSet(), targets=LayoutTargets(), budget_s=BUDGET_S)
    report = engine_findings(layout, parent, rows)
    assert [f.code for f in report.findings] == [], [f.message_en for f in report.findings]
    lots = [f for f in layout.features if f.kind == "lot"]
    roads = [f for f in layout.features if f.kind == "road"]
    assert len(lots) == layout.lots >= 0.6 * parent.area / 1e4 * 10  # at least 6 lots a hectare
    assert len({f.lot_no for f in lots}) == len(lots)
    assert report.summary["public_share_pct"] >= 33.33
    # The features cover the parent exactly, and nothing sticks out (vertices lie on a 1 mm grid).
    assert sum(f.geom.area for f in layout.features) == pytest.approx(parent.area, abs=0.5)
    assert all(parent.buffer(0.001).covers(f.geom) for f in layout.features)
    # Every new road reaches an existing street right-of-way.
    near = shapely.union_all(rows).buffer(CONNECT_M)
    assert all(r.geom.intersects(near) for r in roads)
    # Every lot meets the lot rules by the engine's own measures (not only "no finding").
    assert min(f.geom.area for f in lots) >= 400


def test_a_corner_lot_on_two_streets_has_its_corner_cut():
    parent, rows = SHAPES["rectangle, streets on two sides"]
    layout = design_layout(parent, street_rows=rows, rules=RuleSet(), targets=LayoutTargets(), budget_s=BUDGET_S)
    corner = shapely.Point(X, Y)
    # Nothing of the plan's lots lies within the 6 m truncation triangle at the street corner.
    triangle = poly((0, 0), (6, 0), (0, 6))
    assert all(f.geom.intersection(triangle).area < 0.01 for f in layout.features if f.kind == "lot")
    assert any(f.geom.distance(corner) < 10 for f in layout.features if f.kind == "lot")


def test_targets_change_the_layout():
    parent, rows = SHAPES["rectangle, street on one side"]
    big = design_layout(parent, street_rows=rows, rules=RuleSet(), budget_s=BUDGET_S,
                        targets=LayoutTargets(lot_area_m2=1200, road_width_m=20, public_share_pct=40))
    report = engine_findings(big, parent, rows)
    assert report.findings == []
    assert report.summary["public_share_pct"] >= 40
    lots = [f.geom.area for f in big.features if f.kind == "lot"]
    assert big.dims.lot_width_m * big.dims.lot_depth_m == pytest.approx(1200, rel=0.01)
    assert np.median(lots) >= 900 and min(lots) >= 400
    assert big.dims.road_width_m == 20
    assert all(r.geom.minimum_rotated_rectangle.area > 0 for r in big.features if r.kind == "road")


def test_a_parcel_too_small_or_away_from_streets_gets_reasons():
    with pytest.raises(NoLayout, match="under the minimum lot area of 400"):
        design_layout(shapely.box(X, Y, X + 15, Y + 20), street_rows=[SOUTH], rules=RuleSet(),
                      targets=LayoutTargets())
    with pytest.raises(NoLayout, match="no lot of at least 400 m²"):
        # 420 m² but only 14 m of frontage: no lot can have 20 m.
        design_layout(shapely.box(X, Y, X + 14, Y + 30), street_rows=[SOUTH], rules=RuleSet(),
                      targets=LayoutTargets(), budget_s=BUDGET_S)
    with pytest.raises(NoLayout, match="street right-of-way"):
        design_layout(shapely.box(X, Y + 100, X + 200, Y + 300), street_rows=[SOUTH], rules=RuleSet(),
                      targets=LayoutTargets())


def _coarse_file() -> FileCRS:
    """A file that keeps coordinates to 0.1 m: what it holds reads back moved, as degrees move metres."""
    return FileCRS(lambda geoms: [shapely.set_precision(g, 0.1, mode="pointwise") for g in geoms],
                   lambda geoms: list(geoms))


def test_what_the_file_breaks_is_redrawn_until_it_reads_back_valid():
    # A vertex 4 cm off the bottom edge lands on it once rounded: the ring touches itself (invalid).
    pinched = shapely.Polygon([(0, 0), (10, 0), (10, 10), (5, 10), (5.3, 0.04), (4.7, 10), (0, 10)])
    assert pinched.is_valid and not _coarse_file().from_file(_coarse_file().to_file([pinched]))[0].is_valid
    square = shapely.box(20, 0, 30, 10)
    written, back = read_back([pinched, square], _coarse_file())
    assert all(g.is_valid and not g.is_empty for g in written + back)
    assert [g.wkb for g in _coarse_file().from_file(written)] == [g.wkb for g in back]
    assert back[1].equals(square) and back[0].area == pytest.approx(pinched.area, abs=1.0)


def test_the_layout_holds_what_its_file_will_read_back_through_degrees():
    parent, rows = SHAPES["rotated rectangle"]
    to_wgs84 = lambda geoms: list(crs.transform(np.asarray(geoms, dtype=object), 32638, crs.WGS84))  # noqa: E731
    to_metric = lambda geoms: list(crs.transform(np.asarray(geoms, dtype=object), crs.WGS84, 32638))  # noqa: E731
    layout = design_layout(parent, street_rows=rows, rules=RuleSet(), targets=LayoutTargets(), budget_s=BUDGET_S,
                           file_crs=FileCRS(to_wgs84, to_metric))
    written = [f.file_geom for f in layout.features]
    # Read back from the very geometries the file holds, the features are what the search validated, bit for bit.
    assert [g.wkb for g in to_metric(written)] == [f.geom.wkb for f in layout.features]
    assert all(g.is_valid for g in written) and engine_findings(layout, parent, rows).findings == []


def test_land_the_registry_gives_to_a_neighbour_as_well_is_refused_at_once():
    parent, rows = SHAPES["rectangle, street on one side"]
    # The neighbour to the east reaches 3 m into the parent over 3 m: 9 m² claimed twice.
    claims = ExistingParcel("N-1", shapely.box(X + 177, Y + 100, X + 260, Y + 103), "active")
    assert registry_conflicts(parent, [claims], RuleSet()) == [("N-1", pytest.approx(9.0))]
    with pytest.raises(NoLayout, match="9.0 m² of the parcel to existing parcel N-1 as well"):
        design_layout(parent, street_rows=rows, rules=RuleSet(), targets=LayoutTargets(), existing=[claims],
                      budget_s=BUDGET_S)


@pytest.mark.parametrize("neighbour, why", [
    (shapely.box(X + 179.99, Y, X + 260, Y + 200), "a 1 cm hair along 200 m: lot lines cut it under 0.5 m²"),
    (shapely.box(X + 179, Y + 100, X + 260, Y + 101.5), "1.5 m²: four lots meeting at a corner can share it"),
    (shapely.box(X + 180, Y, X + 260, Y + 200), "touching only"),
])
def test_drafting_hairs_and_touching_neighbours_are_no_double_claim(neighbour, why):
    parent, _ = SHAPES["rectangle, street on one side"]
    assert registry_conflicts(parent, [ExistingParcel("N-1", neighbour, "active")], RuleSet()) == [], why
    assert registry_conflicts(parent, [ExistingParcel("N-1", shapely.box(X, Y, X + 50, Y + 50), "retired")],
                              RuleSet()) == []


def test_open_space_slivers_go_to_a_neighbour_before_validation_and_never_to_a_road():
    lot = shapely.box(X, Y + 16, X + 20, Y + 46)
    road = shapely.box(X, Y, X + 60, Y + 16)
    park = shapely.box(X + 20.5, Y + 16, X + 60, Y + 46)
    strip = shapely.box(X + 20, Y + 16, X + 20.5, Y + 46)  # 0.5 m wide: the engine's SLIVER
    drawn = Drawn(Candidate(0.0, 0.0, 0.0), lots=[lot], roads=[road], open_spaces=[strip, park])
    merge_open_slivers(drawn, RuleSet())
    assert len(drawn.roads) == 1 and drawn.roads[0].equals(road) and len(drawn.lots) == 1 and drawn.lots[0].equals(lot)
    assert len(drawn.open_spaces) == 1 and drawn.open_spaces[0].area == pytest.approx(park.area + strip.area)
    report = validate(PlanContext(
        features=(PlanFeature("lot", "1", lot, round(lot.area, 2), "residential", 0), PlanFeature("road", None, road,
                  None, None, 1), PlanFeature("open_space", None, drawn.open_spaces[0], None, None, 2)),
        parents=(ExistingParcel("P", shapely.box(X, Y, X + 60, Y + 46), "active"),), rules=RuleSet()))
    assert "SLIVER" not in [f.code for f in report.findings]


def test_a_stray_scrap_of_the_parent_is_left_out_under_the_gap_tolerance():
    # The registry's outline has a 0.2 m², 0.4 m-wide triangle apart from the parcel (as Cambridge's 13070 has):
    # any feature holding it would be a SLIVER, and no feature borders it to take it.
    main, rows = SHAPES["rectangle, street on one side"]
    scrap = poly((190, 100), (191, 100), (190.5, 100.4))
    parent = shapely.MultiPolygon([main, scrap])
    layout = design_layout(parent, street_rows=rows, rules=RuleSet(), targets=LayoutTargets(), budget_s=BUDGET_S)
    assert engine_findings(layout, parent, rows).findings == []
    assert not any(f.geom.intersects(scrap.centroid.buffer(0.05)) for f in layout.features)


def test_targets_are_bounded_by_the_rule_set():
    rules = RuleSet()
    assert target_problems(LayoutTargets(lot_area_m2=300), rules)[0][0] == "lot_area_m2"
    assert target_problems(LayoutTargets(road_width_m=10), rules)[0][0] == "road_width_m"
    assert target_problems(LayoutTargets(public_share_pct=95), rules)[0][0] == "public_share_pct"
    assert target_problems(LayoutTargets(lot_area_m2=600, road_width_m=16, public_share_pct=35), rules) == []
    d = dimensions(rules, LayoutTargets())
    assert d.lot_width_m >= 20 and d.lot_width_m * d.lot_depth_m >= 400 and d.lot_depth_m / d.lot_width_m <= 3


# --------------------------------------------------------------------------- through the registry and the API

URL = "/api/parcels/RUH/{}/layout/"


def storage_line(coords):
    line = crs.transform(shapely.LineString([(RIYADH_ORIGIN[0] + x, RIYADH_ORIGIN[1] + y) for x, y in coords]),
                         32638, settings.STORAGE_SRID)
    return MultiLineString(LineString(list(line.coords)), srid=settings.STORAGE_SRID)


@pytest.fixture
def town(db, settings):
    settings.LAYOUT_BUDGET_S = BUDGET_S
    """RUH with a 180 × 220 m raw parcel on a 20 m street (south) and a 15 m one (west), and a small one."""
    municipality = riyadh()
    make_parcel(municipality, "90-0-1", rect(0, 0, 180, 220), land_use="residential")
    make_parcel(municipality, "90-0-9", rect(300, 0, 15, 20), land_use="residential")
    Street.objects.create(municipality=municipality, name_en="King Fahd Road", name_ar="طريق الملك فهد",
                          row_width_m=20, centreline=storage_line([(-100, -10), (500, -10)]))
    Street.objects.create(municipality=municipality, name_en="Olaya Street", name_ar="شارع العليا",
                          row_width_m=15, centreline=storage_line([(-7.5, -100), (-7.5, 400)]))
    return municipality


def post(client, code, body=None):
    return client.post(URL.format(code), data=json.dumps(body or {}), content_type="application/json")


def upload_validate(client, collection, parents="90-0-1"):
    body = json.dumps(collection).encode()
    return client.post("/api/plans/validate/", {"file": SimpleUploadedFile("plan.geojson", body),
                                                "municipality": "RUH", "parents": parents}, format="multipart")


@pytest.mark.django_db
def test_the_api_answers_a_plan_the_validator_passes(api_client, surveyor, town):
    api_client.force_authenticate(surveyor)
    response = post(api_client, "90-0-1")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["report"]["valid"] is True and body["report"]["findings"] == []
    lots = [f for f in body["plan"]["features"] if f["properties"]["kind"] == "lot"]
    assert body["summary"]["lots"] == len(lots) >= 20
    assert body["summary"]["lots_per_ha"] == pytest.approx(len(lots) / 3.96, abs=0.01)
    assert body["summary"]["public_share_pct"] >= 33.33
    assert {f["properties"]["kind"] for f in body["plan"]["features"]} >= {"lot", "road"}
    # The plan is an ordinary plan file: uploading it as it is gives the same clean report.
    uploaded = upload_validate(api_client, body["plan"])
    assert uploaded.status_code == 200, uploaded.content
    assert uploaded.json()["valid"] is True and uploaded.json()["findings"] == []
    assert uploaded.json()["summary"]["lots_count"] == len(lots)


@pytest.mark.django_db
def test_the_api_refuses_what_it_cannot_do(api_client, planner, town):
    api_client.force_authenticate(planner)
    small = post(api_client, "90-0-9")
    assert small.status_code == 422 and small.json()["code"] == "NoValidLayout"
    assert "minimum lot area" in small.json()["reasons"][0]
    bad = post(api_client, "90-0-1", {"lot_area_m2": 100})
    assert bad.status_code == 400 and bad.json()["detail"].startswith("lot_area_m2:")
    assert post(api_client, "90-0-1", {"road_width_m": "wide"}).json()["detail"].startswith("road_width_m:")
    assert post(api_client, "90-0-1", {"public_share_pct": 1e9}).json()["detail"].startswith("public_share_pct:")
    assert post(api_client, "90-0-1", {"land_use": "castle"}).json()["detail"].startswith("land_use:")
    assert post(api_client, "90-0-1", {"lots": 5}).json()["detail"].startswith("lots:")
    assert post(api_client, "no-such").status_code == 404
    parcels_retire(parcels=[Parcel.objects.get(parcel_code="90-0-9")])
    assert post(api_client, "90-0-9").status_code == 409


@pytest.mark.django_db
def test_only_planners_and_surveyors_may_ask(api_client, town):
    from django.contrib.auth import get_user_model

    from gisportal.accounts.services import demo_accounts_ensure

    assert post(api_client, "90-0-1").status_code == 401
    demo_accounts_ensure()
    api_client.force_authenticate(get_user_model().objects.get(username="partner"))
    assert post(api_client, "90-0-1").status_code == 403


@pytest.mark.django_db
def test_sample_plan_writes_a_valid_plan(api_client, surveyor, town, tmp_path):
    out = tmp_path / "plan.geojson"
    call_command("sample_plan", "RUH", "90-0-1", str(out))
    api_client.force_authenticate(surveyor)
    report = upload_validate(api_client, json.loads(out.read_text())).json()
    assert report["valid"] is True and report["findings"] == []
    assert report["summary"]["lots_count"] >= 20
    with pytest.raises(CommandError, match="minimum lot area"):
        call_command("sample_plan", "RUH", "90-0-9", str(tmp_path / "small.geojson"))


@pytest.mark.django_db
@pytest.mark.slow
def test_sample_plan_on_an_undeveloped_demo_parcel(api_client, surveyor, tmp_path):
    from parcels.demo import load_demo_city

    load_demo_city()
    out = tmp_path / "plan.geojson"
    call_command("sample_plan", "RUH", "90-0-2", str(out))
    api_client.force_authenticate(surveyor)
    body = json.dumps(json.loads(out.read_text())).encode()
    report = api_client.post("/api/plans/validate/", {"file": SimpleUploadedFile("plan.geojson", body),
                                                      "municipality": "RUH", "parents": "90-0-2"},
                             format="multipart").json()
    assert report["valid"] is True and report["findings"] == []
    assert report["summary"]["lots_count"] >= 20
