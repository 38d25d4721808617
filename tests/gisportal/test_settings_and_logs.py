import json
import logging
import os
import subprocess
import sys

import pytest

from gisportal.logging import JsonFormatter
from tests.support import ROOT


def _settings_in_subprocess(**env):
    clean = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "GISPORTAL_DEBUG")}
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)"],
        cwd=ROOT, env={**clean, "DJANGO_SETTINGS_MODULE": "gisportal.settings"}, capture_output=True, text=True,
    )


@pytest.mark.slow  # starts Python with Django
def test_secret_key_is_required_when_debug_is_off():
    result = _settings_in_subprocess()
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


@pytest.mark.slow  # starts Python with Django three times
def test_debug_is_off_by_default_and_on_only_when_asked():
    assert _settings_in_subprocess(SECRET_KEY="k").stdout.strip() == "False"
    assert _settings_in_subprocess(GISPORTAL_DEBUG="1").stdout.strip() == "True"


@pytest.mark.slow  # starts Python with Django
def test_a_malformed_setting_names_itself():
    result = _settings_in_subprocess(SECRET_KEY="k", GISPORTAL_DEBUG="maybe")
    assert result.returncode != 0 and "GISPORTAL_DEBUG must be a boolean" in result.stderr


@pytest.mark.django_db
def test_one_structured_line_per_request(client, caplog):
    with caplog.at_level(logging.INFO, logger="gisportal.request"):
        client.get("/healthz?probe=1")
    records = [r for r in caplog.records if r.name == "gisportal.request"]
    assert len(records) == 1
    line = JsonFormatter().format(records[0])
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["method"] == "GET" and entry["path"] == "/healthz" and entry["status"] == 200
    assert entry["query"] == "probe=1" and entry["ms"] >= 0


@pytest.mark.django_db
def test_keys_in_the_query_never_reach_the_log(client, caplog):
    with caplog.at_level(logging.INFO, logger="gisportal.request"):
        client.get("/healthz?probe=1&key=gpk_secret-value&KEY=other&token=t0k&keys=kept")
    entry = json.loads(JsonFormatter().format(
        [r for r in caplog.records if r.name == "gisportal.request"][0]))
    assert entry["query"] == "probe=1&key=***&KEY=***&token=***&keys=kept"
    assert "secret" not in json.dumps(entry) and "t0k" not in json.dumps(entry)
