"""Browser sign-in in two steps, through the pages (the e2e suite drives them in Chromium)."""
import pytest
from django.test import Client

from tests.users.conftest import PASSWORD, totp_now
from tests.users.test_two_factor import _clear_last_t, _enable

pytestmark = pytest.mark.django_db


def _signed_in(client: Client) -> bool:
    return client.get("/api/users/me").status_code == 200


def test_password_alone_signs_in_without_2fa(user):
    client = Client()
    response = client.post("/signin", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302 and _signed_in(client)


def test_with_2fa_the_password_alone_opens_no_session(logged_in_api_client):
    user = logged_in_api_client.user
    device = _enable(logged_in_api_client, user)
    _clear_last_t(device)
    client = Client()
    response = client.post("/signin", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"].startswith("/signin/code")
    assert not _signed_in(client)

    bad_code = "000000" if totp_now(device) != "000000" else "111111"
    wrong = client.post("/signin/code", {"otp": bad_code})
    assert wrong.status_code == 400 and not _signed_in(client)

    right = client.post("/signin/code", {"otp": totp_now(device)})
    assert right.status_code == 302 and _signed_in(client)


def test_code_page_without_a_password_step_goes_back_to_sign_in():
    response = Client().post("/signin/code", {"otp": "123456"})
    assert response.status_code == 302 and response["Location"].endswith("/signin")


def test_wrong_password_is_refused(user):
    client = Client()
    response = client.post("/signin", {"username": user.username, "password": "nope-nope-nope"})
    assert response.status_code == 401 and not _signed_in(client)
