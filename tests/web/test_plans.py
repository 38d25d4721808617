"""The plans pages and the dashboard in a real browser (chromium) against a live server over PostGIS with the
demo city: a surveyor uploads a plan with an overlap and sees the finding on the map, uploads a valid plan and
submits it, a planner assigns and approves it, and the new parcels are on the map at once. Every page is
photographed in English and Arabic under var/artifacts/web/."""

from __future__ import annotations

import json
import re

import pytest
import shapely
import shapely.affinity
import shapely.geometry

from tests.web.conftest import assert_no_console_errors, shot

# django_db: without a marked test among those collected, pytest-django creates no test database and the
# module would run against the development database. Not transactional: the demo city the module-scoped
# `web` fixture commits stays for every test (each test's own writes in this thread are rolled back).
pytestmark = [pytest.mark.slow, pytest.mark.django_db]

OVERLAP_PARENT, VALID_PARENT, RETURNED_PARENT = "90-0-1", "90-0-2", "90-0-3"


def _plan_geojson(django_db_blocker, parent_code: str, *, overlap: bool = False, widen: bool = False) -> bytes:
    """Return the sample plan of PARENT_CODE as GeoJSON; with OVERLAP, lot 2 is moved 6 m onto lot 1; with
    WIDEN, lot 1 takes a 2 m strip of lot 2 (a new version with two lots reshaped)."""
    from gisportal import crs
    from parcels.models import Parcel
    from subdivision.sample_plan import sample_plan

    with django_db_blocker.unblock():
        parcel = Parcel.objects.select_related("municipality").get(municipality__code="RUH", parcel_code=parent_code,
                                                                   status="active")
        metric = parcel.municipality.metric_srid
        parent = crs.transform(shapely.from_wkb(bytes(parcel.geom.wkb)), parcel.geom.srid, metric)
        features = _with_cut_corners(sample_plan(parent), parcel)
    if overlap:
        lot1 = next(f for f in features if f["lot_no"] == "1")["geometry"]
        lot2 = next(f for f in features if f["lot_no"] == "2")
        towards = shapely.centroid(lot1)
        here = shapely.centroid(lot2["geometry"])
        dx, dy = towards.x - here.x, towards.y - here.y
        step = 6.0 / max((dx * dx + dy * dy) ** 0.5, 1e-9)
        lot2["geometry"] = shapely.affinity.translate(lot2["geometry"], dx * step, dy * step)
    if widen:
        lot1 = next(f for f in features if f["lot_no"] == "1")
        lot2 = next(f for f in features if f["lot_no"] == "2")
        strip = shapely.intersection(lot2["geometry"], shapely.buffer(lot1["geometry"], 2.0, join_style="mitre"))
        lot1["geometry"] = shapely.union(lot1["geometry"], strip).normalize()
        lot2["geometry"] = shapely.difference(lot2["geometry"], strip).normalize()
        for lot in (lot1, lot2):
            lot["stated_area"] = round(lot["geometry"].area, 2)
    return json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {k: v for k, v in f.items() if k != "geometry"},
         "geometry": shapely.geometry.mapping(crs.transform(f["geometry"], metric, crs.WGS84))}
        for f in features]}).encode()


