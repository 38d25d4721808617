"""CAD as surveyors draw it: each way of drawing the sample plan is read into the same lots as the plain drawing.

The plain drawing is plan_samples.sample_dxf (closed LWPOLYLINEs, TEXT labels); cad_drawings draws the same
plan with hatches, loose lines and arcs, blocks, bulges, other units, no HEADER, per-block numbers and spot
heights, and as KML with gx: tracks and a KMZ of several documents. Areas must agree within 1 cm².
"""

from __future__ import annotations

import json

import pytest
import shapely
from pyproj import Transformer
from shapely.ops import transform

from subdivision.engine import PlanFeature, validate
from subdivision.plan_files import BadAttribute, BadCoordinates, read_plan
from subdivision.plan_files.dxf import MAX_BLOCK_DEPTH
from subdivision.serializers import PlanResubmitSerializer
from tests.subdivision import cad_drawings as cad
from tests.subdivision import plan_samples as samples
from tests.subdivision.test_api import as_surveyor, city, upload  # noqa: F401  (fixtures)

CM2 = 1e-4  # m²
ARC_AREA_TOL = 10 * CM2  # chords within 0.1 mm of lot 4's 7.9 m arc cut off about 5 cm²
MM = 0.001
SRID = samples.SRID


def _read(data: bytes, name: str = "plan.dxf", **kwargs):
    if name.endswith(".dxf"):
        kwargs.setdefault("srid", SRID)
    return read_plan(data, filename=name, **kwargs)


def _lots(plan) -> dict[tuple[str, str | None], object]:
    """Return {(kind, lot number): geometry in UTM}, one entry per feature (asserted unique)."""
    to_utm = Transformer.from_crs(plan.srid, SRID, always_xy=True)
    out = {}
    for f in plan.features:
        key = (f.kind, f.lot_no)
        assert key not in out, f"{key} read twice"
        out[key] = f.geom if plan.srid == SRID else transform(to_utm.transform, f.geom)
    return out


def _plain() -> dict:
    return _lots(_read(samples.sample_dxf()))


def assert_same_lots(plan, expected: dict | None = None, *, area_tol: float = CM2) -> None:
    """The plan holds the expected features (kind, lot number), each of the same area within area_tol and
    the same shape (1 cm, or exactly for the plain rectangles)."""
    expected = expected if expected is not None else _plain()
    got = _lots(plan)
    assert sorted(got, key=str) == sorted(expected, key=str)
    for key, geom in expected.items():
        assert got[key].area == pytest.approx(geom.area, abs=area_tol), key
        assert got[key].hausdorff_distance(geom) <= 0.01, key


def _rounded() -> dict:
    return {(r["kind"], r["lot_no"]): r["geometry"] for r in cad.rounded_rows()}


def test_the_plain_drawing_is_the_sample_plan():
    plain = _plain()
    assert sorted(plain, key=str) == sorted([("road", None)] + [("lot", str(i)) for i in range(1, 5)], key=str)
    assert sum(g.area for g in plain.values()) == pytest.approx(samples.TOTAL_AREA_M2, abs=CM2)


# --- HATCH --------------------------------------------------------------------------------------------


def test_hatches_with_polyline_and_edge_paths_read_as_the_plain_lots():
    plan = _read(cad.hatch_dxf(), dxf_layers={"PARCELAS": "lot", "VIAS": "road"})
    assert_same_lots(plan)
    # Lot 1 is drawn both as a polyline and as a hatch: read once, the hatch counted as skipped.
    assert plan.skipped["entities"] == {"HATCH filling a polyline's shape": 1}


def test_hatch_edge_paths_with_an_arc_a_spline_and_a_hole():
    plan = _read(cad.hatch_edges_dxf())
    expected = _rounded()
    expected[("lot", "3")] = expected[("lot", "3")].difference(
        shapely.box(*[b + d for b, d in zip(expected[("lot", "3")].bounds[:2] * 2, (5, 5, 8, 8))]))
    # The arc is flattened to chords within 0.1 mm, so lot 4's area is a few cm² short of the true one.
    assert_same_lots(plan, expected, area_tol=ARC_AREA_TOL)
    lots = _lots(plan)
    assert lots[("lot", "3")].area == pytest.approx(600 - cad.LOT3_HOLE_M2, abs=CM2)
    assert len(lots[("lot", "3")].interiors) == 1


