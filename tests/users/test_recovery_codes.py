"""2FA recovery codes: ten shown once at setup, stored hashed, each usable once in place of a
TOTP code (also under concurrency), renewed with password + code."""
import pytest
from rest_framework.test import APIClient

from tests.users.conftest import PASSWORD, login, race, totp_now
from tests.users.test_two_factor import _enable
from users.models import RecoveryCode, TOTPDevice
from users.services import two_factor_verify


@pytest.mark.django_db
def test_setup_shows_ten_codes_once_stored_hashed_each_usable_once(logged_in_api_client):
    user = logged_in_api_client.user
    logged_in_api_client.post("/api/auth/2fa/setup", {"password": PASSWORD}, format="json")
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    body = logged_in_api_client.post("/api/auth/2fa/confirm", {"otp": totp_now(device)},
                                     format="json").json()
    codes = body["recoveryCodes"]
    assert body["enabled"] is True and len(codes) == len(set(codes)) == 10
    stored = list(RecoveryCode.objects.filter(user=user).values_list("code_hash", flat=True))
    assert len(stored) == 10 and not set(codes) & set(stored)
    assert not any(c.replace("-", "") in h for c in codes for h in stored)
    # A lost phone: a recovery code signs in instead of the TOTP code, once.
    client = APIClient()
    assert login(client, user.username, otp=codes[0].upper()).status_code == 200
    assert login(client, user.username, otp=codes[0]).status_code == 401
    assert login(client, user.username, otp="not-a-code").status_code == 401
    assert RecoveryCode.objects.filter(user=user).count() == 9


@pytest.mark.django_db
def test_renewing_needs_password_and_code_and_kills_the_old_codes(logged_in_api_client,
                                                                  settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "otp_per_user": "50/m"}
    user = logged_in_api_client.user
    assert logged_in_api_client.post("/api/auth/2fa/recovery-codes", {
        "password": PASSWORD, "otp": "123456"}, format="json").json()["error"]["code"] \
        == "two_factor_not_enabled"
    device = _enable(logged_in_api_client, user)
    old = RecoveryCode.objects.filter(user=user).count()
    assert old == 10
    wrong = logged_in_api_client.post("/api/auth/2fa/recovery-codes", {
        "password": "nope", "otp": "123456"}, format="json")
    assert wrong.status_code == 400 and "password" in wrong.json()["error"]["fields"]
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)
    fresh = logged_in_api_client.post("/api/auth/2fa/recovery-codes", {
        "password": PASSWORD, "otp": totp_now(device)}, format="json")
    assert fresh.status_code == 200
    new_codes = fresh.json()["codes"]
    assert len(new_codes) == 10 and RecoveryCode.objects.filter(user=user).count() == 10
    assert two_factor_verify(user=user, otp=new_codes[3]) is True
    # Turning 2FA off removes the codes with the device.
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)
    assert logged_in_api_client.post("/api/auth/2fa/disable", {
        "password": PASSWORD, "otp": totp_now(device)}, format="json").status_code == 200
    assert not RecoveryCode.objects.filter(user=user).exists()


@pytest.mark.django_db(transaction=True)
def test_one_recovery_code_used_concurrently_passes_once(make_user):
    from users.services.recovery import recovery_codes_generate

    user = make_user(username="racer2")
    TOTPDevice.objects.create(user=user, name="a", key="35" * 20, confirmed=True)
    code = recovery_codes_generate(user=user)[0]
    results = race(lambda: two_factor_verify(user=user, otp=code))
    assert sorted(results) == [False] * 7 + [True]


@pytest.mark.django_db
def test_the_sign_in_page_takes_a_recovery_code(make_user, client):
    from users.services.recovery import recovery_codes_generate

    user = make_user(username="lostphone")
    TOTPDevice.objects.create(user=user, name="a", key="36" * 20, confirmed=True)
    code = recovery_codes_generate(user=user)[0]
    first = client.post("/signin", {"username": "lostphone", "password": PASSWORD})
    assert first.status_code == 302 and first["Location"].startswith("/signin/code")
    done = client.post("/signin/code", {"otp": code})
    assert done.status_code == 302 and "/signin" not in done["Location"]
    assert client.get("/account").status_code == 200
