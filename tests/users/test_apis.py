import pytest
from django.contrib.auth.hashers import identify_hasher
from rest_framework.test import APIClient

from tests.users.conftest import PASSWORD, assert_envelope
from users.models import User

pytestmark = pytest.mark.django_db


def _create(client, **overrides):
    body = {"username": "olive", "email": "olive@example.com", "password": PASSWORD, **overrides}
    return client.post("/api/users", body, format="json")


def test_user_create_returns_user_without_token(api_client):
    response = _create(api_client)
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"id", "username", "email", "preferences", "createdAt"}
    assert body["username"] == "olive" and body["email"] == "olive@example.com"
    assert "access" not in body and "refresh" not in body


def test_user_create_hashes_with_argon2(api_client, settings):
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]
    assert _create(api_client).status_code == 201
    user = User.objects.get(username="olive")
    assert identify_hasher(user.password).algorithm == "argon2"
    assert user.check_password(PASSWORD)


def test_argon2_is_first_in_project_settings():
    from audotics import settings as project_settings

    assert project_settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


@pytest.mark.parametrize("username", ["ab", "x" * 51, "bad name", "semi;colon", "ünï", "a@b"])
def test_user_create_rejects_bad_usernames(api_client, username):
    error = assert_envelope(_create(api_client, username=username), 400, "validation_error")
    assert "username" in error["fields"]


@pytest.mark.parametrize("username", ["abc", "a.b_c-d", "X" * 50, "007"])
def test_user_create_accepts_good_usernames(api_client, username):
    assert _create(api_client, username=username).status_code == 201


def test_user_create_username_unique_case_insensitively(api_client):
    assert _create(api_client).status_code == 201
    error = assert_envelope(_create(api_client, username="OLIVE", email="other@example.com"), 400)
    assert "username" in error["fields"]


def test_user_create_email_unique_case_insensitively(api_client):
    assert _create(api_client).status_code == 201
    error = assert_envelope(_create(api_client, username="olive2", email="OLIVE@EXAMPLE.com"), 400)
    assert "email" in error["fields"]


@pytest.mark.parametrize("email", ["not-an-email", "a@", "@b.com", ""])
def test_user_create_rejects_bad_email(api_client, email):
    error = assert_envelope(_create(api_client, email=email), 400, "validation_error")
    assert "email" in error["fields"]


@pytest.mark.parametrize("password", ["short", "password123", "12345678901", "olive-example"])
def test_user_create_applies_password_validators(api_client, password):
    error = assert_envelope(_create(api_client, password=password), 400, "validation_error")
    assert "password" in error["fields"]


def test_user_create_rejects_unknown_and_wrongly_typed_fields(api_client):
    error = assert_envelope(_create(api_client, isStaff=True), 400)
    assert "isStaff" in error["fields"]
    error = assert_envelope(_create(api_client, username=123), 400)
    assert "username" in error["fields"]


def test_me_requires_authentication(api_client):
    assert_envelope(api_client.get("/api/users/me"), 401)
    assert_envelope(api_client.get("/api/users/me", HTTP_AUTHORIZATION="Bearer garbage"), 401)


def test_me_returns_own_user(logged_in_api_client):
    response = logged_in_api_client.get("/api/users/me")
    assert response.status_code == 200
    assert response.json()["id"] == str(logged_in_api_client.user.pk)
    assert response.json()["email"] == logged_in_api_client.user.email


