"""The default MapLibre style: valid against @maplibre/maplibre-gl-style-spec, labels in Arabic and English."""

import json
import subprocess
from pathlib import Path

import pytest
from django.test import Client

from layers.tiles import style

VALIDATOR = (Path(__file__).resolve().parents[2] / "layers" / "tiles" / "style_spec" / "node_modules" / ".bin"
             / "gl-style-validate")
pytestmark = pytest.mark.usefixtures("redis_cache")


def _style(lang=""):
    response = Client().get("/styles/default.json", {"lang": lang} if lang else {})
    assert response.status_code == 200 and response["Cache-Control"].startswith("public")
    return response.json()


@pytest.mark.parametrize("lang", ["", "ar", "en"])
def test_style_is_valid_for_maplibre(lang, tmp_path):
    if not VALIDATOR.exists():
        pytest.skip("the validator is not installed: run `make style-spec` (npm ci in layers/tiles/style_spec)")
    path = tmp_path / "style.json"
    path.write_text(json.dumps(_style(lang), ensure_ascii=False))
    result = subprocess.run([str(VALIDATOR), str(path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_validator_is_real_and_refuses_a_broken_style(tmp_path):
    if not VALIDATOR.exists():
        pytest.skip("the validator is not installed: run `make style-spec`")
    broken = _style()
    broken["layers"][1]["source-layer"] = 5
    broken["layers"].append({"id": "x", "type": "fill", "source": "nowhere"})
    path = tmp_path / "style.json"
    path.write_text(json.dumps(broken))
    result = subprocess.run([str(VALIDATOR), str(path)], capture_output=True, text=True, check=False)
    assert result.returncode == 1 and 'source "nowhere" not found' in result.stdout


def test_style_reads_only_this_server_and_labels_in_both_languages():
    doc = _style()
    assert doc["sources"] == {"gisportal": {"type": "vector", "url": "http://testserver/tiles/public.json"}}
    assert doc["glyphs"] == "http://testserver/fonts/{fontstack}/{range}.pbf"
    source_layers = {layer.get("source-layer") for layer in doc["layers"]}
    assert {"districts", "blocks", "streets", "parcels", "zoning"} <= source_layers
    streets = next(layer for layer in doc["layers"] if layer["id"] == "streets-label")
    assert streets["layout"]["text-field"] == style.label("")
    assert "name_ar" in json.dumps(streets["layout"]["text-field"]) and "name_en" in json.dumps(
        streets["layout"]["text-field"])
    arabic = next(layer for layer in _style("ar")["layers"] if layer["id"] == "streets-label")
    assert arabic["layout"]["text-field"][2] == ["coalesce", ["get", "name_ar"], ""]  # Arabic first
    english = next(layer for layer in _style("en")["layers"] if layer["id"] == "streets-label")
    assert english["layout"]["text-field"][2] == ["coalesce", ["get", "name_en"], ""]


def test_unknown_language_is_a_json_400():
    response = Client().get("/styles/default.json", {"lang": "fr"})
    assert response.status_code == 400 and response.json()["code"] == "InvalidParameter"
    assert response.json()["detail"].startswith("lang:")
