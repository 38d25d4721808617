import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from gisportal.accounts.models import ApiToken
from gisportal.accounts.services import demo_accounts_ensure

pytestmark = pytest.mark.django_db


def _token_for(username: str, capsys) -> str:
    call_command("api_token", username)
    return capsys.readouterr().out.strip()


def test_api_token_authenticates_and_is_stored_hashed(client, capsys):
    demo_accounts_ensure()
    token = _token_for("surveyor", capsys)
    assert len(token) >= 40
    stored = ApiToken.objects.get(user__username="surveyor")
    assert token not in (stored.digest, stored.prefix)
    response = client.get("/api/me/", HTTP_AUTHORIZATION=f"Token {token}")
    assert response.status_code == 200
    assert response.json() == {"username": "surveyor", "roles": ["surveyors"]}


def test_wrong_token_and_no_token_are_refused(client):
    response = client.get("/api/me/")
    assert response.status_code == 401
    assert response.json()["code"] == "NotAuthenticated"
    response = client.get("/api/me/", HTTP_AUTHORIZATION="Token not-a-real-token")
    assert response.status_code == 401
    assert response.json()["code"] == "AuthenticationFailed"
    assert "token" in response.json()["detail"].lower()


def test_inactive_user_token_is_refused(client, capsys):
    demo_accounts_ensure()
    token = _token_for("partner", capsys)
    get_user_model().objects.filter(username="partner").update(is_active=False)
    assert client.get("/api/me/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 401


def test_api_token_for_unknown_user_fails_with_one_line():
    with pytest.raises(CommandError, match="no active user named 'nobody'"):
        call_command("api_token", "nobody")


def test_demo_accounts_log_in_with_session(client):
    demo_accounts_ensure()
    assert client.login(username="planner", password="demo-password")
    assert client.get("/api/me/").json()["roles"] == ["planners"]
