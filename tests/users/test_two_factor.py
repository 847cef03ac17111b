import pytest
from rest_framework.test import APIClient

from tests.users.conftest import PASSWORD, assert_envelope, login, race, totp_now
from users.models import TOTPDevice
from users.services import two_factor_verify

pytestmark = pytest.mark.django_db


def _enable(client, user):
    setup = client.post("/api/auth/2fa/setup", {"password": PASSWORD}, format="json")
    assert setup.status_code == 200, setup.content
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post("/api/auth/2fa/confirm", {"otp": totp_now(device)}, format="json")
    assert response.status_code == 200, response.content
    device.refresh_from_db()
    return device


def _clear_last_t(device):
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)


def test_setup_returns_uri_and_svg_not_yet_active(logged_in_api_client, api_client):
    response = logged_in_api_client.post("/api/auth/2fa/setup", {"password": PASSWORD},
                                         format="json")
    body = response.json()
    assert body["otpauthUri"].startswith("otpauth://totp/Audotics")
    assert "secret=" in body["otpauthUri"] and "issuer=Audotics" in body["otpauthUri"]
    assert body["qrSvg"].lstrip().startswith("<") and "<svg" in body["qrSvg"]
    # Not active until confirmed: a password still logs in.
    assert login(api_client, logged_in_api_client.user.username).status_code == 200


def test_confirm_with_wrong_code_fails(logged_in_api_client):
    logged_in_api_client.post("/api/auth/2fa/setup", {"password": PASSWORD}, format="json")
    response = logged_in_api_client.post("/api/auth/2fa/confirm", {"otp": "000000"}, format="json")
    if response.status_code == 200:  # one in a million: 000000 was the current code
        return
    assert_envelope(response, 400, "invalid_otp")
    assert_envelope(APIClient().post("/api/auth/2fa/confirm", {"otp": "1"}, format="json"), 401)


def test_password_only_login_with_2fa_gets_no_token(logged_in_api_client, api_client):
    user = logged_in_api_client.user
    device = _enable(logged_in_api_client, user)
    error = assert_envelope(login(api_client, user.username), 401, "otp_required")
    assert "access" not in str(error)
    assert_envelope(login(api_client, user.username, otp="12345"), 401, "otp_required")
    _clear_last_t(device)
    response = login(api_client, user.username, otp=totp_now(device))
    assert response.status_code == 200 and "access" in response.json()


def test_same_code_accepted_once(logged_in_api_client, api_client):
    user = logged_in_api_client.user
    device = _enable(logged_in_api_client, user)
    _clear_last_t(device)
    code = totp_now(device)
    assert login(api_client, user.username, otp=code).status_code == 200
    assert_envelope(login(api_client, user.username, otp=code), 401, "otp_required")


def test_tolerance_one_step_of_drift(make_user):
    user = make_user(username="drift")
    device = TOTPDevice.objects.create(user=user, name="a", key="12" * 20, confirmed=True)
    assert two_factor_verify(user=user, otp=totp_now(device, offset=-1))
    _clear_last_t(device)
    device.refresh_from_db()
    device.drift = 0
    device.save()
    assert not two_factor_verify(user=user, otp=totp_now(device, offset=-3))
    assert not two_factor_verify(user=user, otp=totp_now(device, offset=3))
    assert two_factor_verify(user=user, otp=totp_now(device, offset=1))


def test_disable_needs_password_and_code(logged_in_api_client, api_client):
    user = logged_in_api_client.user
    device = _enable(logged_in_api_client, user)
    _clear_last_t(device)
    url = "/api/auth/2fa/disable"
    code = totp_now(device)
    assert_envelope(
        logged_in_api_client.post(url, {"password": "wrong", "otp": code}, format="json"), 400
    )
    assert_envelope(
        logged_in_api_client.post(url, {"password": PASSWORD, "otp": "99999x"}, format="json"),
        400,
    )
    response = logged_in_api_client.post(url, {"password": PASSWORD, "otp": code}, format="json")
    assert response.status_code == 200, response.content
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert login(api_client, user.username).status_code == 200


def test_setup_when_enabled_conflicts(logged_in_api_client):
    _enable(logged_in_api_client, logged_in_api_client.user)
    again = logged_in_api_client.post("/api/auth/2fa/setup", {"password": PASSWORD},
                                      format="json")
    assert_envelope(again, 409, "two_factor_enabled")


@pytest.mark.django_db(transaction=True)
def test_concurrent_use_of_one_code_only_one_passes(make_user):
    user = make_user(username="racer")
    device = TOTPDevice.objects.create(user=user, name="a", key="34" * 20, confirmed=True)
    code = totp_now(device)
    results = race(lambda: two_factor_verify(user=user, otp=code))
    assert sorted(results) == [False] * 7 + [True]
