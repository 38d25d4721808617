"""Requests from outside the happy path: NUL bytes, unknown URLs, crashes, HEAD, headers, bad tokens."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from gisportal.accounts.services import demo_accounts_ensure

pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    """Django's test client answering with the 500 page instead of re-raising the exception."""
    return Client(raise_request_exception=False)


@pytest.fixture
def admin_user(db):
    demo_accounts_ensure()
    return get_user_model().objects.get(username="admin")


def assert_error(response, status: int, code: str, detail_start: str = ""):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code, body
    assert body["detail"].startswith(detail_start), body


# ---- NUL bytes in forms and on non-API pages ---------------------------------------------------

def test_nul_byte_in_a_urlencoded_form_field_is_a_400_naming_it(client, admin_user):
    response = client.post("/admin/login/", {"username": "admin\x00", "password": "x"})
    assert_error(response, 400, "InvalidParameter", "username: contains a NUL byte")


def test_nul_byte_in_an_admin_search_is_a_400_naming_it(client, admin_user):
    client.force_login(admin_user)
    response = client.get("/admin/auth/user/", {"q": "adm\x00in"})
    assert_error(response, 400, "InvalidParameter", "q: contains a NUL byte")


def test_nul_byte_in_a_parameter_name_is_refused(client, planner):
    client.force_login(planner)
    assert_error(client.get("/api/parcels/?mun%00icipality=RUH"), 400, "InvalidParameter", "'mun\\x00icipality':")


def test_malformed_multipart_body_is_a_json_400(client, surveyor):
    client.force_login(surveyor)
    response = client.post("/api/plans/", b"--x\r\nbroken", content_type="multipart/form-data; boundary=\x01")
    assert_error(response, 400, "BadRequest")


# ---- every error under /api/ and /healthz is JSON {code, detail} ----------------------------

def test_unknown_api_url_is_a_json_404(client):
    assert_error(client.get("/api/nope/"), 404, "NotFound", "/api/nope/:")
    assert_error(client.get("/api/parcels/RUH/"), 404, "NotFound")


def test_unknown_page_elsewhere_keeps_djangos_html_404(client):
    response = client.get("/nope/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_unhandled_exception_in_an_api_view_is_a_json_500(client, planner, monkeypatch):
    from parcels import selectors

    def crash(query):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(selectors, "parcels_matching", crash)
    client.force_login(planner)
    response = client.get("/api/parcels/")
    assert_error(response, 500, "ServerError")
    assert b"secret internals" not in response.content


def test_healthz_refuses_other_methods_in_json(client):
    response = client.post("/healthz")
    assert_error(response, 405, "MethodNotAllowed", "POST:")
    assert response["Allow"] == "GET, HEAD"


# ---- HEAD wherever GET ----------------------------------------------------------------------

@pytest.mark.parametrize("url", ["/healthz", "/api/schema/", "/api/me/", "/api/parcels/", "/api/plans/"])
def test_head_answers_like_get_with_an_empty_body(client, planner, url):
    client.force_login(planner)
    get = client.get(url)
    head = client.head(url)
    assert get.status_code == 200, get.content
    assert head.status_code == 200, head.content
    assert head.content == b""
    assert head["Content-Type"] == get["Content-Type"]


# ---- Cache-Control and Content-Security-Policy ------------------------------------------------

@pytest.mark.parametrize("url", ["/api/parcels/", "/api/me/", "/api/schema/", "/api/nope/", "/healthz"])
def test_api_answers_are_not_stored(client, planner, url):
    client.force_login(planner)
    assert "no-store" in client.get(url)["Cache-Control"]


def test_api_answers_carry_no_store_even_for_errors(client):
    response = client.get("/api/parcels/")  # anonymous
    assert_error(response, 401, "NotAuthenticated")
    assert response["Cache-Control"] == "no-store"


def _csp(response) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in response["Content-Security-Policy"].split(";")}


@pytest.mark.parametrize("url", ["/admin/login/", "/api/docs/", "/api/redoc/"])
def test_html_pages_have_a_self_only_content_security_policy(client, url):
    response = client.get(url)
    assert response.status_code == 200
    csp = _csp(response)
    assert csp["default-src"] == ["'self'"] and csp["script-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"] and csp["frame-ancestors"] == ["'none'"]


def test_json_answers_have_no_content_security_policy(client):
    assert "Content-Security-Policy" not in client.get("/healthz")


@pytest.mark.parametrize("url", ["/api/docs/", "/api/redoc/"])
def test_api_docs_run_under_the_policy(client, url):
    """No inline script (script-src 'self' would block it), and nothing loaded from another host."""
    page = client.get(url).content.decode()
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, flags=re.S)
    assert scripts
    assert all("src=" in attributes and not body.strip() for attributes, body in scripts), scripts
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page), "loads from another host"
    for src in re.findall(r'src="([^"]+)"', page):
        script = client.get(src.replace("&amp;", "&"))
        assert script.status_code == 200, src
        content = b"".join(script.streaming_content) if script.streaming else script.content
        assert content.strip()


def test_swagger_start_up_script_is_served_as_a_file(client):
    response = client.get("/api/docs/?script=")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert b'SwaggerUIBundle({' in response.content and b'url: "/api/schema/"' in response.content


def test_admin_map_pages_may_load_the_openlayers_widget(client, admin_user):
    from tests.parcels.factories import riyadh

    municipality = riyadh()
    client.force_login(admin_user)
    response = client.get(f"/admin/parcels/municipality/{municipality.pk}/change/")
    assert response.status_code == 200
    csp = _csp(response)
    assert "https://cdn.jsdelivr.net" in csp["script-src"] and "https://tile.openstreetmap.org" in csp["img-src"]
    # Other admin pages keep the strict policy.
    assert _csp(client.get("/admin/auth/user/"))["script-src"] == ["'self'"]


# ---- tokens on public and protected endpoints --------------------------------------------------

@pytest.mark.parametrize("url", ["/api/schema/", "/api/docs/", "/api/redoc/"])
def test_invalid_token_is_ignored_on_public_endpoints(client, url):
    assert client.get(url, HTTP_AUTHORIZATION="Token bogus").status_code == 200
    assert client.get(url, HTTP_AUTHORIZATION="Token").status_code == 200


@pytest.mark.parametrize("url", ["/api/me/", "/api/parcels/", "/api/plans/"])
def test_invalid_token_is_still_a_401_on_protected_endpoints(client, url):
    response = client.get(url, HTTP_AUTHORIZATION="Token bogus")
    assert response.status_code == 401
    assert "token" in response.json()["detail"].lower()
