"""The city map in a real browser: tiles rendered in both languages, search, the parcel panel, keyboard."""

from __future__ import annotations

import pytest

from tests.web.conftest import assert_no_console_errors, shot

READY = "() => document.getElementById('map').dataset.ready === '1' && window.gisportalMap.loaded()"


def open_map(page, web, *, path="/"):
    page.goto(f"{web}{path}")
    page.wait_for_function(READY, timeout=30_000)
    return page


def rendered(page, layer: str) -> list[dict]:
    return page.evaluate(
        "(layer) => window.gisportalMap.queryRenderedFeatures({layers: [layer]}).map(f => f.properties)", layer)


def wait_for_features(page, layer: str):
    """Wait until LAYER has features drawn (tiles arrive after the camera moves)."""
    page.wait_for_function(
        "(layer) => window.gisportalMap.queryRenderedFeatures({layers: [layer]}).length > 0", arg=layer,
        timeout=20_000)


def wait_idle(page):
    page.evaluate("() => new Promise(done => { const m = window.gisportalMap;"
                  " if (m.loaded() && !m.isMoving()) { m.once('idle', done); m.triggerRepaint(); } else m.once('idle', done); })")


ARABIC_RANGES = {"1536-1791", "64512-64767", "64768-65023", "65024-65279"}


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "ar"])
def test_map_renders_parcels_in_both_languages(page_in, web, lang):
    page = page_in(lang)
    glyph_ranges = []
    page.on("request", lambda request: "/fonts/" in request.url and glyph_ranges.append(
        request.url.rsplit("/", 1)[1].removesuffix(".pbf")))
    open_map(page, web)
    html = page.locator("html")
    assert html.get_attribute("lang") == lang
    assert html.get_attribute("dir") == ("rtl" if lang == "ar" else "ltr")
    # Close enough for street labels (minzoom 13) and parcels (13) with room for labels.
    page.evaluate("() => window.gisportalMap.jumpTo({zoom: 15.5})")
    wait_for_features(page, "streets-label")
    wait_for_features(page, "parcels-fill")
    wait_idle(page)
    parcels = rendered(page, "parcels-fill")
    assert len(parcels) > 0
    assert all(p["municipality"] == "RUH" for p in parcels)
    streets = rendered(page, "streets-label")
    assert streets and all(s["name_ar"] and s["name_en"] for s in streets)
    # The label is the chosen language's name (the other only where a street has none).
    field = page.evaluate("() => window.gisportalMap.getLayoutProperty('streets-label', 'text-field')")
    assert field[0] == "case" and field[2] == ["coalesce", ["get", f"name_{lang}"], ""], field
    # The glyphs fetched say which script was drawn: Arabic letters (shaped into presentation forms
    # by the RTL plugin) only on the Arabic map, and every glyph came from this server.
    assert "0-255" in glyph_ranges
    if lang == "ar":
        assert ARABIC_RANGES & set(glyph_ranges), glyph_ranges
        status = page.evaluate("() => import(JSON.parse(document.getElementById('map-config').textContent).maplibre)"
                               ".then(m => m.getRTLTextPluginStatus())")
        assert status == "loaded"
    else:
        assert not ARABIC_RANGES & set(glyph_ranges), glyph_ranges
    shot(page, f"map-{lang}")
    assert_no_console_errors(page)


@pytest.mark.slow
def test_search_finds_a_parcel_and_flies_there(page_in, web):
    page = open_map(page_in("en"), web)
    before = page.evaluate("() => window.gisportalMap.getZoom()")
    page.fill("#search-input", "82-1-1")
    page.press("#search-input", "Enter")
    page.locator("#search-results button[data-kind=parcel]").first.wait_for()
    page.wait_for_function("() => !window.gisportalMap.isMoving() && window.gisportalMap.getZoom() > 16", timeout=15_000)
    assert page.evaluate("() => window.gisportalMap.getZoom()") > before
    # The panel is that parcel's; the parcel is drawn under the map's centre.
    assert page.locator("#parcel-title").inner_text().endswith("82-1-1")
    wait_idle(page)
    centre = page.evaluate("() => { const m = window.gisportalMap; const c = m.project(m.getCenter());"
                           " return m.queryRenderedFeatures(c, {layers: ['parcels-fill']}).map(f => f.properties.parcel_code); }")
    assert "82-1-1" in centre
    assert_no_console_errors(page)


