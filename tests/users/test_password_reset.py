"""Password reset by email: the same answer for any address, a link that works once and for one
hour, every sign-in ended by the new password; the pages do the same."""
import re
from datetime import timedelta

import pytest
from django.contrib.auth.tokens import default_token_generator
from rest_framework.test import APIClient

from tests.users.conftest import PASSWORD, login

pytestmark = pytest.mark.django_db
NEW = "a-brand-new-passphrase-42"


def _link(mail) -> tuple[str, str]:
    uid, token = re.search(r"/password-reset/([^/\s]+)/([^/\s]+)", mail.body).groups()
    return uid, token


def test_same_answer_for_any_address_and_mail_only_to_real_ones(make_user, mailoutbox):
    user = make_user(username="forgetful")
    client = APIClient()
    known = client.post("/api/auth/password-reset", {"email": user.email.upper()},
                        format="json")
    unknown = client.post("/api/auth/password-reset", {"email": "nobody@example.com"},
                          format="json")
    assert known.status_code == unknown.status_code == 202
    assert known.content == unknown.content
    assert len(mailoutbox) == 1 and mailoutbox[0].to == [user.email]
    assert "/password-reset/" in mailoutbox[0].body
    assert client.post("/api/auth/password-reset", {"email": "not an email"},
                       format="json").status_code == 400


def test_the_link_works_once_and_ends_every_sign_in(make_user, mailoutbox):
    user = make_user(username="reset-me")
    tokens = login(APIClient(), user.username).json()
    APIClient().post("/api/auth/password-reset", {"email": user.email}, format="json")
    uid, token = _link(mailoutbox[0])
    client = APIClient()
    weak = client.post("/api/auth/password-reset/confirm",
                       {"uid": uid, "token": token, "password": "password"}, format="json")
    assert weak.status_code == 400 and weak.json()["error"]["fields"]["password"]
    done = client.post("/api/auth/password-reset/confirm",
                       {"uid": uid, "token": token, "password": NEW}, format="json")
    assert done.status_code == 204
    again = client.post("/api/auth/password-reset/confirm",
                        {"uid": uid, "token": token, "password": NEW + "x"}, format="json")
    assert again.status_code == 400 and again.json()["error"]["code"] == "invalid_reset_link"
    assert login(APIClient(), user.username, NEW).status_code == 200
    assert login(APIClient(), user.username, PASSWORD).status_code == 401
    refreshed = APIClient().post("/api/auth/token/refresh", {"refresh": tokens["refresh"]},
                                 format="json")
    assert refreshed.status_code == 401


def test_the_link_expires_after_an_hour(make_user, mailoutbox, monkeypatch):
    user = make_user(username="slow-reader")
    APIClient().post("/api/auth/password-reset", {"email": user.email}, format="json")
    uid, token = _link(mailoutbox[0])
    later = default_token_generator._now() + timedelta(hours=1, minutes=1)
    monkeypatch.setattr(default_token_generator, "_now", lambda: later)
    expired = APIClient().post("/api/auth/password-reset/confirm",
                               {"uid": uid, "token": token, "password": NEW}, format="json")
    assert expired.status_code == 400 and expired.json()["error"]["code"] == "invalid_reset_link"
    assert APIClient().post("/api/auth/password-reset/confirm",
                            {"uid": "garbage", "token": "x", "password": NEW},
                            format="json").status_code == 400


def test_the_pages_reset_a_password(make_user, mailoutbox, client):
    user = make_user(username="page-reset")
    assert b"Forgot your password?" in client.get("/signin").content
    sent = client.post("/password-reset", {"email": user.email})
    assert b"If an account uses that address" in sent.content
    uid, token = _link(mailoutbox[0])
    form = client.get(f"/password-reset/{uid}/{token}")
    assert form.status_code == 200 and b"New password" in form.content
    done = client.post(f"/password-reset/{uid}/{token}", {"password": NEW})
    assert done.status_code == 302 and done["Location"] == "/signin?reset=1"
    spent = client.get(f"/password-reset/{uid}/{token}")
    assert spent.status_code == 400 and b"Ask for a new one" in spent.content