def test_hatch_edge_path_with_an_ellipse():
    (lot,) = _read(cad.ellipse_hatch_dxf()).features
    a, b = cad.ELLIPSE_AXES_M
    assert lot.lot_no == "E"
    # Chords within 0.1 mm of the ellipse lose at most 2/3 x 0.1 mm x its perimeter (about 48 m).
    assert lot.geom.area == pytest.approx(3.141592653589793 * a * b, abs=2 / 3 * 0.0001 * 49)
    assert lot.geom.area < 3.141592653589793 * a * b
    x0, y0 = samples.sample_rows()[0]["geometry"].bounds[:2]
    assert lot.geom.bounds == pytest.approx((x0 - a, y0 - b, x0 + a, y0 + b), abs=MM)


# --- LINE / ARC / open polylines closed into faces -------------------------------------------------------


def test_lines_and_an_open_polyline_meeting_within_1_mm_close_the_lots():
    plan = _read(cad.linework_dxf(gap_m=0.0006))
    assert_same_lots(plan)
    # The dangling line and the lone arc are open linework; the point and the GRID layer are named.
    assert plan.skipped["open_linework"] == 2
    assert plan.skipped["entities"] == {"POINT": 1}
    assert plan.skipped["layers"] == {"GRID": 1}


def test_lines_2_mm_apart_do_not_close_a_lot_and_are_reported_open():
    plan = _read(cad.linework_dxf(gap_m=0.002))
    expected = _plain()
    del expected[("lot", "4")]
    assert_same_lots(plan, expected)
    assert plan.skipped["open_linework"] > 2


def test_dividing_lines_stopping_within_1_mm_of_the_front_line_close_the_lots():
    plan = _read(cad.t_junction_dxf(short_m=0.0008))
    assert_same_lots(plan)
    assert "open_linework" not in plan.skipped


def test_dividing_lines_stopping_2_mm_short_leave_one_face_and_open_linework():
    plan = _read(cad.t_junction_dxf(short_m=0.002))
    lots = [f for f in plan.features if f.kind == "lot"]
    assert len(lots) == 1 and lots[0].geom.area == pytest.approx(4 * 600, abs=CM2)
    assert plan.skipped["open_linework"] == 3


# --- arcs as bulges, POLYLINE, ARC ---------------------------------------------------------------------


@pytest.mark.parametrize("how", ["lwpolyline", "polyline", "linework"])
def test_an_arc_at_a_truncated_corner_is_within_1_cm(how):
    plan = _read(cad.rounded_dxf(how))
    assert_same_lots(plan, _rounded(), area_tol=ARC_AREA_TOL)
    lot4 = _lots(plan)[("lot", "4")]
    assert lot4.hausdorff_distance(_rounded()[("lot", "4")]) <= 0.0002  # flattened within 0.1 mm (+ the reference)
    assert len(lot4.exterior.coords) > 20  # the arc is an arc, not a chord


def test_the_same_arc_is_the_same_lot_whichever_entity_draws_it():
    areas = {how: _lots(_read(cad.rounded_dxf(how)))[("lot", "4")].area
             for how in ("lwpolyline", "polyline", "linework")}
    assert max(areas.values()) - min(areas.values()) < CM2


# --- header-less drawings -------------------------------------------------------------------------------


def test_a_drawing_without_header_tables_blocks_or_handles():
    data = cad.headerless_dxf()
    assert b"HEADER" not in data and b"TABLES" not in data and b"ARC" in data
    plan = _read(data)
    assert_same_lots(plan, _rounded(), area_tol=ARC_AREA_TOL)
    assert plan.skipped["units"] == {"read_as": "crs", "source": "no HEADER section"}


# --- blocks -------------------------------------------------------------------------------------------


def test_blocks_scaled_rotated_mirrored_and_nested_with_attrib_mtext_and_text_labels():
    assert_same_lots(_read(cad.blocks_dxf()))