@pytest.mark.slow
def test_search_finds_streets_by_arabic_name(page_in, web):
    from parcels.models import Street

    street = Street.objects.exclude(name_ar="").order_by("pk").first()
    page = open_map(page_in("ar"), web)
    page.fill("#search-input", street.name_ar)
    page.press("#search-input", "Enter")
    hit = page.locator("#search-results button[data-kind=street]").first
    hit.wait_for()
    assert street.name_ar in hit.inner_text()
    assert_no_console_errors(page)


@pytest.mark.slow
def test_click_on_a_parcel_opens_its_panel(page_in, web, login):
    page = page_in("en")
    login(page, "planner")
    open_map(page, web)
    page.evaluate("() => window.gisportalMap.jumpTo({zoom: 16.5})")
    wait_for_features(page, "parcels-fill")
    wait_idle(page)
    code, point = page.evaluate("""() => {
        const m = window.gisportalMap;
        const f = m.queryRenderedFeatures({layers: ['parcels-fill']})[0];
        const ring = f.geometry.type === 'MultiPolygon' ? f.geometry.coordinates[0][0] : f.geometry.coordinates[0];
        const n = ring.length - 1;
        const c = ring.slice(0, n).reduce((a, p) => [a[0] + p[0] / n, a[1] + p[1] / n], [0, 0]);
        const p = m.project(c);
        return [f.properties.parcel_code, [p.x, p.y]];
    }""")
    box = page.locator("#map").bounding_box()
    page.mouse.click(box["x"] + point[0], box["y"] + point[1])
    page.locator("#parcel-panel").wait_for(state="visible")
    assert page.locator("#parcel-title").inner_text().endswith(code)
    # Signed in: the measurements from the parcels API and the site-report link.
    page.locator("#site-report-link").wait_for()
    assert page.locator("#site-report-link").get_attribute("href").endswith(f"/{code}/site-report.pdf")
    assert "m²" in page.locator("#parcel-body").inner_text()
    shot(page, "map-parcel-panel-en")
    assert_no_console_errors(page)


