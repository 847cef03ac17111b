"""Sign-ins and devices: API logins, browser sessions and connected apps are listed with where
they came from, and each can be ended from the account."""
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application
from rest_framework.test import APIClient

from tests.factories import UserFactory
from tests.users.conftest import PASSWORD, login

pytestmark = pytest.mark.django_db


def test_every_kind_of_sign_in_is_listed_and_can_be_ended(make_user):
    user = make_user(username="traveller")
    api = APIClient(HTTP_USER_AGENT="PhoneApp/2.1")
    tokens = login(api, user.username).json()
    browser = Client(HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux) Firefox/130")
    assert browser.post("/signin", {"username": user.username,
                                    "password": PASSWORD}).status_code == 302
    app = Application.objects.create(
        name="Scrobbler", user=UserFactory(), client_type=Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris="https://app.example/cb")
    AccessToken.objects.create(user=user, application=app, scope="profile", token="sess-oauth",
                               expires=timezone.now() + timedelta(hours=1))

    me = APIClient()
    me.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    listed = me.get("/api/users/me/sessions").json()
    by_kind = {s["kind"]: s for s in listed}
    assert set(by_kind) == {"token", "browser", "oauth"}
    assert by_kind["token"]["client"] == "PhoneApp/2.1" and by_kind["token"]["current"] is True
    assert "Firefox" in by_kind["browser"]["client"] and by_kind["browser"]["current"] is False
    assert by_kind["oauth"]["client"] == "Scrobbler"

    # Another account cannot end them.
    other = APIClient()
    other.force_authenticate(UserFactory())
    assert other.delete(f"/api/users/me/sessions/{by_kind['browser']['id']}").status_code == 404

    assert me.delete(f"/api/users/me/sessions/{by_kind['browser']['id']}").status_code == 204
    assert browser.get("/account").status_code == 302  # signed out: back to /signin
    assert me.delete(f"/api/users/me/sessions/{by_kind['oauth']['id']}").status_code == 204
    bearer = APIClient()
    bearer.credentials(HTTP_AUTHORIZATION="Bearer sess-oauth")
    assert bearer.get("/api/users/me").status_code == 401
    assert me.delete(f"/api/users/me/sessions/{by_kind['token']['id']}").status_code == 204
    refreshed = APIClient().post("/api/auth/token/refresh", {"refresh": tokens["refresh"]},
                                 format="json")
    assert refreshed.status_code == 401
    assert me.delete("/api/users/me/sessions/token-nonsense").status_code == 404


def test_signing_out_of_the_browser_removes_it_from_the_list(make_user):
    user = make_user(username="tidy")
    browser = Client()
    browser.post("/signin", {"username": user.username, "password": PASSWORD})
    api = APIClient()
    api.force_authenticate(user)
    assert [s["kind"] for s in api.get("/api/users/me/sessions").json()] == ["browser"]
    browser.post("/signout")
    assert api.get("/api/users/me/sessions").json() == []
