"""A real Cambridge parcel (../shared/data) subdivided through the plan API, with the findings one expects."""

import json

import geopandas as gpd
import numpy as np
import pytest
import shapely
import shapely.affinity
import shapely.ops
from django.core.files.uploadedfile import SimpleUploadedFile

from gisportal import crs
from parcels.importing import import_parcels
from parcels.layer_import import import_layer
from parcels.measurements import depth_m, facing_lengths
from parcels.services import municipality_create
from tests.conftest import CAMBRIDGE_IMPORT

pytestmark = [pytest.mark.django_db, pytest.mark.cambridge, pytest.mark.slow]

PARENT_CODE = "10935"  # a near-rectangular 1,700 m² parcel on a paved road
NEIGHBOUR_CODE = "10961"  # the one parcel it shares a boundary with; its other sides face streets
UTM19 = 32619


@pytest.fixture
def cambridge(cambridge_gpkg, tmp_path):
    municipality = municipality_create(code="CAM", name_en="Cambridge", centroid_lonlat=(-71.11, 42.37))
    import_parcels(path=str(cambridge_gpkg), municipality=municipality, rejects_path=str(tmp_path / "r.csv"),
                   **CAMBRIDGE_IMPORT)
    import_layer(kind="street_rows", path=str(cambridge_gpkg), municipality=municipality, layer="road_polygons")
    frame = gpd.read_file(cambridge_gpkg, layer="parcels").to_crs(UTM19)
    parent = frame.loc[frame["id"].astype(str) == PARENT_CODE].geometry.iloc[0]
    roads = shapely.union_all(shapely.make_valid(
        gpd.read_file(cambridge_gpkg, layer="road_polygons").to_crs(UTM19).geometry.values))
    return municipality, shapely.make_valid(parent), roads


def split_across_frontage(parent, roads):
    """Split the parent in two through its centroid, perpendicular to its longest street-facing edge."""
    ring = np.asarray(shapely.orient_polygons(parent, exterior_cw=False).geoms[0].exterior.coords
                      if parent.geom_type == "MultiPolygon" else
                      shapely.orient_polygons(parent, exterior_cw=False).exterior.coords)
    facing = facing_lengths(ring, roads)
    i = int(np.argmax(facing))
    direction = (ring[i + 1] - ring[i]) / np.linalg.norm(ring[i + 1] - ring[i])
    c = np.array(parent.centroid.coords[0])
    normal = np.array([-direction[1], direction[0]])
    cutter = shapely.LineString([c - normal * 500, c + normal * 500])
    halves = sorted(shapely.ops.split(parent, cutter).geoms, key=lambda g: (g.centroid.x, g.centroid.y))
    return halves, float(facing.sum())


def upload_plan(api_client, lots):
    features = []
    for n, lot in enumerate(lots, start=1):
        features.append({"type": "Feature", "properties": {"kind": "lot", "lot_no": str(n)},
                         "geometry": shapely.geometry.mapping(crs.transform(lot, UTM19, 4326))})
    body = json.dumps({"type": "FeatureCollection", "features": features}).encode()
    return api_client.post("/api/plans/validate/", {
        "file": SimpleUploadedFile("split.geojson", body), "municipality": "CAM", "parents": PARENT_CODE,
    }, format="multipart")


def by_code(report):
    out = {}
    for finding in report["findings"]:
        out.setdefault(finding["code"], []).append(finding)
    return out


def lot_frontage_and_depth(lot, roads):
    """Measure a lot independently of the engine, with the parcel registry's measurement code."""
    ring = np.asarray(shapely.orient_polygons(lot, exterior_cw=False).exterior.coords)
    facing = facing_lengths(ring, roads)
    i = int(np.argmax(facing))
    direction = (ring[i + 1] - ring[i]) / np.linalg.norm(ring[i + 1] - ring[i])
    return float(facing.sum()), depth_m(lot, direction)


