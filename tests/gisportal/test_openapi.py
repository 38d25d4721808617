"""The OpenAPI schema describes the real answers: named properties, and every answer fits its schema."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.parcels.factories import make_parcel, rect, riyadh
from tests.subdivision import plan_samples as samples


@pytest.fixture(scope="module")
def schema():
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def resolve(schema, node):
    while "$ref" in node or len(node.get("allOf", ())) == 1:  # allOf: a reference with a description
        if "allOf" in node:
            node = {**node["allOf"][0], **{k: v for k, v in node.items() if k != "allOf"}}
        else:
            node = {**schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]],
                    **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def response_schema(schema, path, method, status=200, media="application/json"):
    operation = schema["paths"][path][method]
    return resolve(schema, operation["responses"][str(status)]["content"][media]["schema"])


def props(schema, node, *path):
    """Return the properties of NODE after following PATH (property names; [] means list items)."""
    for step in path:
        node = resolve(schema, node)
        node = node["items"] if step == "[]" else node["properties"][step]
    return set(resolve(schema, node)["properties"])


PARCEL_STATE = {"municipality", "parcel_code", "area_m2", "status", "version", "valid_from", "valid_to"}
FINDING = {"code", "severity", "message_en", "message_ar", "features", "features_total", "location", "value",
           "limit"}
REPORT = {"valid", "summary", "crs", "finding_counts", "findings_total", "findings_per_code_shown",
          "findings_url", "findings"}


def test_response_schemas_name_the_properties_of_the_answers(schema):
    parcels = response_schema(schema, "/api/parcels/", "get")
    assert {"type", "count", "next", "previous", "features"} <= set(parcels["properties"])
    assert {"type", "id", "geometry", "properties"} <= props(schema, parcels, "features", "[]")
    assert PARCEL_STATE <= props(schema, parcels, "features", "[]", "properties")

    detail = response_schema(schema, "/api/parcels/{municipality}/{parcel_code}/", "get")
    assert PARCEL_STATE | {"measurements", "neighbours", "zoning", "lineage", "lifetime"} <= props(
        schema, detail, "properties")
    assert {"area_m2", "perimeter_m", "frontage_m", "depth_m", "edges", "crs"} <= props(
        schema, detail, "properties", "measurements")
    assert {"length_m", "bearing_deg", "on_street"} <= props(schema, detail, "properties", "measurements", "edges",
                                                             "[]")
    assert {"parents", "children"} <= props(schema, detail, "properties", "lineage")
    assert {"zone_code", "share_pct"} <= props(schema, detail, "properties", "zoning", "[]")
    history = response_schema(schema, "/api/parcels/{municipality}/{parcel_code}/history/", "get")
    assert PARCEL_STATE <= props(schema, history, "features", "[]", "properties")

    plans = response_schema(schema, "/api/plans/", "get")
    assert {"count", "next", "previous", "results"} <= set(plans["properties"])
    listed = props(schema, plans, "results", "[]")
    assert {"id", "status", "summary", "finding_counts", "findings_total"} <= listed and "report" not in listed
    assert {"parent_area_m2", "lots_count", "uncovered_area_m2"} <= props(schema, plans, "results", "[]", "summary")

    created = response_schema(schema, "/api/plans/", "post", 201)
    assert {"id", "status", "report"} <= set(created["properties"])
    assert REPORT <= props(schema, created, "report")
    assert FINDING <= props(schema, created, "report", "findings", "[]")
    plan = response_schema(schema, "/api/plans/{plan_id}/", "get")
    assert REPORT <= props(schema, plan, "report")
    assert REPORT <= set(response_schema(schema, "/api/plans/validate/", "post")["properties"])

    findings = response_schema(schema, "/api/plans/{plan_id}/findings/", "get")
    assert FINDING - {"location"} <= props(schema, findings, "features", "[]", "properties")
    features = response_schema(schema, "/api/plans/{plan_id}/features/", "get")
    assert {"index", "kind", "lot_no", "area_m2", "findings"} <= props(schema, features, "features", "[]",
                                                                       "properties")
    assert {"username", "roles"} <= set(response_schema(schema, "/api/me/", "get")["properties"])


def test_the_upload_form_and_the_errors_are_described(schema):
    for path in ("/api/plans/", "/api/plans/validate/"):
        form = resolve(schema, schema["paths"][path]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"])
        assert {"file", "municipality", "parents", "title", "srid", "land_use"} <= set(form["properties"])
        assert form["properties"]["file"]["format"] == "binary"
        assert {"file", "municipality", "parents"} <= set(form["required"])
        for status in ("400", "401", "403", "413", "415", "422"):
            error = response_schema(schema, path, "post", status)
            assert set(error["properties"]) == {"code", "detail"}, (path, status)
    for path in ("/api/parcels/", "/api/parcels/{municipality}/{parcel_code}/", "/api/plans/{plan_id}/findings/",
                 "/api/me/"):
        assert set(response_schema(schema, path, "get", 401)["properties"]) == {"code", "detail"}, path


# ---- the real answers fit the schema ---------------------------------------------------------------

def assert_fits(schema, node, value, where="answer"):
    """Assert VALUE has exactly the properties NODE declares (required ones present, no others), recursively."""
    node = resolve(schema, node)
    if value is None:
        assert node.get("nullable") or node == {} or "type" not in node, f"{where}: null where not nullable"
        return
    kind = node.get("type")
    if kind == "object" and "properties" in node:
        assert isinstance(value, dict), where
        extra = set(value) - set(node["properties"])
        assert not extra or node.get("additionalProperties"), f"{where}: undeclared {sorted(extra)}"
        missing = set(node.get("required", ())) - set(value)
        assert not missing, f"{where}: missing {sorted(missing)}"
        for name, sub in node["properties"].items():
            if name in value:
                assert_fits(schema, sub, value[name], f"{where}.{name}")
    elif kind == "array":
        assert isinstance(value, list), where
        for i, item in enumerate(value[:5]):
            assert_fits(schema, node.get("items", {}), item, f"{where}[{i}]")
    elif kind == "integer":
        assert isinstance(value, int) and not isinstance(value, bool), f"{where}: {value!r}"
    elif kind == "number":
        assert isinstance(value, (int, float)) and not isinstance(value, bool), f"{where}: {value!r}"
    elif kind == "string":
        assert isinstance(value, str), f"{where}: {value!r}"
    elif kind == "boolean":
        assert isinstance(value, bool), f"{where}: {value!r}"


@pytest.mark.django_db
def test_every_answer_fits_its_response_schema(schema, api_client, planner, surveyor):
    x0, y0 = samples._ORIGIN
    import shapely

    municipality = riyadh()
    make_parcel(municipality, "82-1-1", rect(0, 0, 20, 30), plan_no="82", block_no="1", parcel_no="1")
    make_parcel(municipality, "90-0-1", shapely.box(x0, y0, x0 + 80, y0 + 40), plan_no="90", block_no="0",
                parcel_no="1")

    def fits(path, method, response, status=200, media="application/json"):
        assert response.status_code == status, response.content
        assert_fits(schema, response_schema(schema, path, method, status, media), response.json(), path)

    def upload(url):
        return api_client.post(url, {"municipality": "RUH", "parents": "90-0-1", "title": "Plan",
                                     "file": SimpleUploadedFile("plan.geojson", samples.sample_geojson())},
                               format="multipart")

    api_client.force_authenticate(surveyor)
    fits("/api/plans/validate/", "post", upload("/api/plans/validate/"))
    created = upload("/api/plans/")
    fits("/api/plans/", "post", created, 201)
    plan_id = created.json()["id"]
    fits("/api/plans/", "get", api_client.get("/api/plans/"))
    fits("/api/plans/{plan_id}/", "get", api_client.get(f"/api/plans/{plan_id}/"))
    fits("/api/plans/{plan_id}/features/", "get", api_client.get(f"/api/plans/{plan_id}/features/"))
    fits("/api/plans/{plan_id}/findings/", "get", api_client.get(f"/api/plans/{plan_id}/findings/"))
    fits("/api/me/", "get", api_client.get("/api/me/"))
    fits("/api/plans/{plan_id}/", "get", api_client.get("/api/plans/999999/"), 404)

    api_client.force_authenticate(planner)
    fits("/api/parcels/", "get", api_client.get("/api/parcels/", {"srid": 32638}))
    fits("/api/parcels/", "get", api_client.get("/api/parcels/", {"bbox": "1"}), 400)
    fits("/api/parcels/{municipality}/{parcel_code}/", "get", api_client.get("/api/parcels/RUH/82-1-1/"))
    fits("/api/parcels/{municipality}/{parcel_code}/history/", "get",
         api_client.get("/api/parcels/RUH/82-1-1/history/"))


@pytest.mark.django_db
def test_workflow_answers_fit_their_response_schema(schema, api_client, planner, surveyor):
    from subdivision.models import MunicipalityPlanner
    from tests.subdivision.valid_plans import plan_geojson

    municipality = riyadh()
    MunicipalityPlanner.objects.create(user=planner, municipality=municipality)
    make_parcel(municipality, "P-1", rect(0, 0, 88, 40))

    def fits(path, method, response, status=200, media="application/json"):
        assert response.status_code == status, response.content
        assert_fits(schema, response_schema(schema, path, method, status, media), response.json(), path)

    def upload(url, **fields):
        return api_client.post(url, {"file": SimpleUploadedFile("plan.geojson", plan_geojson(**fields)),
                                     "municipality": "RUH", "parents": "P-1", "title": "Plan"}, format="multipart")

    api_client.force_authenticate(surveyor)
    plan_id = upload("/api/plans/").json()["id"]
    fits("/api/plans/{plan_id}/submit/", "post", api_client.post(f"/api/plans/{plan_id}/submit/"))
    api_client.force_authenticate(planner)
    fits("/api/plans/{plan_id}/assign/", "post", api_client.post(f"/api/plans/{plan_id}/assign/"))
    fits("/api/plans/{plan_id}/return/", "post",
         api_client.post(f"/api/plans/{plan_id}/return/", {"comment": "lot 1"}, format="json"))
    fits("/api/plans/{plan_id}/approve/", "post", api_client.post(f"/api/plans/{plan_id}/approve/"), 409)
    api_client.force_authenticate(surveyor)
    fits("/api/plans/{plan_id}/resubmit/", "post", upload(f"/api/plans/{plan_id}/resubmit/", widths=(24, 20, 22, 22)))
    api_client.force_authenticate(planner)
    fits("/api/plans/{plan_id}/versions/", "get", api_client.get(f"/api/plans/{plan_id}/versions/"))
    fits("/api/plans/{plan_id}/versions/{number}/", "get", api_client.get(f"/api/plans/{plan_id}/versions/1/"))
    fits("/api/plans/{plan_id}/versions/{number}/diff/", "get",
         api_client.get(f"/api/plans/{plan_id}/versions/2/diff/"))
    fits("/api/plans/{plan_id}/history/", "get", api_client.get(f"/api/plans/{plan_id}/history/"))
    fits("/api/plans/", "get", api_client.get("/api/plans/", {"overdue": "false", "status": "resubmitted"}))
    fits("/api/plans/{plan_id}/approve/", "post", api_client.post(f"/api/plans/{plan_id}/approve/"))
