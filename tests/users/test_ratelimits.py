import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from tests.users.conftest import PASSWORD, assert_envelope, login
from users import ratelimit

pytestmark = pytest.mark.django_db

REDIS_DOWN = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
    }
}


def test_sixth_bad_login_in_a_minute_is_limited_and_xff_does_not_help(make_user, client_factory):
    make_user(username="victim")
    client = client_factory()
    for i in range(5):
        assert_envelope(login(client, "victim", f"guess-{i}"), 401, "invalid_credentials")
    response = login(client, "victim", "guess-6")
    error = assert_envelope(response, 429, "rate_limited")
    assert int(response["Retry-After"]) >= 1 and error["message"]
    # A forged X-Forwarded-For changes nothing (no trusted proxy configured).
    forged = login(client, "victim", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.99")
    assert_envelope(forged, 429, "rate_limited")
    # Even from another address, the account's per-username budget is spent.
    assert_envelope(login(client_factory(ip="192.0.2.50"), "victim", PASSWORD), 429)
    # The same account by email counts against the same budget.
    assert_envelope(login(client_factory(ip="192.0.2.51"), "victim@example.com", PASSWORD), 429)


def test_twenty_first_login_from_one_ip_is_limited(client_factory):
    client = client_factory(ip="198.51.100.7")
    for i in range(20):
        assert login(client, f"user{i}", "x").status_code == 401
    response = login(client, "user99", "x")
    assert_envelope(response, 429, "rate_limited")
    assert response["Retry-After"]
    assert_envelope(login(client, "user98", "x", HTTP_X_FORWARDED_FOR=f"10.0.0.{i}"), 429)
    assert login(client_factory(ip="198.51.100.8"), "user98", "x").status_code == 401


def test_trusted_proxy_count_uses_nth_from_right(rf, settings):
    request = rf.get("/", HTTP_X_FORWARDED_FOR="6.6.6.6, 1.2.3.4, 10.0.0.2", REMOTE_ADDR="10.0.0.1")
    settings.TRUSTED_PROXY_COUNT = 0
    assert ratelimit.client_ip(request) == "10.0.0.1"
    settings.TRUSTED_PROXY_COUNT = 2
    assert ratelimit.client_ip(request) == "1.2.3.4"
    settings.TRUSTED_PROXY_COUNT = 5
    assert ratelimit.client_ip(request) == "10.0.0.1"
    request = rf.get("/", HTTP_X_FORWARDED_FOR="nonsense, 10.0.0.2", REMOTE_ADDR="10.0.0.1")
    assert ratelimit.client_ip(request) == "10.0.0.1"


def test_behind_trusted_proxy_forged_prefix_does_not_reset(client_factory, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = client_factory(ip="10.0.0.1")
    for i in range(20):
        login(proxy, f"n{i}", "x", HTTP_X_FORWARDED_FOR=f"{i}.9.9.9, 203.0.113.5")
    assert_envelope(login(proxy, "n99", "x", HTTP_X_FORWARDED_FOR="7.7.7.7, 203.0.113.5"), 429)
    assert login(proxy, "n98", "x", HTTP_X_FORWARDED_FOR="203.0.113.6").status_code == 401


def test_failed_attempts_per_account_per_hour(make_user, client_factory, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login_failures_per_account": "3/h"}
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login_per_account": "100/m"}
    make_user(username="target")
    for i in range(3):
        login(client_factory(ip=f"192.0.2.{i}"), "target", "bad")
    assert_envelope(login(client_factory(ip="192.0.2.200"), "target", PASSWORD), 429)


def test_successful_logins_do_not_spend_failure_budget(make_user, client_factory, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login_failures_per_account": "2/h"}
    make_user(username="happy")
    for i in range(4):
        assert login(client_factory(ip=f"192.0.2.{i}"), "happy").status_code == 200


def test_api_quota_per_user_and_per_ip(make_user, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "api_per_user": "3/h"}
    client = APIClient()
    client.force_authenticate(make_user(username="busy"))
    for _ in range(3):
        assert client.get("/api/users/me").status_code == 200
    response = client.get("/api/users/me")
    assert_envelope(response, 429, "rate_limited")
    assert int(response["Retry-After"]) >= 1
    other = APIClient()
    other.force_authenticate(make_user(username="idle"))
    assert other.get("/api/users/me").status_code == 200
    anon = APIClient(REMOTE_ADDR="192.0.2.77")
    for _ in range(3):
        assert_envelope(anon.post("/api/users", {}, format="json"), 400)
    assert_envelope(anon.post("/api/users", {}, format="json"), 429, "rate_limited")


def test_ratelimited_exception_maps_to_429():
    from django_ratelimit.exceptions import Ratelimited

    from audotics.exceptions import exception_handler

    response = exception_handler(Ratelimited(), {"view": None})
    assert response.status_code == 429 and response["Retry-After"]
    assert response.data["error"]["code"] == "rate_limited"


def test_redis_down_login_fails_closed_reads_fail_open(make_user):
    user = make_user(username="outage")
    reader = APIClient()
    reader.force_authenticate(user)
    with override_settings(CACHES=REDIS_DOWN):
        error = assert_envelope(login(APIClient(), "outage"), 503, "service_unavailable")
        assert error["message"]
        response = reader.get("/api/users/me")
        assert response.status_code == 200, response.content
        assert response.json()["username"] == "outage"
        assert_envelope(reader.post("/api/auth/ws-ticket"), 503, "service_unavailable")
        from users.services import ws_ticket_redeem

        assert ws_ticket_redeem("anything") is None
        # Logout and refresh do not need the cache.
        assert_envelope(APIClient().post("/api/auth/logout", {"refresh": "x"}, format="json"), 401)
