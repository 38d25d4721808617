"""Suggested corrections on the plan page, in a real browser (chromium) against a live server over PostGIS: a
surveyor's stored plan with a 0.3 m gap (drafting error) and a 3.2 m gap (too large to snap) shows the first
finding's correction and its largest vertex move, draws the corrected lot dashed when the finding is chosen, says
why the second has none, and offers the office (not the planner) to store the corrected plan as a new version.
Photographed in English and Arabic under var/artifacts/web/."""

from __future__ import annotations

import json
import re

import pytest
import shapely
import shapely.geometry

from tests.subdivision.gap_plans import (
    FAR_MISS_M,
    NEAR_MISS_M,
    PARENT,
    gap_plan_geojson,
)
from tests.web.conftest import assert_no_console_errors, shot
from tests.web.test_plans import (
    _api,
    _drop_file,
    _rendered,
    _rendered_after_zoom,
    _settled,
    _wait_for_map,
    _with_cut_corners,
)

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

SNAP_TOLERANCE_M = 0.5  # the default rule set's snap_tolerance_m
ARABIC = re.compile(r"[\u0600-\u06FF]")


def _gap_plan_geojson(django_db_blocker) -> tuple[bytes, dict[str, str]]:
    """Return the demo plan with its two gaps (tests/subdivision/gap_plans.py), its street corners cut, as
    CORNER_TRUNCATION is on by default; and which lots each gap is between."""
    with django_db_blocker.unblock():
        return gap_plan_geojson(prepare=_with_cut_corners)


@pytest.fixture(scope="module")
def gap_plan(web, browser, django_db_blocker):
    """Return {id, file, which, near, far}: a draft stored by the demo surveyor, and its two GAP findings."""
    from tests.web.conftest import log_in

    content, which = _gap_plan_geojson(django_db_blocker)
    context = browser.new_context()
    try:
        page = context.new_page()
        log_in(page, web, "surveyor", next_url="/plans/")
        created = _api(page, f"{web}/api/plans/", multipart={
            "file": {"name": "gaps.geojson", "mimeType": "application/geo+json", "buffer": content},
            "municipality": "RUH", "parents": PARENT, "title": "Plan with two gaps"})
        detail = page.request.get(f"{web}/api/plans/{created['id']}/").json()
    finally:
        context.close()
    gaps = [f for f in detail["report"]["findings"] if f["code"] == "GAP"]
    near = [f for f in gaps if f["correction"] is not None]
    far = [f for f in gaps if f["correction"] is None]
    assert len(near) == 1 and len(far) == 1, gaps
    return {"id": created["id"], "file": content, "which": which, "near": near[0], "far": far[0]}


def _gap_buttons(page):
    """Return the GAP finding with a correction and the one without, as listed on the page."""
    gaps = page.locator("#findings .finding[data-code=GAP]")
    gaps.nth(1).wait_for(timeout=30_000)
    near = gaps.filter(has=page.locator("[data-testid=correction]"))
    far = gaps.filter(has=page.locator("[data-testid=no-correction]"))
    assert near.count() == 1 and far.count() == 1, gaps.all_inner_texts()
    return near, far


def test_a_finding_shows_its_correction_and_draws_it_when_chosen(web, page_in, login, gap_plan):
    correction = gap_plan["near"]["correction"]
    # The API's correction moves the lot drawn short, by about the gap's width, never past the tolerance.
    assert gap_plan["which"]["near"][0] in {f["label"] for f in correction["features"]}, correction
    assert NEAR_MISS_M - 0.02 <= correction["max_displacement_m"] <= SNAP_TOLERANCE_M, correction
    for lang in ("en", "ar"):
        page = page_in(lang)
        login(page, "surveyor", next_url=f"/plans/{gap_plan['id']}")
        _wait_for_map(page)
        near, far = _gap_buttons(page)

        text = near.locator("[data-testid=correction]").inner_text()
        shown_m = float(re.search(r"\d+(?:\.\d+)?", text).group())
        assert shown_m == pytest.approx(correction["max_displacement_m"], abs=0.005), text
        why = far.locator("[data-testid=no-correction]").inner_text()
        assert "3.2" in why and "0.5" in why, why  # the move it would need and the tolerance
        if lang == "en":
            assert text.startswith("Correction suggested: no vertex moves more than"), text
            assert why == "No correction suggested: a vertex would move 3.2 m, over the 0.5 m tolerance.", why
        else:
            assert ARABIC.search(text) and "Correction" not in text, text
            assert ARABIC.search(why) and "vertex" not in why, why  # the API's English note, read into Arabic

        # Nothing is drawn dashed until the finding is chosen; then the corrected lot is.
        assert _rendered(page, "finding-correction-line") == []
        near.click()
        assert near.get_attribute("aria-pressed") == "true"
        drawn = _rendered_after_zoom(page, "finding-correction-line")
        assert {f["label"] for f in drawn} == {f["label"] for f in correction["features"]}, drawn
        assert {f["code"] for f in drawn} == {"GAP"}
        assert [f["code"] for f in _rendered(page, "finding-highlight-fill")][:1] == ["GAP"]
        dashed = page.evaluate("() => document.querySelector('#plan-map').mapInstance"
                               ".getPaintProperty('finding-correction-line', 'line-dasharray')")
        assert dashed, dashed
        shot(page, f"plans-detail-correction-{lang}")

        # The gap too large to snap has no correction: choosing it clears the dashed outline.
        far.click()
        assert _rendered_after_zoom(page, "finding-correction-line", until=lambda drawn: not drawn) == []
        assert [f["code"] for f in _rendered(page, "finding-highlight-fill")][:1] == ["GAP"]
        assert_no_console_errors(page)


