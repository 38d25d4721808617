"""POST /api/plans/validate/?fix=snap in every writable format, and POST /api/plans/{id}/fix/ on a stored plan:
a near-miss plan comes back corrected, in its format, reading back into the same lots, and valid."""

from __future__ import annotations

import base64

import pytest
import shapely
from django.core.files.uploadedfile import SimpleUploadedFile

from gisportal import crs
from subdivision.models import Plan, PlanEvent, PlanFinding, PlanStatus, SurveyingOffice
from subdivision.plan_files import RawFeature, RawPlan, read_plan
from subdivision.plan_files.writers import write_plan
from tests.parcels.factories import make_parcel, rect, riyadh
from tests.subdivision.valid_plans import PLANNER, SURVEYOR, plan_features, user

pytestmark = pytest.mark.django_db

UTM = 32638
FORMATS = {"geojson": 4326, "geopackage": UTM, "shapefile": UTM, "kml": 4326, "dxf": UTM}
TOL = 0.5


@pytest.fixture
def office(db):
    municipality = riyadh()
    make_parcel(municipality, "P-1", rect(0, 0, 88, 40), plan_no="P", parcel_no="1")
    return SurveyingOffice.objects.create(code="OFF-F", name_en="Office F")


@pytest.fixture
def surveyor_client(api_client, office):
    api_client.force_authenticate(user("sue", SURVEYOR, office=office))
    return api_client


def near_miss_features(delta: float = 0.3, lot: str = "2") -> list[tuple[str, str | None, object]]:
    """The valid plan of valid_plans with LOT's east edge drawn DELTA m short (a gap to its neighbour)."""
    out = []
    for kind, no, geom in plan_features(0, 0):
        if no == lot:
            x0, y0, x1, y1 = geom.bounds
            geom = shapely.box(x0, y0, x1 - delta, y1)
        out.append((kind, no, geom))
    return out


def plan_file(fmt: str, features) -> tuple[str, bytes]:
    srid = FORMATS[fmt]
    raw = RawPlan(format=fmt, srid=srid, features=tuple(
        RawFeature(kind=kind, lot_no=no, geom=crs.transform(geom, UTM, srid), stated_area=None, land_use=None,
                   index=i) for i, (kind, no, geom) in enumerate(features)))
    written = write_plan(raw, stem="near-miss")
    return written.name, written.content


def post(client, name: str, content: bytes, url="/api/plans/validate/?fix=snap"):
    data = {"municipality": "RUH", "parents": "P-1", "file": SimpleUploadedFile(name, content)}
    if name.endswith(".dxf"):
        data["srid"] = str(UTM)
    return client.post(url, data, format="multipart")


@pytest.mark.parametrize("fmt", FORMATS)
def test_validate_fix_snap_answers_the_corrected_file_in_the_format_uploaded(surveyor_client, fmt):
    name, content = plan_file(fmt, near_miss_features())
    response = post(surveyor_client, name, content)
    assert response.status_code == 200, response.content
    body = response.json()
    report = body
    assert report["valid"] is False
    gap = next(f for f in report["findings"] if f["code"] == "GAP")
    assert gap["correction"] is not None
    assert 0 < gap["correction"]["max_displacement_m"] <= TOL
    assert {f["label"] for f in gap["correction"]["features"]} <= {"2", "3"}
    assert body["corrections_applied"] >= 1
    assert body["corrected_report"]["valid"] is True, body["corrected_report"]["findings"]

    file = body["file"]
    assert file["name"].startswith("near-miss-snapped.")
    data = base64.b64decode(file["base64"])
    back = read_plan(data, filename=file["name"], srid=file["srid"])
    assert back.format == fmt
    assert sorted((f.kind, f.lot_no or "") for f in back.features) == sorted(
        (k, n or "") for k, n, _ in near_miss_features())
    # no vertex moved further than the tolerance, and lot 2 now reaches lot 3
    for feature in back.features:
        utm = crs.transform(feature.geom, back.srid, UTM)
        original = {n: g for _, n, g in near_miss_features()}[feature.lot_no] if feature.lot_no else None
        if original is not None:
            moved = shapely.symmetric_difference(original, utm)
            width = 0 if moved.area < 1e-6 else 2 * shapely.maximum_inscribed_circle(moved, 0.001).length
            assert width <= TOL + 1e-3
    lot2 = next(crs.transform(f.geom, back.srid, UTM) for f in back.features if f.lot_no == "2")
    assert lot2.bounds[2] == pytest.approx(rect(44, 0, 0, 0).bounds[0], abs=0.01)


def test_beyond_tolerance_gets_no_correction_and_an_unchanged_file(surveyor_client):
    name, content = plan_file("geojson", near_miss_features(delta=3.2))
    body = post(surveyor_client, name, content).json()
    gap = next(f for f in body["findings"] if f["code"] == "GAP")
    assert gap["correction"] is None
    assert gap["correction_note"] == "a vertex would move 3.2 m, over the 0.5 m tolerance"
    assert gap["correction_note_ar"] == "ستتحرك نقطة رأس 3.2 م، أي أكثر من التفاوت المسموح 0.5 م"
    assert body["corrections_applied"] == 0
    assert body["corrected_report"]["finding_counts"].get("GAP") == 1


def test_findings_without_a_correction_type_carry_no_correction_key(surveyor_client):
    name, content = plan_file("geojson", near_miss_features())
    report = post(surveyor_client, name, content, url="/api/plans/validate/").json()
    assert "file" not in report and "corrected_report" not in report
    for finding in report["findings"]:
        assert ("correction" in finding) == (finding["code"] in {"GAP", "OVERLAP", "SLIVER", "OUTSIDE_PARENT",
                                                                 "CORNER_TRUNCATION"})


