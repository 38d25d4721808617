"""GISPORTAL_DXF_LAYERS takes the kinds the upload form's dxf_layers and the DXF reader take (gisportal.plan_kinds)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from gisportal.plan_kinds import DXF_LAYER_KINDS, dxf_layers_setting
from tests.support import ROOT

EVERY_KIND = "lot, road, open_space, utility, building or block"


def test_building_and_block_layers_are_accepted():
    text = json.dumps({"FOOTPRINTS": "building", "QUADRAS": "block", "PARCELS": "lot"})
    assert dxf_layers_setting(text) == {"FOOTPRINTS": "building", "QUADRAS": "block", "PARCELS": "lot"}


@pytest.mark.parametrize("text", [None, "", "{}"])
def test_no_setting_is_no_mapping(text):
    assert dxf_layers_setting(text) == {}


@pytest.mark.parametrize("text", ['{"A": "house"}', '{"A": "lot", "B": "Building"}', '{"": "lot"}', '["lot"]',
                                  '{"A": ["lot"]}'])
def test_other_kinds_are_refused_with_every_kind_named(text):
    with pytest.raises(ValueError) as info:
        dxf_layers_setting(text)
    assert str(info.value) == f"GISPORTAL_DXF_LAYERS must map DXF layer names to {EVERY_KIND}"


def test_malformed_json_is_refused():
    with pytest.raises(ValueError, match="GISPORTAL_DXF_LAYERS must be a JSON object"):
        dxf_layers_setting("{PARCELS: lot}")


def test_the_form_the_reader_and_the_setting_take_the_same_kinds():
    from subdivision.plan_files import dxf, readers
    from subdivision.serializers import PlanUploadSerializer

    assert dxf.DXF_LAYER_KINDS is DXF_LAYER_KINDS
    assert set(PlanUploadSerializer.DXF_KINDS) == set(DXF_LAYER_KINDS)
    assert {*readers.KINDS, dxf.BLOCK_KIND} == set(DXF_LAYER_KINDS)


def _start_django(layers: str) -> subprocess.CompletedProcess:
    code = "import django; django.setup(); from django.conf import settings; print(settings.PLAN_DXF_LAYERS)"
    env = {**os.environ, "SECRET_KEY": "k", "GISPORTAL_DXF_LAYERS": layers,
           "DJANGO_SETTINGS_MODULE": "gisportal.settings"}
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60, check=False)


@pytest.mark.slow  # starts Python with Django twice
def test_settings_start_with_a_building_layer_and_refuse_an_unknown_kind():
    started = _start_django('{"FOOTPRINTS": "building"}')
    assert started.returncode == 0, started.stderr
    assert started.stdout.strip() == "{'FOOTPRINTS': 'building'}"
    refused = _start_django('{"FOOTPRINTS": "house"}')
    assert refused.returncode != 0
    assert f"ImproperlyConfigured: GISPORTAL_DXF_LAYERS must map DXF layer names to {EVERY_KIND}" in refused.stderr
