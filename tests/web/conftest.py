"""Browser tests of the web pages: Playwright for Python driving Debian's chromium against a live server.

The demo city is loaded once per test module (about 2,000 parcels: loading it for every test would
take most of the run), committed, and flushed when the module ends, as a transactional test would.
pytest-django's own ``live_server`` fixture flushes the database after every test, so the server
here is its LiveServer helper started per module instead.

Helpers for tests:
- ``web``: the server's base URL (demo city, demo accounts and the demo workflow loaded).
- ``page_in(lang)``: a new page in its own browser context with the language cookie set ("en"/"ar");
  console errors and uncaught page errors are collected into ``page.console_errors``.
- ``login(page, username)`` (a fixture): log in through the log-in page with the demo password.
- ``shot(page, name)`` and ``assert_no_console_errors(page)``: import them from tests.web.conftest.
- ``shot(page, name)``: save a full-page screenshot to var/artifacts/web/<name>.png.
- ``assert_no_console_errors(page)``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from unittest.mock import patch

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "var" / "artifacts" / "web"
CHROMIUM = os.environ.get("GISPORTAL_CHROMIUM", "/usr/bin/chromium")
DEMO_PASSWORD = "demo-password"


@pytest.fixture(scope="session")
def browser():
    """Return a headless chromium (Debian's: Playwright's own download cannot be reached)."""
    playwright_sync = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')")
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.skip(f"chromium not found at {CHROMIUM} (apt-get install chromium)")
    # Playwright's sync API runs an asyncio loop in this thread; Django's ORM, used by the fixtures
    # between browser calls, refuses to run where a loop is running unless told it is fine.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    # WebGL for MapLibre without a GPU: chromium's software renderer.
    args += ["--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--ignore-gpu-blocklist"]
    manager = playwright_sync.sync_playwright().start()
    browser = manager.chromium.launch(executable_path=CHROMIUM, headless=True, args=args)
    try:
        yield browser
    finally:
        browser.close()
        manager.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="module")
def web(browser, django_db_setup, django_db_blocker, tmp_path_factory):
    """Return the base URL of a live server over the test database with the demo city loaded."""
    from django.core.management import call_command
    from django.test import override_settings
    from pytest_django.live_server_helper import LiveServer

    from gisportal.accounts.services import demo_accounts_ensure
    from parcels.demo import load_demo_city
    from subdivision.demo import demo_workflow_ensure

    fast_hashing = override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
    fast_hashing.enable()
    # The generated GeoPackage goes to a folder of this run's own: var/demo/ is shared with the dev
    # server's `make` and with other test runs writing the same file at the same time.
    demo_path = tmp_path_factory.mktemp("demo") / "demo_city.gpkg"
    with django_db_blocker.unblock():
        try:
            with patch("parcels.demo.demo_city_path", return_value=demo_path):
                load_demo_city()
            demo_accounts_ensure()
            demo_workflow_ensure()
            server = LiveServer("127.0.0.1")
            server._live_server_modified_settings.enable()
            try:
                yield server.url
            finally:
                server._live_server_modified_settings.disable()
                server.stop()
        finally:
            call_command("flush", interactive=False, verbosity=0)
            fast_hashing.disable()


def _collect_console(page) -> None:
    page.console_errors = []
    page.on("console", lambda msg: msg.type == "error" and page.console_errors.append(
        f"{msg.text} ({msg.location.get('url', '')})"))
    page.on("pageerror", lambda exc: page.console_errors.append(f"uncaught: {exc}"))


@pytest.fixture
def page_in(browser, web):
    """Return a factory: page_in("ar") opens a page whose Django language cookie is "ar"."""
    contexts = []

    def open_page(lang: str = "en", *, width: int = 1280, height: int = 800):
        context = browser.new_context(viewport={"width": width, "height": height},
                                      locale="ar-SA" if lang == "ar" else "en-US")
        context.add_cookies([{"name": "django_language", "value": lang, "url": web}])
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        _collect_console(page)
        return page

    yield open_page
    for context in contexts:
        context.close()


def log_in(page, web_url: str, username: str, password: str = DEMO_PASSWORD, *, next_url: str = "/") -> None:
    """Log USERNAME in through the log-in page; land on NEXT_URL."""
    page.goto(f"{web_url}/login/?next={next_url}")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.click("#login-form button[type=submit]")
    assert "/login/" not in page.url, f"log-in as {username} failed: still on {page.url}"


@pytest.fixture
def login(web):
    """Return login(page, username, next_url="/"): log in on the live server through the log-in page."""
    def do_login(page, username: str, *, next_url: str = "/", password: str = DEMO_PASSWORD) -> None:
        log_in(page, web, username, password, next_url=next_url)
    return do_login


def shot(page, name: str) -> Path:
    """Save a full-page screenshot as var/artifacts/web/NAME.png; return its path."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def assert_no_console_errors(page) -> None:
    assert page.console_errors == [], "console errors:\n" + "\n".join(page.console_errors)