def _lots_in_metres(content: bytes, django_db_blocker) -> dict[str, object]:
    """Return the lots of a GeoJSON plan by lot number, in the municipality's metric CRS."""
    from gisportal import crs
    from parcels.models import Municipality

    with django_db_blocker.unblock():
        metric = Municipality.objects.get(code="RUH").metric_srid
    return {f["properties"]["lot_no"]: crs.transform(shapely.geometry.shape(f["geometry"]), crs.WGS84, metric)
            for f in json.loads(content)["features"] if f["properties"].get("kind") == "lot"}


def test_the_upload_page_shows_the_correction_and_downloads_the_corrected_plan(web, page_in, login, gap_plan,
                                                                               django_db_blocker):
    (near_lot, near_neighbour), (far_lot, far_neighbour) = gap_plan["which"]["near"], gap_plan["which"]["far"]
    for lang in ("en", "ar"):
        page = page_in(lang)
        login(page, "surveyor", next_url="/plans/new")
        _wait_for_map(page)
        page.fill("#parents", PARENT)
        assert page.locator("#corrected").is_hidden()
        _drop_file(page, "#dropzone", "gaps.geojson", gap_plan["file"])
        _gap_buttons(page)
        _settled(page)  # choose the finding once the last validation is drawn, or a later answer clears the choice
        near, far = _gap_buttons(page)
        assert near.locator("[data-testid=correction]").count() == 1
        near.click()
        drawn = _rendered_after_zoom(page, "finding-correction-line",
                                     until=lambda drawn: near_lot in {f["label"] for f in drawn})
        assert near_lot in {f["label"] for f in drawn}

        # The API's ?fix=snap answer, downloaded as a file: the near gap is closed, the far one is left.
        assert page.locator("#corrected").is_visible()
        with page.expect_download(timeout=60_000) as info:
            page.click("#download-corrected")
        download = info.value
        assert download.suggested_filename == "gaps-snapped.geojson"
        lots = _lots_in_metres(download.path().read_bytes(), django_db_blocker)
        assert shapely.intersection(lots[near_lot], lots[near_neighbour]).length > 25  # they share their side now
        assert shapely.distance(lots[far_lot], lots[far_neighbour]) == pytest.approx(FAR_MISS_M, abs=0.01)
        status = page.locator("#plan-status", has_text="gaps-snapped.geojson")
        status.wait_for()
        assert ("downloaded" in status.inner_text()) if lang == "en" else ARABIC.search(status.inner_text())
        shot(page, f"plans-new-corrected-download-{lang}")
        assert_no_console_errors(page)


def test_only_the_office_may_store_the_corrected_plan(web, page_in, login, gap_plan):
    planner = page_in("en")
    login(planner, "planner", next_url=f"/plans/{gap_plan['id']}")
    _wait_for_map(planner)
    _gap_buttons(planner)
    planner.locator("#history li").first.wait_for()
    assert planner.locator("#action-buttons button[data-action=fix]").count() == 0

    for lang in ("ar", "en"):
        surveyor = page_in(lang)
        login(surveyor, "surveyor", next_url=f"/plans/{gap_plan['id']}")
        _wait_for_map(surveyor)
        _gap_buttons(surveyor)
        fix = surveyor.locator("#action-buttons button[data-action=fix]")
        assert fix.is_visible()
        label = fix.inner_text()
        assert (label == "Apply the suggested corrections as a new version") if lang == "en" else ARABIC.search(label)
        shot(surveyor, f"plans-detail-fix-action-{lang}")
    fix.click()
    surveyor.locator("#plan-status", has_text="Suggested corrections applied: version 2 stored.").wait_for(
        timeout=60_000)
    surveyor.locator("#history li[data-action=fix]").wait_for()
    assert "Corrections applied" in surveyor.locator("#history li[data-action=fix]").inner_text()
    surveyor.locator("#versions > li").nth(1).wait_for()  # the version list is reloaded after the status line
    assert surveyor.locator("#versions > li").count() == 2
    # Version 2 closed the near gap; the far one is left, with no correction.
    gaps = surveyor.locator("#findings .finding[data-code=GAP]")
    gaps.first.wait_for()
    assert gaps.count() == 1 and gaps.locator("[data-testid=no-correction]").count() == 1
    # The button stays while a finding of the new version still has a correction (here the corner truncations
    # the engine could cut), and goes once the plan leaves the statuses the API lets the office fix in.
    report = surveyor.request.get(f"{web}/api/plans/{gap_plan['id']}/").json()["report"]
    correctable = any(f.get("correction") for f in report["findings"])
    assert surveyor.locator("#action-buttons button[data-action=fix]").count() == int(correctable)
    assert surveyor.locator("#action-buttons button[data-action=submit]").count() == 1
    shot(surveyor, "plans-detail-fixed-en")
    surveyor.click("#action-buttons button[data-action=withdraw]")
    surveyor.locator("[data-testid=plan-status]", has_text="Withdrawn").wait_for(timeout=30_000)
    assert surveyor.locator("#action-buttons button[data-action=fix]").count() == 0
    assert_no_console_errors(surveyor)
    assert_no_console_errors(planner)