def test_fix_parameter_is_checked(surveyor_client):
    name, content = plan_file("geojson", near_miss_features())
    response = post(surveyor_client, name, content, url="/api/plans/validate/?fix=magic")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("fix:")


def test_schema_lists_the_fix_answer(surveyor_client):
    schema = surveyor_client.get("/api/schema/?format=json").json()
    answer = schema["components"]["schemas"]["PlanValidate"]["properties"]
    assert {"valid", "findings", "corrections_applied", "corrected_report", "file"} <= set(answer)
    assert "fix" in {p["name"] for p in schema["paths"]["/api/plans/validate/"]["post"]["parameters"]}
    assert "/api/plans/{plan_id}/fix/" in schema["paths"]
    finding = schema["components"]["schemas"]["Finding"]["properties"]
    assert "correction" in finding and "correction_note" in finding


def _stored(client, fmt="geojson", delta=0.3) -> int:
    name, content = plan_file(fmt, near_miss_features(delta))
    response = post(client, name, content, url="/api/plans/")
    assert response.status_code == 201, response.content
    return response.json()["id"]


def test_fix_stores_a_corrected_version_and_keeps_the_status(surveyor_client):
    plan_id = _stored(surveyor_client)
    stored = PlanFinding.objects.get(plan_id=plan_id, version=1, code="GAP")
    assert stored.correction["max_displacement_m"] <= TOL
    assert stored.correction["features"][0]["geometry"]["type"] == "Polygon"

    response = surveyor_client.post(f"/api/plans/{plan_id}/fix/", {}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["version"] == 2 and body["status"] == "draft"
    assert body["report"]["valid"] is True
    event = PlanEvent.objects.filter(plan_id=plan_id).order_by("-id").first()
    assert (event.action, event.from_status, event.to_status, event.version) == ("fix", "draft", "draft", 2)
    assert not PlanFinding.objects.filter(plan_id=plan_id, version=2, code="GAP").exists()
    # nothing left to correct: a second fix is refused
    assert surveyor_client.post(f"/api/plans/{plan_id}/fix/", {}, format="json").status_code == 409


def test_fix_only_in_draft_or_returned(surveyor_client):
    plan_id = _stored(surveyor_client)
    Plan.objects.filter(pk=plan_id).update(status=PlanStatus.SUBMITTED)
    response = surveyor_client.post(f"/api/plans/{plan_id}/fix/", {}, format="json")
    assert response.status_code == 409
    assert Plan.objects.get(pk=plan_id).version == 1


def test_fix_only_by_the_plans_office(surveyor_client, api_client, office):
    plan_id = _stored(surveyor_client)
    other = SurveyingOffice.objects.create(code="OFF-G", name_en="Office G")
    api_client.force_authenticate(user("olga", SURVEYOR, office=other))
    assert api_client.post(f"/api/plans/{plan_id}/fix/", {}, format="json").status_code == 404
    api_client.force_authenticate(user("pia", PLANNER, municipalities=[office and Plan.objects.get(
        pk=plan_id).municipality]))
    assert api_client.post(f"/api/plans/{plan_id}/fix/", {}, format="json").status_code == 403
    assert Plan.objects.get(pk=plan_id).version == 1


def _with(lot: str, geom_of) -> list[tuple[str, str | None, object]]:
    return [(kind, no, geom_of(geom) if no == lot else geom) for kind, no, geom in plan_features(0, 0)]


def _grow(dx0=0.0, dy0=0.0, dx1=0.0, dy1=0.0):
    def change(geom):
        x0, y0, x1, y1 = geom.bounds
        return shapely.box(x0 + dx0, y0 + dy0, x1 + dx1, y1 + dy1)
    return change


NEAR_MISSES = {
    "GAP": _with("2", _grow(dx1=-0.3)),
    "OVERLAP": _with("2", _grow(dx1=0.3)),
    "OUTSIDE_PARENT": _with("4", _grow(dy1=0.3)),
    "SLIVER": [(k, n, shapely.MultiPolygon([g, rect(66, 14, 0.3, 26)]) if n == "1" else
                (_grow(dx0=0.3)(g) if n == "4" else g)) for k, n, g in plan_features(0, 0)],
}


@pytest.mark.parametrize("code", NEAR_MISSES)
def test_each_correction_type_makes_the_near_miss_valid(surveyor_client, code):
    name, content = plan_file("geojson", NEAR_MISSES[code])
    body = post(surveyor_client, name, content).json()
    found = [f for f in body["findings"] if f["code"] == code]
    assert found and all(f["correction"] is not None for f in found), body["findings"]
    assert max(f["correction"]["max_displacement_m"] for f in found) <= TOL
    assert body["corrected_report"]["valid"] is True, body["corrected_report"]["findings"]
    assert body["corrected_report"]["findings"] == []


def test_a_kmz_comes_back_as_kml(surveyor_client):
    import io
    import zipfile

    _, kml = plan_file("kml", near_miss_features())
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("doc.kml", kml)
    body = post(surveyor_client, "near-miss.kmz", buf.getvalue()).json()
    assert body["file"]["name"] == "near-miss-snapped.kml"
    assert body["file"]["media_type"] == "application/vnd.google-earth.kml+xml"
    assert body["corrected_report"]["valid"] is True