def _with_cut_corners(features: list[dict], parcel) -> list[dict]:
    """Return the sample plan FEATURES (metric) with every street corner of a lot cut (شطفة; CORNER_TRUNCATION is
    on by default), as the rule's corrections cut them: the triangle leaves its lot (whose stated area follows)
    for the plan road it borders; at a corner of the parent between two registry streets, where no plan road
    can take it, it becomes an open space, so the parent stays covered."""
    import numpy as np

    from subdivision.engine import Budget
    from subdivision.engine.rules.corners import cut_corners
    from subdivision.plan_files import RawFeature, RawPlan
    from subdivision.services import check_raw

    raw = RawPlan(format="geojson", srid=parcel.municipality.metric_srid, features=tuple(
        RawFeature(kind=f["kind"], lot_no=f["lot_no"], geom=f["geometry"], stated_area=f["stated_area"],
                   land_use=f["land_use"], index=i) for i, f in enumerate(features)))
    check = check_raw(raw, municipality=parcel.municipality, parents=[parcel], land_use="residential",
                      budget=Budget(60))
    findings = check.report.findings
    assert {f.code for f in findings} == {"CORNER_TRUNCATION"}, [f.message_en for f in findings]
    geoms = np.array([f.geom for f in check.context.features], dtype=object)
    kinds = np.array([f.kind for f in check.context.features], dtype=object)
    cut, _, applied = cut_corners(check.context, geoms, kinds, findings)
    assert len(applied) == sum(f.correction is not None for f in findings)
    for feature, geom in zip(features, cut):
        feature["geometry"] = geom
    lots = {f["lot_no"]: f for f in features if f["kind"] == "lot"}
    for finding in findings:
        if finding.correction is None:
            lot = lots[finding.features[0]]
            lot["geometry"] = shapely.difference(lot["geometry"], finding.location)
            features.append({"kind": "open_space", "lot_no": None, "land_use": None, "stated_area": None,
                             "geometry": finding.location})
    for lot in lots.values():
        lot["stated_area"] = round(lot["geometry"].area, 2)
    return features


def _wait_for_map(page, selector: str = "#plan-map") -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_selector(f"{selector}[data-ready=true]", timeout=30_000)
    except PlaywrightTimeout:
        shot(page, "failed-map")
        raise AssertionError(f"the map did not start: {page.console_errors}") from None
    page.wait_for_function("(s) => document.querySelector(s).mapInstance.loaded()", arg=selector, timeout=30_000)


def _rendered(page, layer: str, selector: str = "#plan-map") -> list[dict]:
    """Return the properties of the features MapLibre drew in LAYER, once the map is idle."""
    page.wait_for_function("(s) => document.querySelector(s).mapInstance.loaded()", arg=selector, timeout=30_000)
    return page.evaluate(
        """([selector, layer]) => new Promise((resolve) => {
             const map = document.querySelector(selector).mapInstance;
             const answer = () => resolve(map.queryRenderedFeatures({ layers: [layer] }).map((f) => f.properties));
             if (map.loaded() && !map.isMoving()) answer(); else map.once("idle", answer);
           })""", [selector, layer])


def _settled(page) -> None:
    """Wait until the upload page has drawn the answer to its last validation (it re-validates 350 ms after
    each change)."""
    page.wait_for_timeout(500)
    page.wait_for_function("() => !document.querySelector('[aria-busy=true]')", timeout=30_000)


def _rendered_after_zoom(page, layer: str, until=bool, selector: str = "#plan-map") -> list[dict]:
    """Return what LAYER renders once UNTIL(it) holds (or after 10 s): the zoom's animation and the
    render take longer on a loaded machine than any fixed wait."""
    features = []
    for _ in range(50):
        page.wait_for_timeout(200)
        features = _rendered(page, layer, selector)
        if until(features):
            break
    return features


def _drop_file(page, selector: str, name: str, content: bytes) -> None:
    """Drop a file on SELECTOR as a user dragging it from the desktop would (a DataTransfer with the file)."""
    page.evaluate(
        """([selector, name, text]) => {
             const transfer = new DataTransfer();
             transfer.items.add(new File([text], name, { type: "application/geo+json" }));
             const zone = document.querySelector(selector);
             for (const type of ["dragenter", "dragover", "drop"]) {
               zone.dispatchEvent(new DragEvent(type, { dataTransfer: transfer, bubbles: true, cancelable: true }));
             }
           }""", [selector, name, content.decode()])


@pytest.fixture(scope="module")
def plans_state():
    """What one test leaves for the next one (the submitted plan's id)."""
    return {}