def test_blocks_nested_too_deep_are_counted_not_followed():
    import io

    import ezdxf

    doc = ezdxf.new("R2010")
    inner = doc.blocks.new("B0")
    inner.add_lwpolyline([(0, 0), (1, 0), (1, 1)], close=True)
    for depth in range(1, MAX_BLOCK_DEPTH + 3):
        doc.blocks.new(f"B{depth}").add_blockref(f"B{depth - 1}", (0, 0))
    x0, y0 = samples.sample_rows()[0]["geometry"].bounds[:2]
    msp = doc.modelspace()
    msp.add_blockref(f"B{MAX_BLOCK_DEPTH + 2}", (x0, y0), dxfattribs={"layer": "LOTS"})
    msp.add_blockref("B2", (x0, y0), dxfattribs={"layer": "LOTS", "xscale": 10, "yscale": 10})
    stream = io.StringIO()
    doc.write(stream)
    plan = _read(stream.getvalue().encode())
    assert [round(f.geom.area, 6) for f in plan.features] == [50.0]
    assert plan.skipped["entities"] == {f"INSERT nested deeper than {MAX_BLOCK_DEPTH}": 1}


# --- units ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("unit", list(cad.INSUNITS))
def test_drawing_units_from_insunits(unit):
    plan = _read(cad.units_dxf(unit))
    assert_same_lots(plan)
    assert plan.skipped["units"] == {"read_as": unit, "source": f"$INSUNITS={cad.INSUNITS[unit]}"}
    assert "notes" not in plan.skipped


def test_a_drawing_in_mm_labelled_metres_is_refused_naming_the_likely_unit():
    with pytest.raises(BadCoordinates, match="likely in millimetres .*units=mm"):
        _read(cad.units_dxf("mm", insunits=6))


def test_a_drawing_in_metres_labelled_mm_reads_with_a_note_naming_metres():
    plan = _read(cad.units_dxf("m", insunits=4))
    (note,) = plan.skipped["notes"]
    assert note == ("the lots' median area is 0.0006 m² with the drawing read in millimetres ($INSUNITS=4), "
                    "implausible for lots; the drawing is likely in metres (median 600 m²): upload it again "
                    "with units=m")


def test_feet_labelled_metres_is_not_flagged_since_the_areas_stay_plausible():
    # 600 m² read as 6,458 m²: a plausible lot, so nothing can tell; the units field is the way out.
    plan = _read(cad.units_dxf("ft", insunits=6))
    assert "notes" not in plan.skipped
    assert _lots(plan)[("lot", "1")].area == pytest.approx(600 / 0.3048 ** 2, abs=CM2)


@pytest.mark.parametrize("unit", ["mm", "ft", "us_ft"])
def test_the_units_field_overrides_a_wrong_insunits(unit):
    plan = _read(cad.units_dxf(unit, insunits=6), units=unit)
    assert_same_lots(plan)
    assert plan.skipped["units"] == {"read_as": unit, "source": "units field"}


def test_feet_into_a_crs_in_us_survey_feet():
    # EPSG:2277 (Texas Central, US survey feet): a drawing in metres is scaled into the CRS's feet.
    plan = _read(cad.units_dxf("m"), srid=2277)
    lot = next(f for f in plan.features if f.lot_no == "1")
    assert lot.geom.area * (1200 / 3937) ** 2 == pytest.approx(600.0, abs=CM2)


def test_an_unknown_unit_is_refused():
    with pytest.raises(BadAttribute, match="units 'furlong'"):
        _read(samples.sample_dxf(), units="furlong")


# --- labels: label_layers, blocks ---------------------------------------------------------------------------

SPOT_LAYERS = {"PARCEL": "lot", "STREET": "road"}


def test_spot_heights_are_not_lot_numbers_when_label_layers_is_given():
    without = _read(cad.spot_heights_dxf(), dxf_layers=SPOT_LAYERS)
    assert sorted(f.lot_no for f in without.features if f.kind == "lot") == ["26.622", "26.623", "26.624",
                                                                             "26.625"]
    plan = _read(cad.spot_heights_dxf(), dxf_layers=SPOT_LAYERS, label_layers=["lot_no"])
    assert_same_lots(plan)


def test_lots_numbered_per_block_in_dxf_are_qualified_by_their_block():
    plan = _read(cad.per_block_dxf(), dxf_layers={"LOTES": "lot", "VIAS": "road", "QUADRAS": "block"})
    assert sorted(f.lot_no for f in plan.features if f.kind == "lot") == cad.PER_BLOCK_LOTS
    assert sorted(f.block_no for f in plan.features if f.kind == "lot") == ["7", "7", "8", "8"]
    expected = {(kind, {"1": "7/1", "2": "7/2", "3": "8/1", "4": "8/2"}.get(no)): g
                for (kind, no), g in _plain().items()}
    assert_same_lots(plan, expected)


