"""The admin signs in through the two-step sign-in and its limits (issue 12, items 2, 3, 5)."""
import pytest
from django.test import Client

from tests.factories import UserFactory
from tests.users.conftest import PASSWORD, totp_now
from tests.users.test_two_factor import _clear_last_t, _enable

pytestmark = pytest.mark.django_db


def _session_opens(client: Client) -> dict[str, int]:
    return {path: client.get(path).status_code
            for path in ("/api/users/me", "/admin/", "/metrics")}


@pytest.fixture
def staff_with_2fa(logged_in_api_client):
    staff = logged_in_api_client.user
    staff.is_staff = staff.is_superuser = True
    staff.save()
    device = _enable(logged_in_api_client, staff)
    _clear_last_t(device)
    return staff, device


def test_admin_login_page_sends_people_to_the_two_step_sign_in():
    response = Client().get("/admin/login/?next=/admin/users/user/")
    assert response.status_code == 302
    assert response["Location"] == "/signin?next=%2Fadmin%2Fusers%2Fuser%2F"
    # Not an open redirect through the admin either.
    evil = Client().get("/admin/login/?next=//evil.example")
    assert evil["Location"] == "/signin?next=%2Fadmin%2F"


def test_the_admin_password_form_opens_no_session_for_a_2fa_account(staff_with_2fa):
    staff, device = staff_with_2fa
    client = Client()
    response = client.post("/admin/login/?next=/admin/",
                           {"username": staff.username, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"].startswith("/signin")
    assert _session_opens(client) == {"/api/users/me": 401, "/admin/": 302, "/metrics": 404}

    # The sign-in pages: password, then the code, and then the admin opens.
    client.post("/signin", {"username": staff.username, "password": PASSWORD, "next": "/admin/"})
    assert _session_opens(client) == {"/api/users/me": 401, "/admin/": 302, "/metrics": 404}
    done = client.post("/signin/code?next=/admin/", {"otp": totp_now(device)})
    assert done.status_code == 302 and done["Location"] == "/admin/"
    assert _session_opens(client) == {"/api/users/me": 200, "/admin/": 200, "/metrics": 200}


def test_admin_sign_in_shares_the_login_limits_and_says_when_to_retry():
    staff = UserFactory(is_staff=True, is_superuser=True)
    client = Client(REMOTE_ADDR="198.51.100.20")
    statuses = [client.post("/admin/login/", {"username": staff.username, "password": "wrong"})
                .status_code for _ in range(25)]
    assert set(statuses) == {302}  # the admin's own form checks nothing any more
    attempts = [client.post("/signin", {"username": staff.username, "password": "wrong"})
                for _ in range(6)]
    assert [r.status_code for r in attempts] == [401] * 5 + [429]
    assert int(attempts[-1]["Retry-After"]) >= 1
    right = client.post("/signin", {"username": staff.username, "password": PASSWORD})
    assert right.status_code == 429 and int(right["Retry-After"]) >= 1
    assert _session_opens(client)["/admin/"] == 302


def test_in_production_staff_without_2fa_are_sent_to_set_it_up(settings, user):
    settings.STAFF_REQUIRE_TWO_FACTOR = True
    user.is_staff = user.is_superuser = True
    user.save()
    client = Client()
    client.force_login(user)
    admin = client.get("/admin/", follow=True)
    assert admin.redirect_chain[-1][0] == "/account?need=two_factor#tfa"
    assert "Staff pages need two-factor authentication" in admin.content.decode()
    assert client.get("/staff/model")["Location"] == "/account?need=two_factor#tfa"
    assert client.get("/metrics").status_code == 404
    # A signed-in user who is not staff gets a plain refusal, not a sign-in loop.
    other = Client()
    other.force_login(UserFactory())
    assert other.get("/admin/login/").status_code == 403

    settings.STAFF_REQUIRE_TWO_FACTOR = False  # the documented relaxation for a first install
    assert client.get("/admin/").status_code == 200


def test_setting_up_2fa_asks_for_the_password_again(logged_in_api_client):
    client = logged_in_api_client
    missing = client.post("/api/auth/2fa/setup", {}, format="json")
    assert missing.status_code == 400 and "password" in missing.json()["error"]["fields"]
    wrong = client.post("/api/auth/2fa/setup", {"password": "not-it"}, format="json")
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "invalid_credentials"
    right = client.post("/api/auth/2fa/setup", {"password": PASSWORD}, format="json")
    assert right.status_code == 200 and right.json()["otpauthUri"].startswith("otpauth://")


def test_sign_up_has_its_own_throttle_per_ip():
    api = Client(REMOTE_ADDR="198.51.100.30")
    codes = [api.post("/api/users", {"username": f"spam{n}", "email": f"spam{n}@example.com",
                                     "password": "long-enough-pass-9"},
                      content_type="application/json").status_code for n in range(11)]
    assert codes == [201] * 10 + [429]
    web = Client(REMOTE_ADDR="198.51.100.30")
    page = web.post("/signup", {"username": "spamweb", "email": "w@example.com",
                                "password": "long-enough-pass-9"})
    assert page.status_code == 429 and int(page["Retry-After"]) >= 1
    # Another address is not affected.
    other = Client(REMOTE_ADDR="198.51.100.31").post(
        "/api/users", {"username": "fine1", "email": "fine1@example.com",
                       "password": "long-enough-pass-9"}, content_type="application/json")
    assert other.status_code == 201