def test_a_surveyor_sees_an_overlap_listed_and_highlighted(web, page_in, login, django_db_blocker):
    content = _plan_geojson(django_db_blocker, OVERLAP_PARENT, overlap=True)
    for lang in ("en", "ar"):
        page = page_in(lang)
        login(page, "surveyor", next_url="/plans/new")
        assert page.url.endswith("/plans/new")
        _wait_for_map(page)
        assert page.locator("html").get_attribute("dir") == ("rtl" if lang == "ar" else "ltr")
        page.fill("#parents", OVERLAP_PARENT)
        _drop_file(page, "#dropzone", "overlap.geojson", content)

        overlap = page.locator("#findings .finding[data-code=OVERLAP]")
        overlap.first.wait_for(timeout=30_000)
        message = overlap.first.locator(".finding-message").inner_text()
        if lang == "ar":
            assert re.search(r"[\u0600-\u06FF]", message), message  # the Arabic message, not the English one
        else:
            assert "overlap" in message.lower(), message
        assert page.locator("#report-verdict").get_attribute("class").endswith("verdict-bad")
        assert page.locator("#submit-plan").is_disabled()
        # The overlapping lots are drawn red on the map.
        states = {(f.get("lot_no"), f.get("_state")) for f in _rendered(page, "plan-fill")}
        assert ("1", "error") in states and ("2", "error") in states, states

        # Keyboard: focus the finding and press Enter: the map zooms to it and highlights it. Once the last
        # validation is drawn: every change re-validates (debounced), and a later answer redraws the list.
        _settled(page)
        overlap.first.focus()
        page.keyboard.press("Enter")
        assert overlap.first.get_attribute("aria-pressed") == "true"
        highlighted = _rendered_after_zoom(page, "finding-highlight-fill")
        assert [f["code"] for f in highlighted][:1] == ["OVERLAP"], highlighted
        zoom = page.evaluate("() => document.querySelector('#plan-map').mapInstance.getZoom()")
        assert zoom > 17, zoom
        # Another change (the land use) validates the plan again: the finding the user chose stays chosen and
        # drawn, and the map stays where the user is.
        other = page.evaluate("""() => [...document.querySelectorAll('#land-use option')]
                                   .map((o) => o.value).find((v) => v !== document.querySelector('#land-use').value)""")
        page.select_option("#land-use", other)
        _settled(page)
        assert page.locator("#findings .finding[aria-pressed=true]").count() == 1
        assert overlap.first.get_attribute("aria-pressed") == "true"
        assert [f["code"] for f in _rendered(page, "finding-highlight-fill")][:1] == ["OVERLAP"]
        assert page.evaluate("() => document.querySelector('#plan-map').mapInstance.getZoom()") == pytest.approx(zoom)
        shot(page, f"plans-new-overlap-{lang}")
        if lang == "en":
            # A plan with errors can still be saved as a draft (to fix later), never submitted.
            page.click("#save-draft")
            page.locator("#plan-status", has_text="Draft saved as plan").wait_for(timeout=30_000)
            assert page.locator("#submit-plan").is_disabled()
            states = {(f.get("lot_no"), f.get("_state")) for f in _rendered(page, "plan-fill")}
            assert ("1", "error") in states and ("3", "ok") in states, states  # drawn from the stored features
            # The API's errors are shown in the page: a parent that does not exist.
            page.fill("#parents", "NO-SUCH-PARCEL")
            page.locator("#plan-error", has_text="NO-SUCH-PARCEL").wait_for(timeout=30_000)
            assert page.locator("#report").is_hidden() and page.locator("#save-draft").is_disabled()
            # Chromium logs that expected 404 answer as a console error; it is the only one allowed.
            expected = [e for e in page.console_errors if "404" in e and "/api/plans/validate/" in e]
            assert len(expected) == 1, page.console_errors
            page.console_errors.remove(expected[0])
        assert_no_console_errors(page)