def test_lots_numbered_per_block_in_geojson_are_qualified_by_their_block():
    plan = _read(cad.per_block_geojson(), "plan.geojson")
    assert [f.lot_no for f in plan.features if f.kind == "lot"] == cad.PER_BLOCK_LOTS
    assert [f.block_no for f in plan.features] == [None, "7", "7", "8", "8"]


def test_duplicate_lot_numbers_are_judged_within_a_block():
    qualified = _read(cad.per_block_geojson(), "plan.geojson")
    codes = {f.code for f in validate(_context(qualified)).findings}
    assert "DUPLICATE_LOT_NO" not in codes
    # The same file without its blocks: lots 1 and 2 are each used twice.
    data = json.loads(cad.per_block_geojson())
    for feature in data["features"]:
        feature["properties"].pop("block_no", None)
    plain = _read(json.dumps(data).encode(), "plan.geojson")
    duplicates = [f for f in validate(_context(plain)).findings if f.code == "DUPLICATE_LOT_NO"]
    assert len(duplicates) == 2


def _context(plan):
    return _engine_context(plan, shapely.union_all([r["geometry"] for r in samples.sample_rows()]))


def _engine_context(plan, parent):
    from subdivision.engine import PlanContext
    from subdivision.engine.context import ExistingParcel

    return PlanContext(features=tuple(PlanFeature(f.kind, f.lot_no, f.geom, index=f.index) for f in plan.features),
                       parents=(ExistingParcel("P", parent, "active"),))


# --- buildings --------------------------------------------------------------------------------------------


def test_buildings_on_their_own_layer_are_read_and_kept_out_of_the_lot_rules():
    plan = _read(cad.buildings_dxf(), dxf_layers={"PARCELAS": "lot", "VIAS": "road", "EDIFICIOS": "building"})
    buildings = [f for f in plan.features if f.kind == "building"]
    assert len(buildings) == 4 and all(f.geom.area == pytest.approx(14 * 20) for f in buildings)
    assert plan.skipped["entities"] == {"DIMENSION": 1}
    lots = {(f.kind, f.lot_no): f.geom.area for f in plan.features if f.kind != "building"}
    assert lots == {key: pytest.approx(g.area, abs=CM2) for key, g in _plain().items()}
    # The same report as the plain drawing's: no overlap of a building with its lot, no area mismatch.
    report, plain = validate(_context(plan)), validate(_context(_read(samples.sample_dxf())))
    assert sorted(f.code for f in report.findings) == sorted(f.code for f in plain.findings)
    assert report.summary == plain.summary and report.summary["overlap_area_m2"] == 0


# --- KML gx: and KMZ of several documents ------------------------------------------------------------------


def test_kml_gx_tracks_are_skipped_with_a_note_and_gx_altitude_mode_ignored():
    plan = _read(cad.gx_kml(), "plan.kml")
    assert_same_lots(plan)
    assert plan.skipped["entities"] == {"gx:Track (a line)": 1, "gx:MultiTrack (a line)": 1}
    assert "1 placemark with gx:Track (a line): not read" in plan.skipped["notes"]


def test_a_kmz_with_several_documents_reads_them_all():
    plan = _read(cad.multi_document_kmz(), "plan.kmz")
    assert_same_lots(plan)
    assert "3 KML documents read: doc.kml, lots/a.kml, lots/b.kml" in plan.skipped["notes"]


# --- the API: dxf_layers, label_layers, units ---------------------------------------------------------------


def test_api_validates_a_drawing_with_its_layer_mapping_and_labels(as_surveyor, city):  # noqa: F811
    response = upload(as_surveyor, "survey.dxf", cad.spot_heights_dxf(), url="/api/plans/validate/",
                      dxf_layers=json.dumps(SPOT_LAYERS), label_layers='["LOT_NO"]')
    assert response.status_code == 200, response.content
    report = response.json()
    plain = upload(as_surveyor, "plan.dxf", samples.sample_dxf(), url="/api/plans/validate/").json()
    assert report["summary"] == plain["summary"] and report["summary"]["lots_count"] == 4
    assert report["finding_counts"] == plain["finding_counts"]
    assert report["skipped"]["units"] == {"read_as": "m", "source": "$INSUNITS=6"}


