import threading

import pytest
from django.core.checks import Error
from django.db import connection
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from tests.users.conftest import PASSWORD, assert_envelope, login
from users.checks import check_jwt_blacklist
from users.models import TokenFamily

pytestmark = pytest.mark.django_db


def _refresh(client, token):
    return client.post("/api/auth/token/refresh", {"refresh": token}, format="json")


def test_token_obtain_by_username_and_email(make_user, api_client):
    user = make_user(username="Dora", email="Dora@Example.com")
    for identifier in ("Dora", "dora", "dora@example.com", "DORA@EXAMPLE.COM"):
        response = login(api_client, identifier)
        assert response.status_code == 200, response.content
        assert set(response.json()) == {"access", "refresh"}
    me = api_client.get("/api/users/me", HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
    assert me.status_code == 200
    assert me.json()["id"] == str(user.pk)


def test_token_obtain_invalid_credentials(make_user, api_client):
    make_user(username="erin")
    assert_envelope(login(api_client, "erin", "wrong-password"), 401, "invalid_credentials")
    assert_envelope(login(api_client, "nobody", PASSWORD), 401, "invalid_credentials")


def test_token_obtain_inactive_user_rejected(make_user, api_client):
    make_user(username="frank", is_active=False)
    assert_envelope(login(api_client, "frank"), 401, "invalid_credentials")


def test_refresh_rotates_and_old_token_dies(make_user, api_client):
    make_user(username="gina")
    first = login(api_client, "gina").json()
    second = _refresh(api_client, first["refresh"])
    assert second.status_code == 200
    pair = second.json()
    assert pair["refresh"] != first["refresh"]
    assert_envelope(_refresh(api_client, first["refresh"]), 401, "invalid_token")
    assert BlacklistedToken.objects.filter(
        token__jti=OutstandingToken.objects.order_by("created_at").first().jti
    ).exists()


def test_refresh_reuse_revokes_the_whole_family(make_user, api_client):
    make_user(username="hal")
    first = login(api_client, "hal").json()
    other_login = login(api_client, "hal").json()
    second = _refresh(api_client, first["refresh"]).json()
    third = _refresh(api_client, second["refresh"]).json()
    # The stolen first token is replayed: it fails and kills the family.
    assert_envelope(_refresh(api_client, first["refresh"]), 401, "invalid_token")
    assert_envelope(_refresh(api_client, third["refresh"]), 401, "invalid_token")
    family = TokenFamily.objects.get(current_jti__isnull=False, revoked_reason="reuse_detected")
    assert family.revoked_at is not None
    # Another login (another family) is unaffected.
    assert _refresh(api_client, other_login["refresh"]).status_code == 200


def test_refresh_rejects_garbage_and_access_tokens(make_user, api_client):
    make_user(username="ivy")
    pair = login(api_client, "ivy").json()
    assert_envelope(_refresh(api_client, "not-a-jwt"), 401, "invalid_token")
    assert_envelope(_refresh(api_client, pair["access"]), 401, "invalid_token")
    assert_envelope(_refresh(api_client, pair["refresh"][:-3] + "abc"), 401, "invalid_token")


def test_logout_kills_refresh_token(make_user, api_client):
    make_user(username="jack")
    pair = login(api_client, "jack").json()
    response = api_client.post("/api/auth/logout", {"refresh": pair["refresh"]}, format="json")
    assert response.status_code == 204
    assert_envelope(_refresh(api_client, pair["refresh"]), 401, "invalid_token")


def test_password_change_kills_every_refresh_token(make_user, api_client):
    user = make_user(username="kim")
    pairs = [login(api_client, "kim").json() for _ in range(3)]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {pairs[0]['access']}")
    response = client.post(
        "/api/users/me/password",
        {"currentPassword": PASSWORD, "newPassword": "a-new-long-passphrase-7"},
        format="json",
    )
    assert response.status_code == 204, response.content
    for pair in pairs:
        assert_envelope(_refresh(api_client, pair["refresh"]), 401, "invalid_token")
    assert not OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True).exists()
    assert login(api_client, "kim", "a-new-long-passphrase-7").status_code == 200


def test_password_change_wrong_current_password(make_user):
    user = make_user(username="lee")
    client = APIClient()
    client.force_authenticate(user)
    response = client.post(
        "/api/users/me/password",
        {"currentPassword": "nope", "newPassword": "a-new-long-passphrase-7"},
        format="json",
    )
    error = assert_envelope(response, 400, "validation_error")
    assert "currentPassword" in error["fields"]


def test_admin_style_password_change_also_revokes(make_user, api_client):
    user = make_user(username="max")
    pair = login(api_client, "max").json()
    user.set_password("another-passphrase-42")
    user.save()
    assert_envelope(_refresh(api_client, pair["refresh"]), 401, "invalid_token")


def test_system_check_requires_blacklist_app(monkeypatch):
    import users.checks

    assert check_jwt_blacklist() == []
    monkeypatch.setattr(users.checks.apps, "is_installed", lambda name: False)
    errors = check_jwt_blacklist()
    assert len(errors) == 1 and isinstance(errors[0], Error) and errors[0].id == "users.E001"


@pytest.mark.django_db(transaction=True)
def test_concurrent_refreshes_exactly_one_succeeds(make_user):
    make_user(username="nina")
    refresh = login(APIClient(), "nina").json()["refresh"]
    barrier = threading.Barrier(10)
    statuses = []
    lock = threading.Lock()

    def worker():
        try:
            client = APIClient()
            barrier.wait()
            status = _refresh(client, refresh).status_code
            with lock:
                statuses.append(status)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200] + [401] * 9, statuses