@pytest.mark.slow
def test_keyboard_reaches_search_and_language_switch(page_in, web):
    page = open_map(page_in("en"), web)
    reached = set()
    for _ in range(40):
        page.keyboard.press("Tab")
        focused = page.evaluate("() => document.activeElement.id || document.activeElement.dataset.testid || ''")
        reached.add(focused)
        if {"search-input", "language-ar"} <= reached:
            break
    assert "search-input" in reached
    assert "language-ar" in reached
    # The switch works from the keyboard and is remembered: the next page is Arabic.
    page.focus("[data-testid=language-ar]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("html").get_attribute("dir") == "rtl"
    page.goto(f"{web}/login/")
    assert page.locator("html").get_attribute("lang") == "ar"


# ---- without a browser ----------------------------------------------------------------------
@pytest.mark.slow
def test_search_shows_plans_only_to_those_who_may_see_them(web):
    """Anonymous callers find parcels and streets; a plan's number only its planners and office find."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from parcels.models import Parcel
    from subdivision.models import Plan

    parent = Parcel.objects.get(parcel_code="90-0-1")
    surveyor = get_user_model().objects.get(username="surveyor")
    plan = Plan.objects.create(municipality=parent.municipality, title="Search me", plan_number="RUH-2026-0042",
                               office=surveyor.office_membership.office,
                               submitted_by=surveyor, source_name="plan.geojson",
                               source_format="geojson", source_srid=4326)
    plan.parents.add(parent)
    try:
        anonymous = Client().get("/web/search/", {"q": "RUH-2026-0042"}).json()["results"]
        assert [hit for hit in anonymous if hit["kind"] == "plan"] == []
        parcels = Client().get("/web/search/", {"q": "82-1-1"}).json()["results"]
        assert parcels[0] == {**parcels[0], "kind": "parcel", "code": "82-1-1", "municipality": "RUH"}
        minlon, minlat, maxlon, maxlat = parcels[0]["bbox"]
        assert -180 <= minlon < maxlon <= 180 and -90 <= minlat < maxlat <= 90
        planner = Client()
        planner.force_login(get_user_model().objects.get(username="planner"))
        hits = planner.get("/web/search/", {"q": "RUH-2026-0042"}).json()["results"]
        assert [(hit["kind"], hit["id"]) for hit in hits] == [("plan", plan.pk)]
        partner = Client()
        partner.force_login(get_user_model().objects.get(username="partner"))
        assert partner.get("/web/search/", {"q": "RUH-2026-0042"}).json()["results"] == []
    finally:
        plan.delete()


def _decode(buffer: bytes):
    """Yield (field number, value) of a protobuf message: varints as ints, length-delimited as bytes."""
    i = 0
    while i < len(buffer):
        key, i = _varint(buffer, i)
        if key & 7 == 0:
            value, i = _varint(buffer, i)
        elif key & 7 == 2:
            size, i = _varint(buffer, i)
            value, i = buffer[i:i + size], i + size
        else:
            raise AssertionError(f"wire type {key & 7}")
        yield key >> 3, value


def _varint(buffer: bytes, i: int) -> tuple[int, int]:
    shift = value = 0
    while True:
        byte = buffer[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, i


@pytest.fixture(scope="module")
def glyphs_built():
    from gisportal.web import glyphs

    if not (glyphs.GLYPHS_DIR / "Noto Sans Regular" / "0-255.pbf").exists():
        if not (glyphs.FONT_DIR / "NotoSans-Regular.ttf").exists():
            pytest.skip("fonts-noto-core is not installed")
        glyphs.build()
    return glyphs.GLYPHS_DIR


@pytest.mark.parametrize(("glyph_range", "letters"), [
    ("0-255", "Street 7"), ("1536-1791", "شارع"), ("65024-65279", "\ufe8d\ufedf\ufee3"),
    ("64256-64511", "\ufb50"),
])
def test_glyph_ranges_an_arabic_label_needs_are_served(client, glyphs_built, glyph_range, letters):
    response = client.get(f"/fonts/Noto Sans Regular/{glyph_range}.pbf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-protobuf"
    [(field, stack)] = list(_decode(b"".join(response.streaming_content)))
    assert field == 1
    fields = list(_decode(stack))
    assert (1, b"Noto Sans Regular") in fields and (2, glyph_range.encode()) in fields
    glyphs = {dict(_decode(g))[1]: dict(_decode(g)) for n, g in fields if n == 3}
    for letter in letters.replace(" ", ""):
        glyph = glyphs[ord(letter)]
        width, height = glyph[3], glyph[4]
        assert width > 0 and height > 0 and glyph[7] > 0
        assert len(glyph[2]) == (width + 6) * (height + 6)  # the SDF with its 3 px buffer
        assert max(glyph[2]) > 191 > min(glyph[2])  # inside the outline and well outside it


@pytest.mark.parametrize("path", [
    "/fonts/Noto Sans Regular/57344-57599.pbf",  # a private-use range: no glyph, so no file
    "/fonts/Noto Sans Regular/0-254.pbf",
    "/fonts/Unknown Font/0-255.pbf",
    "/fonts/../0-255.pbf",
])
def test_glyph_ranges_that_do_not_exist_answer_404(client, glyphs_built, path):
    assert client.get(path).status_code == 404


@pytest.mark.slow
def test_date_slider_shows_the_parcels_of_a_past_date(page_in, web, login):
    page = page_in("en")
    login(page, "planner")
    open_map(page, web)
    page.evaluate("() => window.gisportalMap.jumpTo({zoom: 15.5})")
    wait_for_features(page, "parcels-fill")
    # The demo city was loaded by this test module: the day before, there were no parcels.
    slider = page.locator("#date-slider")
    slider.focus()
    page.keyboard.press("ArrowLeft")  # one day back, from the keyboard
    page.wait_for_function("() => /as of/.test(document.getElementById('date-status').textContent)")
    assert page.locator("#date-status").inner_text().startswith("0 parcels as of")
    assert page.evaluate("() => window.gisportalMap.getLayoutProperty('parcels-fill', 'visibility')") == "none"
    assert page.evaluate("() => window.gisportalMap.getLayoutProperty('past-parcels-fill', 'visibility')") == "visible"
    page.click("#date-today")
    page.wait_for_function("() => window.gisportalMap.getLayoutProperty('parcels-fill', 'visibility') === 'visible'")
    wait_for_features(page, "parcels-fill")
    assert_no_console_errors(page)


@pytest.mark.slow
def test_date_slider_needs_a_log_in(page_in, web):
    page = open_map(page_in("ar"), web)
    assert page.locator("#date-slider").is_disabled()
    assert page.locator("#date-status").inner_text() != ""
    shot(page, "map-anonymous-ar")
    assert_no_console_errors(page)


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "ar"])
def test_log_in_and_out(page_in, web, lang):
    page = page_in(lang)
    page.goto(f"{web}/login/?next=/")
    assert page.locator("html").get_attribute("dir") == ("rtl" if lang == "ar" else "ltr")
    # Every field is labelled for screen readers.
    assert page.get_by_label("User name" if lang == "en" else "اسم المستخدم").count() == 1
    assert page.get_by_label("Password" if lang == "en" else "كلمة المرور").count() == 1
    page.fill("#id_username", "surveyor")
    page.fill("#id_password", "wrong-password")
    with page.expect_navigation():
        page.click("#login-form button[type=submit]")
    assert page.locator("[role=alert]").is_visible()
    shot(page, f"login-error-{lang}")
    page.fill("#id_password", "demo-password")
    with page.expect_navigation():
        page.click("#login-form button[type=submit]")
    assert page.url.rstrip("/") == web
    assert page.locator(".user-name").inner_text() == "surveyor"
    # A surveyor's header: New plan, not the dashboard.
    nav = page.locator(".site-nav").inner_text()
    assert ("New plan" if lang == "en" else "مخطط جديد") in nav
    assert ("Dashboard" if lang == "en" else "لوحة المؤشرات") not in nav
    with page.expect_navigation():
        page.click(".logout-form button")
    shot(page, f"logged-out-{lang}")
    assert page.locator(".user-name").count() == 0
    page.goto(f"{web}/api/me/")
    assert page.locator("body").inner_text().count("NotAuthenticated") == 1
    # The 401 of /api/me/ is logged by the browser as a failed resource, which is expected here.
    page.console_errors = [e for e in page.console_errors if "401" not in e and "403" not in e]
    assert_no_console_errors(page)


@pytest.mark.slow
def test_lineage_links_fly_to_parents_and_children(page_in, web, login):
    from django.contrib.gis.geos import MultiPolygon, Polygon

    from parcels.models import Parcel
    from parcels.services import NewParcel, record_apply, record_create

    parent = Parcel.objects.select_related("municipality").get(parcel_code="90-0-2")
    minx, miny, maxx, maxy = parent.geom.extent
    halves = []
    for x0, x1 in ((minx, (minx + maxx) / 2), ((minx + maxx) / 2, maxx)):
        box = Polygon.from_bbox((x0, miny, x1, maxy))
        box.srid = parent.geom.srid
        half = parent.geom.intersection(box)
        halves.append(half if half.geom_type == "MultiPolygon" else MultiPolygon(half, srid=half.srid))
    record = record_create(municipality=parent.municipality, reference="web test split of 90-0-2")
    record_apply(record=record, retire=[parent], create=[
        NewParcel(parcel_code=f"90-0-2-{part}", geom=geom, land_use="residential")
        for part, geom in zip("AB", halves, strict=True)])

    page = page_in("en")
    login(page, "planner")
    open_map(page, web)
    page.fill("#search-input", "90-0-2-A")
    page.press("#search-input", "Enter")
    page.locator("#parcel-panel button", has_text="90-0-2").first.wait_for()
    assert page.locator("#parcel-title").inner_text() == "Parcel 90-0-2-A"
    # "Came from" lists the parent; its button flies there and shows the parent, which "became" A and B.
    page.wait_for_function("() => !window.gisportalMap.isMoving()")
    centre_before = page.evaluate("() => window.gisportalMap.getCenter().toArray()")
    page.get_by_role("button", name="Show 90-0-2 on the map").click()
    page.wait_for_function("() => document.getElementById('parcel-title').textContent === 'Parcel 90-0-2'")
    page.get_by_role("button", name="Show 90-0-2-B on the map").wait_for()
    page.wait_for_function("() => !window.gisportalMap.isMoving()")
    centre_after = page.evaluate("() => window.gisportalMap.getCenter().toArray()")
    assert centre_after != centre_before
    parent_centre = page.evaluate(
        "() => fetch('/api/parcels/RUH/90-0-2/').then(r => r.json()).then(f => {"
        " const xs = f.geometry.coordinates.flat(3).filter((v, i) => i % 2 === 0);"
        " const ys = f.geometry.coordinates.flat(3).filter((v, i) => i % 2 === 1);"
        " return [(Math.min(...xs) + Math.max(...xs)) / 2, (Math.min(...ys) + Math.max(...ys)) / 2]; })")
    assert abs(centre_after[0] - parent_centre[0]) < 1e-3 and abs(centre_after[1] - parent_centre[1]) < 1e-3
    shot(page, "map-lineage-en")
    assert_no_console_errors(page)