def test_api_stores_a_plan_drawn_in_mm_labelled_metres_with_the_units_field(as_surveyor, city):  # noqa: F811
    data = cad.units_dxf("mm", insunits=6)
    refused = upload(as_surveyor, "plan.dxf", data)
    assert refused.status_code == 400 and "units=mm" in refused.json()["detail"]
    response = upload(as_surveyor, "plan.dxf", data, units="mm")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["report"]["summary"]["lots_area_m2"] == pytest.approx(2400.0, abs=0.01)
    assert body["report"]["skipped"]["units"] == {"read_as": "mm", "source": "units field"}


def test_api_reads_blocks_and_numbers_per_block(as_surveyor, city):  # noqa: F811
    response = upload(as_surveyor, "plan.dxf", cad.per_block_dxf(), url="/api/plans/validate/",
                      dxf_layers=json.dumps({"LOTES": "lot", "VIAS": "road", "QUADRAS": "block"}),
                      label_layers='["NUMEROS"]')
    assert response.status_code == 200, response.content
    assert "DUPLICATE_LOT_NO" not in response.json()["finding_counts"]


@pytest.mark.parametrize("fields, detail", [
    ({"dxf_layers": "{not json"}, "dxf_layers: expected a JSON object of layer -> kind, got text that is not JSON"),
    ({"dxf_layers": '["LOTS"]'}, "dxf_layers: expected a JSON object of layer -> kind, got list"),
    ({"dxf_layers": '{"LOTS": "swimming_pool"}'}, "dxf_layers: layer 'LOTS' maps to 'swimming_pool'"),
    ({"label_layers": '{"a": 1}'}, "label_layers: expected a JSON list of layer names, got dict"),
    ({"label_layers": '["LOT_NO", 7]'}, "label_layers: expected a JSON list of layer names"),
    ({"units": "furlong"}, "units: 'furlong' is not one of m, mm, cm, ft, us_ft, in"),
])
def test_api_refuses_bad_cad_fields_naming_the_field(as_surveyor, city, fields, detail):  # noqa: F811
    response = upload(as_surveyor, "plan.dxf", samples.sample_dxf(), url="/api/plans/validate/", **fields)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "InvalidParameter" and body["detail"].startswith(detail), body


def test_the_resubmit_form_takes_the_cad_fields():
    from django.core.files.uploadedfile import SimpleUploadedFile

    form = PlanResubmitSerializer(data={"file": SimpleUploadedFile("plan.dxf", b"x"), "units": "ft",
                                        "dxf_layers": '{"P": "lot"}', "label_layers": '["N"]'})
    assert form.is_valid(), form.errors
    assert (form.validated_data["units"], form.validated_data["dxf_layers"],
            form.validated_data["label_layers"]) == ("ft", {"P": "lot"}, ["N"])


# --- hostile drawings: every count is bounded --------------------------------------------------------------


def _drawing(build) -> bytes:
    import io

    import ezdxf

    doc = ezdxf.new("R2010")
    build(doc, *samples.sample_rows()[0]["geometry"].bounds[:2])
    stream = io.StringIO()
    doc.write(stream)
    return stream.getvalue().encode()


def test_a_block_bomb_is_refused_at_the_explosion_bound(monkeypatch):
    from subdivision.plan_files import FileTooLarge, dxf

    def build(doc, x0, y0):
        doc.blocks.new("C").add_lwpolyline([(0, 0), (1, 0), (1, 1)], close=True)
        for name, inner in (("B", "C"), ("A", "B")):
            block = doc.blocks.new(name)
            for i in range(100):
                block.add_blockref(inner, (i * 2, 0))
        doc.modelspace().add_blockref("A", (x0, y0), dxfattribs={"layer": "LOTS"})

    monkeypatch.setattr(dxf, "MAX_EXPLODED", 2_000)
    with pytest.raises(FileTooLarge, match="explode into more than 2,000"):
        _read(_drawing(build))