def test_preferences_partial_update(logged_in_api_client):
    url = "/api/users/me/preferences"
    response = logged_in_api_client.patch(
        url, {"genres": ["rock", "jazz"], "energy": 0.4}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["preferences"] == {"genres": ["rock", "jazz"], "energy": 0.4}
    response = logged_in_api_client.patch(
        url, {"explicitContent": False, "moods": ["calm"]}, format="json"
    )
    assert response.json()["preferences"] == {
        "genres": ["rock", "jazz"],
        "energy": 0.4,
        "explicitContent": False,
        "moods": ["calm"],
    }
    user = User.objects.get(pk=logged_in_api_client.user.pk)
    assert user.preferences["explicit_content"] is False


def test_preferences_unknown_keys_named(logged_in_api_client):
    response = logged_in_api_client.patch(
        "/api/users/me/preferences", {"genres": [], "favouriteColour": "red"}, format="json"
    )
    error = assert_envelope(response, 400, "validation_error")
    assert list(error["fields"]) == ["favouriteColour"]


@pytest.mark.parametrize(
    "body",
    [
        {"energy": 1.5},
        {"energy": -0.1},
        {"energy": "0.5"},
        {"energy": True},
        {"explicitContent": "yes"},
        {"explicitContent": 1},
        {"genres": "rock"},
        {"genres": [1, 2]},
        {"moods": [None]},
        [],
        "text",
    ],
)
def test_preferences_shape_validated(logged_in_api_client, body):
    response = logged_in_api_client.patch("/api/users/me/preferences", body, format="json")
    assert_envelope(response, 400, "validation_error")


def test_preferences_reject_nan(logged_in_api_client):
    response = logged_in_api_client.patch(
        "/api/users/me/preferences", '{"energy": NaN}', content_type="application/json"
    )
    assert_envelope(response, 400)


def test_ws_ticket_single_use_and_bound_to_user(logged_in_api_client):
    from users.services import ws_ticket_redeem

    response = logged_in_api_client.post("/api/auth/ws-ticket")
    assert response.status_code == 200
    body = response.json()
    assert body["expiresIn"] == 30 and len(body["ticket"]) >= 32
    assert ws_ticket_redeem(body["ticket"]) == logged_in_api_client.user
    assert ws_ticket_redeem(body["ticket"]) is None
    assert ws_ticket_redeem("made-up") is None
    assert ws_ticket_redeem(None) is None


def test_ws_ticket_requires_authentication(api_client):
    assert_envelope(api_client.post("/api/auth/ws-ticket"), 401)


def test_ws_ticket_stored_hashed_with_30s_ttl(logged_in_api_client, monkeypatch):
    from django.core.cache import cache

    calls = []
    real_set = cache.set
    monkeypatch.setattr(cache, "set", lambda k, v, t: (calls.append((k, v, t)), real_set(k, v, t)))
    ticket = logged_in_api_client.post("/api/auth/ws-ticket").json()["ticket"]
    ((key, value, ttl),) = calls
    assert ticket not in key and ttl == 30 and value == str(logged_in_api_client.user.pk)


def test_session_login_service_applies_2fa_and_logs_in(make_user, rf):
    from django.contrib.sessions.backends.db import SessionStore

    from audotics.exceptions import ApplicationError
    from users.services import session_login, session_logout

    user = make_user(username="pam")
    request = rf.post("/login")
    request.session = SessionStore()
    with pytest.raises(ApplicationError) as exc:
        session_login(request, "pam", "wrong", None)
    assert exc.value.code == "invalid_credentials"
    assert session_login(request, "pam", PASSWORD, None) == user
    assert request.session["_auth_user_id"] == str(user.pk)
    session_logout(request)
    assert "_auth_user_id" not in request.session


def test_admin_user_list_and_email_search(make_user, settings):
    # Without collectstatic (DEBUG off), the manifest storage cannot name admin CSS files.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    admin = make_user(username="root", is_staff=True, is_superuser=True)
    make_user(username="quinn", email="quinn@example.com")
    client = APIClient()
    client.force_login(admin)
    response = client.get("/admin/users/user/")
    assert response.status_code == 200 and b"quinn@example.com" in response.content
    response = client.get("/admin/users/user/", {"q": "QUINN@example.com"})
    assert b"quinn@example.com" in response.content
    response = client.get("/admin/users/user/", {"q": "qui"})
    assert b"quinn" in response.content
    user = User.objects.get(username="quinn")
    assert client.get(f"/admin/users/user/{user.pk}/change/").status_code == 200


def test_admin_requires_staff(make_user):
    client = APIClient()
    client.force_login(make_user(username="rita"))
    assert client.get("/admin/users/user/").status_code == 302