def test_a_surveyor_uploads_a_valid_plan_and_submits_it(web, page_in, login, django_db_blocker, plans_state, tmp_path):
    path = tmp_path / "valid-plan.geojson"
    path.write_bytes(_plan_geojson(django_db_blocker, VALID_PARENT))
    page = page_in("en")
    login(page, "surveyor", next_url="/plans/new")
    _wait_for_map(page)

    # Choose the parent by clicking it on the map.
    from parcels.models import Parcel

    with django_db_blocker.unblock():
        centre = Parcel.objects.get(municipality__code="RUH", parcel_code=VALID_PARENT).geom.point_on_surface
        centre.transform(4326)
    page.evaluate("([lon, lat]) => document.querySelector('#plan-map').mapInstance.jumpTo({center: [lon, lat], zoom: 17})",
                  [centre.x, centre.y])
    page.wait_for_function("() => document.querySelector('#plan-map').mapInstance.loaded()")
    _rendered(page, "parcels-fill")
    box = page.locator("#plan-map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_function("(code) => document.querySelector('#parents').value === code", arg=VALID_PARENT)
    assert page.locator("#parent-chips .chip").inner_text().startswith(VALID_PARENT)
    assert any(f["parcel_code"] == VALID_PARENT for f in _rendered(page, "parents-selected-fill"))

    page.set_input_files("#plan-file", str(path))  # the file input: the keyboard user's way
    page.fill("#title", "Browser test plan")
    page.locator("#report-verdict").wait_for(timeout=30_000)
    assert "verdict-ok" in page.locator("#report-verdict").get_attribute("class"), page.locator("#findings").inner_text()
    submit = page.locator("#submit-plan")
    page.wait_for_function("() => !document.querySelector('#submit-plan').disabled")
    assert {f["_state"] for f in _rendered(page, "plan-fill")} <= {"ok", "road", "open_space"}
    shot(page, "plans-new-valid-en")

    with page.expect_navigation(url=re.compile(r"/plans/\d+$"), timeout=60_000):
        submit.click()
    plan_id = int(page.url.rsplit("/", 1)[1])
    page.locator("[data-testid=plan-status]").wait_for()
    assert page.locator("[data-testid=plan-status]").inner_text() == "Submitted"
    page.locator("#history li").nth(1).wait_for()
    assert [a.get_attribute("data-action") for a in page.locator("#history li").all()] == ["create", "submit"]
    assert page.locator("#action-buttons button").all_inner_texts() == ["Withdraw"]
    assert_no_console_errors(page)
    plans_state["plan_id"] = plan_id


def test_a_planner_approves_it_and_the_new_parcels_are_on_the_map(web, page_in, login, plans_state):
    plan_id = plans_state.get("plan_id")
    if plan_id is None:
        pytest.fail("the submit test did not leave a plan")
    page = page_in("en")
    login(page, "planner", next_url=f"/plans/{plan_id}")
    _wait_for_map(page)
    assert page.locator("[data-testid=plan-status]").inner_text() == "Submitted"

    # Return and reject need a comment: the page says so instead of calling the API.
    page.click("#action-buttons button[data-action=assign]")
    page.locator("[data-testid=plan-status]", has_text="Under review").wait_for()
    page.click("#action-buttons button[data-action=reject]")
    assert "comment" in page.locator("#plan-error").inner_text().lower()
    assert page.locator("[data-testid=plan-status]").inner_text() == "Under review"

    page.fill("#action-comment", "Conforms to the rules")
    page.click("#action-buttons button[data-action=approve]")
    page.locator("[data-testid=plan-status]", has_text="Approved").wait_for(timeout=60_000)
    number = page.locator("[data-testid=plan-number]").inner_text()
    assert re.fullmatch(r"RUH-\d{4}-\d{4}", number), number
    assert page.locator("#action-buttons button").count() == 0
    page.locator("#history li[data-action=approve]").wait_for()
    assert "Conforms to the rules" in page.locator("#history li[data-action=approve]").inner_text()

    # The new parcels are drawn from the parcels tiles at once, on the same page.
    page.wait_for_function(
        """(number) => {
             const map = document.querySelector('#plan-map').mapInstance;
             return map.loaded() && map.queryRenderedFeatures({ layers: ['parcels-fill'] })
               .some((f) => String(f.properties.parcel_code).startsWith(number + '-'));
           }""", arg=number, timeout=30_000)
    codes = {f["parcel_code"] for f in _rendered(page, "parcels-fill")}
    assert f"{number}-1" in codes and f"{number}-R1" in codes, sorted(codes)[:20]
    assert VALID_PARENT not in codes  # the parent is retired
    shot(page, "plans-detail-approved-en")
    assert_no_console_errors(page)
    plans_state["number"] = number


def test_pages_refuse_the_wrong_role(web, django_db_blocker):
    from django.contrib.auth import get_user_model
    from django.test import Client

    with django_db_blocker.unblock():
        users = {u.username: u for u in get_user_model().objects.all()}
        for path in ("/plans/", "/plans/new", "/plans/1", "/dashboard"):
            answer = Client().get(path)
            assert answer.status_code == 302 and answer["Location"].startswith(f"/login/?next={path}"), path
        expected = {
            "surveyor": {"/plans/": 200, "/plans/new": 200, "/dashboard": 403, "/plans/999999": 404},
            "planner": {"/plans/": 200, "/plans/new": 403, "/dashboard": 200, "/plans/999999": 404},
            "partner": {"/plans/": 403, "/plans/new": 403, "/dashboard": 403, "/plans/999999": 403},
            "admin": {"/plans/": 200, "/plans/new": 200, "/dashboard": 200},
        }
        for username, answers in expected.items():
            client = Client()
            client.force_login(users[username])
            for path, status in answers.items():
                assert client.get(path).status_code == status, (username, path)


def _api(page, path: str, **kwargs):
    """Call the API from PAGE's browser context (its session cookie and CSRF token), as the pages' scripts do."""
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    answer = page.request.post(path, headers={"X-CSRFToken": token, "Referer": path}, **kwargs)
    assert answer.ok, answer.text()
    return answer.json()


def test_a_returned_plan_is_resubmitted_and_its_diff_drawn(web, page_in, login, django_db_blocker, tmp_path):
    version_2 = tmp_path / "version-2.geojson"
    version_2.write_bytes(_plan_geojson(django_db_blocker, RETURNED_PARENT, widen=True))
    surveyor = page_in("en")
    login(surveyor, "surveyor", next_url="/plans/")
    created = _api(surveyor, f"{web}/api/plans/", multipart={
        "file": {"name": "version-1.geojson", "mimeType": "application/geo+json",
                 "buffer": _plan_geojson(django_db_blocker, RETURNED_PARENT)},
        "municipality": "RUH", "parents": RETURNED_PARENT, "title": "Plan to return"})
    plan_id = created["id"]
    _api(surveyor, f"{web}/api/plans/{plan_id}/submit/", data={})

    planner = page_in("en")
    login(planner, "planner", next_url=f"/plans/{plan_id}")
    _wait_for_map(planner)
    assert planner.locator("#resubmit-file-field").is_hidden()  # only the surveyor resubmits
    planner.click("#action-buttons button[data-action=assign]")
    planner.locator("[data-testid=plan-status]", has_text="Under review").wait_for()
    planner.fill("#action-comment", "Widen lot 1 by 2 m")
    planner.click("#action-buttons button[data-action=return]")
    planner.locator("[data-testid=plan-status]", has_text="Returned").wait_for()

    surveyor.goto(f"{web}/plans/{plan_id}")
    _wait_for_map(surveyor)
    assert surveyor.locator("#resubmit-file-field").is_visible()
    # A resubmission needs its file: the page says so.
    surveyor.click("#action-buttons button[data-action=resubmit]")
    assert surveyor.locator("#plan-error").is_visible()
    surveyor.set_input_files("#resubmit-file", str(version_2))
    surveyor.fill("#action-comment", "Lot 1 widened")
    surveyor.click("#action-buttons button[data-action=resubmit]")
    surveyor.locator("[data-testid=plan-status]", has_text="Resubmitted").wait_for(timeout=60_000)
    assert_no_console_errors(surveyor)

    for lang in ("en", "ar"):
        page = planner if lang == "en" else page_in("ar")
        if lang == "ar":
            login(page, "planner", next_url=f"/plans/{plan_id}")
        else:
            page.reload()
        _wait_for_map(page)
        page.click("#versions button[data-diff='2']")
        page.locator("#diff:not([hidden])").wait_for()
        reshaped = page.locator("[data-testid=diff-reshaped]").inner_text()
        assert "1" in reshaped and "2" in reshaped, reshaped
        assert page.locator("#versions button[data-diff='2']").get_attribute("aria-expanded") == "true"
        changes = _rendered_after_zoom(page, "diff-fill")
        assert {f["change"] for f in changes} == {"changed"}, changes
        assert {f["lot_no"] for f in changes} >= {"1", "2"}, changes
        history = page.locator("#history li[data-action=return]").inner_text()
        assert "Widen lot 1 by 2 m" in history
        shot(page, f"plans-detail-diff-{lang}")
        assert_no_console_errors(page)


def test_every_page_in_both_languages(web, page_in, login, plans_state):
    plan_id = plans_state.get("plan_id")
    for lang in ("en", "ar"):
        surveyor = page_in(lang)
        login(surveyor, "surveyor", next_url="/plans/")
        surveyor.locator("#queue tbody tr[data-plan]").first.wait_for()
        assert surveyor.locator("html").get_attribute("dir") == ("rtl" if lang == "ar" else "ltr")
        shot(surveyor, f"plans-queue-{lang}")
        if lang == "en" and plan_id is not None:
            # The filters map to the API's parameters: the approved plan is listed under "Approved" only.
            surveyor.select_option("#filter-status", "approved")
            with surveyor.expect_navigation():
                surveyor.click(".filters button[type=submit]")
            assert "status=approved" in surveyor.url
            surveyor.locator(f"#queue tbody tr[data-plan='{plan_id}']").wait_for()
            assert surveyor.locator(f"#queue tbody tr[data-plan='{plan_id}'] .status").inner_text() == "Approved"
            surveyor.goto(f"{web}/plans/?status=draft&overdue=true")
            surveyor.locator("#queue tbody td.hint").wait_for()
            assert surveyor.locator("#filter-overdue").is_checked()
            assert surveyor.locator("#queue tbody tr[data-plan]").count() == 0
        surveyor.goto(f"{web}/plans/new")
        _wait_for_map(surveyor)
        shot(surveyor, f"plans-new-{lang}")
        assert_no_console_errors(surveyor)

        planner = page_in(lang)
        login(planner, "planner", next_url="/dashboard")
        planner.locator("#dashboard:not([hidden])").wait_for()
        assert planner.locator("#chart-days svg, #chart-days p").count() == 1 and planner.locator("#chart-backlog svg").count() == 1
        # The charts' tables (for screen readers) carry the API's figures.
        stats = planner.request.get(f"{web}/api/stats/plans/?municipality=RUH").json()
        backlog = dict(zip(planner.locator("#table-backlog tbody th").all_inner_texts(),
                           planner.locator("#table-backlog tbody td").all_inner_texts()))
        assert len(backlog) == 5, backlog
        label = "Resubmitted" if lang == "en" else "أعيد تقديمه"
        assert backlog[label] == str(stats["counts_by_status"]["resubmitted"]), backlog
        assert planner.locator("#headline").inner_text().count(str(stats["plans_total"])) >= 1
        shot(planner, f"dashboard-{lang}")
        if plan_id is not None:
            planner.goto(f"{web}/plans/{plan_id}")
            _wait_for_map(planner)
            planner.locator("#history li").first.wait_for()
            shot(planner, f"plans-detail-{lang}")
        assert_no_console_errors(planner)