def test_a_block_that_inserts_itself_is_counted_not_followed():
    def build(doc, x0, y0):
        block = doc.blocks.new("SELF")
        block.add_lwpolyline([(0, 0), (10, 0), (10, 10), (0, 10)], close=True)
        block.add_blockref("SELF", (0, 0))
        doc.modelspace().add_blockref("SELF", (x0, y0), dxfattribs={"layer": "LOTS"})

    plan = _read(_drawing(build))
    assert len(plan.features) == MAX_BLOCK_DEPTH  # the same square at every level down to the bound
    assert plan.skipped["entities"] == {f"INSERT nested deeper than {MAX_BLOCK_DEPTH}": 1}


def test_an_arc_that_would_take_millions_of_vertices_is_refused_before_flattening():
    from subdivision.plan_files import FileTooLarge

    def build(doc, x0, y0):
        msp = doc.modelspace()
        msp.add_lwpolyline([(x0, y0), (x0 + 20, y0), (x0 + 20, y0 + 20)], close=True, dxfattribs={"layer": "LOTS"})
        msp.add_circle((x0, y0), 1e10, dxfattribs={"layer": "LOTS"})  # 6 million chords of 1 mm sagitta

    with pytest.raises(FileTooLarge, match="vertices"):
        _read(_drawing(build))


def test_a_huge_json_field_is_refused(as_surveyor, city):  # noqa: F811
    response = upload(as_surveyor, "plan.dxf", samples.sample_dxf(), url="/api/plans/validate/",
                      label_layers=json.dumps(["L"] * 40_000))
    assert response.status_code == 400
    assert response.json()["detail"].startswith("label_layers: 200,000 characters, at most 100,000")


def test_the_openapi_schema_describes_the_cad_fields_and_skipped():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema["components"]["schemas"]
    for path in ("/api/plans/", "/api/plans/validate/", "/api/plans/{plan_id}/resubmit/"):
        ref = schema["paths"][path]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]["$ref"]
        form = components[ref.rsplit("/", 1)[1]]
        assert {"dxf_layers", "label_layers", "units"} <= set(form["properties"]), path
    assert "skipped" in components["Report"]["properties"]


def test_a_mirrored_block_mirrors_its_bulges_and_hatches():
    def build(doc, x0, y0):
        outline = [(0, 0, 0), (1, 0, 0.2), (1, 1, 0), (0, 1, 0)]  # the east edge bulges east by 0.1
        doc.blocks.new("H").add_hatch().paths.add_polyline_path(outline, is_closed=True)
        doc.blocks.new("P").add_lwpolyline(outline, format="xyb", close=True)
        msp = doc.modelspace()
        for name, dx in (("H", 0), ("P", 50)):
            msp.add_blockref(name, (x0 + dx + 20, y0), dxfattribs={"layer": "LOTS", "xscale": -20, "yscale": 20})

    plan = _read(_drawing(build))
    x0, y0 = samples.sample_rows()[0]["geometry"].bounds[:2]
    bounds = sorted(tuple(v - o for v, o in zip(f.geom.bounds, (x0, y0, x0, y0))) for f in plan.features)
    # The bulge now points west (the arc's apex within the 0.1 mm flattening).
    assert bounds == [pytest.approx((-2.0, 0.0, 20.0, 20.0), abs=2e-4), pytest.approx((48.0, 0.0, 70.0, 20.0), abs=2e-4)]
    assert plan.features[0].geom.area == pytest.approx(plan.features[1].geom.area, abs=CM2)


@pytest.mark.parametrize("damage", ["no EOF", "decimal comma", "no ENDSEC"])
def test_a_damaged_drawing_is_read_in_recovery_mode_with_a_note(damage):
    text = samples.sample_dxf().decode()
    damaged = {
        "no EOF": lambda t: t[:t.rindex("EOF")],
        "decimal comma": lambda t: t.replace(" 40\n2.0\n", " 40\n2,0\n", 1),
        "no ENDSEC": lambda t: t.replace("ENDSEC\n  0\nSECTION\n  2\nOBJECTS", "SECTION\n  2\nOBJECTS", 1),
    }[damage](text)
    assert damaged != text
    plan = _read(damaged.encode())
    assert_same_lots(plan)
    (note,) = plan.skipped["notes"]
    assert note.startswith("the drawing is damaged (") and "recovery mode" in note
