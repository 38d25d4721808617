"""The parcel sketch (PDF): it opens, has the parcel code, its text is extractable with the Arabic in
logical order, and a PNG of the page is kept under var/artifacts/site-report/ for a person to look at."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from subdivision.permits.sketch import map_scale, scale_bar_m
from tests.subdivision.permits.city import build_block

ARTIFACTS = Path(__file__).resolve().parents[3] / "var" / "artifacts" / "site-report"
BIDI_CONTROLS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")
needs_poppler = pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils (pdftotext) not installed")


def pdf_text(path: Path) -> str:
    """Return the page's text as pdftotext extracts it, bidi control marks dropped."""
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True).stdout
    return BIDI_CONTROLS.sub("", out.decode("utf-8"))


def save_png(pdf: Path, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    subprocess.run(["pdftoppm", "-png", "-r", "110", "-singlefile", str(pdf), str(ARTIFACTS / name)], check=True)
    shutil.copy(pdf, ARTIFACTS / f"{name}.pdf")
    return ARTIFACTS / f"{name}.png"


@pytest.mark.parametrize("width, height, scale", [(20, 30, 250), (16, 24, 200), (100, 60, 1000), (400, 300, 2500)])
def test_the_map_scale_is_round_and_the_parcel_fits(width, height, scale):
    assert map_scale(width, height, frame_w_mm=190, frame_h_mm=146) == scale
    assert scale_bar_m(scale) * 1000 / scale <= 50


@needs_poppler
@pytest.mark.django_db
def test_the_sketch_is_one_a4_page_with_extractable_bilingual_text(api_client, planner, tmp_path):
    build_block()
    api_client.force_authenticate(planner)
    response = api_client.get("/api/parcels/RUH/82-1-3/site-report.pdf")
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"] == "application/pdf"
    assert api_client.head("/api/parcels/RUH/82-1-3/site-report.pdf").status_code == 200
    path = tmp_path / "sketch.pdf"
    path.write_bytes(response.content)
    png = save_png(path, "corner-lot")
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
    assert re.search(r"^Pages:\s+1$", info, re.MULTILINE)
    assert "595.28 x 841.89 pts (A4)" in info
    text = pdf_text(path)
    assert "82-1-3" in text
    # English and Arabic labels, the Arabic in logical (reading) order, not reversed glyph order.
    assert "Corner coordinates" in text and "Max. building coverage" in text
    for arabic in ("البلدية", "الحي", "الملقا", "فلل سكنية", "المساحة", "إحداثيات الأركان", "نسبة البناء القصوى", "طريق الملك فهد", "شارع العليا"):
        assert arabic in text, arabic
        assert arabic[::-1] not in text
    assert "الرياض" in text  # the municipality's Arabic name
    # The corner coordinates, to the millimetre, in the metric CRS.
    assert "EPSG:32638" in text and "2745030.000" in text and "670040.000" in text
    assert png.stat().st_size > 20_000


@needs_poppler
@pytest.mark.django_db
def test_a_missing_font_is_a_clear_error(api_client, planner, monkeypatch):
    build_block()
    api_client.force_authenticate(planner)
    monkeypatch.setenv("GISPORTAL_ARABIC_FONT", "/nonexistent/Amiri.ttf")
    response = api_client.get("/api/parcels/RUH/82-1-1/site-report.pdf")
    assert response.status_code == 500
    assert response.json()["code"] == "ServerError"
    assert "GISPORTAL_ARABIC_FONT='/nonexistent/Amiri.ttf' names no font file" in response.json()["detail"]


@needs_poppler
@pytest.mark.slow
@pytest.mark.django_db
def test_the_sketch_of_a_demo_city_parcel(api_client, planner, tmp_path):
    from parcels.demo import load_demo_city
    from parcels.models import Parcel

    load_demo_city()
    api_client.force_authenticate(planner)
    report = api_client.get("/api/parcels/RUH/82-1-1/site-report/").json()
    assert report["frontages"] and report["frontages"][0]["street_name_ar"]
    response = api_client.get("/api/parcels/RUH/82-1-1/site-report.pdf", HTTP_ACCEPT="application/pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    path = tmp_path / "demo.pdf"
    path.write_bytes(response.content)
    save_png(path, "demo-82-1-1")
    text = pdf_text(path)
    assert "82-1-1" in text and "الرياض" in text and "تجريبي" in text
    assert report["frontages"][0]["street_name_ar"] in text
    for neighbour in report["neighbours"]:
        assert neighbour in text
    assert Parcel.objects.filter(municipality__code="RUH").count() > 2000


@needs_poppler
@pytest.mark.django_db
def test_a_parcel_with_many_corners_still_fits_one_page(api_client, planner, tmp_path):
    import shapely

    from tests.parcels.factories import RIYADH_ORIGIN, make_parcel

    municipality = build_block()
    x0, y0 = RIYADH_ORIGIN
    many = shapely.Point(x0 + 200, y0 + 200).buffer(25, quad_segs=16)  # 64 corners
    make_parcel(municipality, "77-1-1", many, plan_no="77", block_no="1", parcel_no="1")
    api_client.force_authenticate(planner)
    report = api_client.get("/api/parcels/RUH/77-1-1/site-report/").json()
    assert len(report["corners"]) == 64 and report["frontages"] == [] and report["neighbours"] == []
    response = api_client.get("/api/parcels/RUH/77-1-1/site-report.pdf")
    assert response.status_code == 200
    path = tmp_path / "round.pdf"
    path.write_bytes(response.content)
    save_png(path, "many-corners")
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
    assert re.search(r"^Pages:\s+1$", info, re.MULTILINE)
    text = pdf_text(path)
    assert "more corners in the JSON site report" in text
    assert "none: the parcel fronts no street" in text