def test_a_split_of_a_real_parcel_gives_the_expected_findings(cambridge, api_client, surveyor):
    municipality, parent, roads = cambridge
    (lot1, lot2), parent_frontage = split_across_frontage(parent, roads)
    api_client.force_authenticate(surveyor)
    response = upload_plan(api_client, [lot1, lot2])
    assert response.status_code == 200, response.content
    report = response.json()
    findings = by_code(report)

    # Exact split: no coverage problem, and both halves are far above 400 m².
    assert report["summary"]["lots_count"] == 2
    stored_area = municipality.parcels.get(parcel_code=PARENT_CODE).area_m2
    assert report["summary"]["parent_area_m2"] == pytest.approx(stored_area, abs=0.1)
    assert report["summary"]["overlap_area_m2"] == pytest.approx(0, abs=0.01)
    assert report["summary"]["uncovered_area_m2"] == pytest.approx(0, abs=0.5)
    assert min(lot1.area, lot2.area) > 400

    # The parent fronts the road over ~32 m, so each half fronts it over ~16 m: under 20 m, and deep.
    expected = {"PUBLIC_SHARE_MIN"}
    for n, lot in enumerate((lot1, lot2), start=1):
        frontage, depth = lot_frontage_and_depth(lot, roads)
        assert 10 < frontage < 20
        expected.add("LOT_FRONTAGE_MIN")
        finding, = [f for f in findings["LOT_FRONTAGE_MIN"] if f["features"] == [str(n)]]
        assert finding["value"] == pytest.approx(frontage, abs=0.05)
        assert finding["limit"] == 20
        if depth / frontage > 3:
            expected.add("LOT_DEPTH_RATIO")
            ratio, = [f for f in findings["LOT_DEPTH_RATIO"] if f["features"] == [str(n)]]
            assert ratio["severity"] == "warning"
            assert ratio["value"] == pytest.approx(depth / frontage, rel=0.01)
    assert set(findings) == expected
    assert findings["PUBLIC_SHARE_MIN"][0]["value"] == 0
    assert report["valid"] is False


def test_a_lot_moved_off_its_parent_overlaps_the_neighbours(cambridge, cambridge_gpkg, api_client, surveyor):
    municipality, parent, roads = cambridge
    (lot1, lot2), _ = split_across_frontage(parent, roads)
    frame = gpd.read_file(cambridge_gpkg, layer="parcels").to_crs(UTM19)
    neighbour = frame.loc[frame["id"].astype(str) == NEIGHBOUR_CODE].geometry.iloc[0]
    # Push the half nearer the neighbour three metres towards it.
    if lot1.distance(neighbour) < lot2.distance(neighbour):
        lot1, lot2 = lot2, lot1
    towards = np.array(neighbour.centroid.coords[0]) - np.array(lot2.centroid.coords[0])
    dx, dy = towards / np.linalg.norm(towards) * 3
    moved = shapely.affinity.translate(lot2, dx, dy)
    api_client.force_authenticate(surveyor)
    report = upload_plan(api_client, [lot1, moved]).json()
    findings = by_code(report)

    gap_expected = parent.difference(shapely.union_all([lot1, moved])).area
    outside_expected = moved.difference(parent).area
    assert report["summary"]["uncovered_area_m2"] == pytest.approx(gap_expected, rel=0.01)
    assert report["summary"]["outside_area_m2"] == pytest.approx(outside_expected, rel=0.01)
    assert "GAP" in findings and "OUTSIDE_PARENT" in findings
    gap_located = shapely.union_all([crs.transform(shapely.geometry.shape(f["location"]), 4326, UTM19)
                                     for f in findings["GAP"]])
    assert gap_located.area == pytest.approx(gap_expected, rel=0.02)

    # Which real neighbours does the moved lot now cover (independently, on the source data)?
    others = frame[(frame["id"].astype(str) != PARENT_CODE) & frame.is_valid & ~frame.is_empty]
    overlapped = sorted(others.loc[others.geometry.intersection(moved).area > 0.5, "id"].astype(str))
    conflicts = findings.get("EXISTING_PARCEL_CONFLICT", [])
    assert overlapped, "the moved lot should land on a neighbour"
    named = sorted({code for f in conflicts for code in overlapped if code in f["message_en"]})
    assert named == overlapped
