"""Changing the email: the new address confirms a signed link before it counts; the old address
is told; a used, stale or tampered link does nothing."""
import re

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.factories import UserFactory
from tests.users.conftest import PASSWORD
from users import crypto
from users.models import User

pytestmark = pytest.mark.django_db


def test_change_is_confirmed_by_the_new_address(logged_in_api_client, mailoutbox):
    user = logged_in_api_client.user
    old = user.email
    wrong = logged_in_api_client.post("/api/users/me/email",
                                      {"email": "new@example.com", "password": "nope"},
                                      format="json")
    assert wrong.status_code == 400 and not mailoutbox
    taken = UserFactory(email="taken@example.com")
    assert logged_in_api_client.post("/api/users/me/email", {
        "email": taken.email, "password": PASSWORD}, format="json").status_code == 409
    asked = logged_in_api_client.post("/api/users/me/email",
                                      {"email": "New@Example.com", "password": PASSWORD},
                                      format="json")
    assert asked.status_code == 202 and mailoutbox[0].to == ["new@example.com"]
    assert User.objects.get(pk=user.pk).email == old  # nothing changes before confirmation
    token = re.search(r"token=(\S+)", mailoutbox[0].body).group(1)
    page = Client()
    assert b"Confirm the new address" in page.get(f"/account/email/confirm?token={token}").content
    done = page.post("/account/email/confirm", {"token": token})
    assert done.status_code == 302 and done["Location"] == "/account?email=changed"
    fresh = User.objects.get(pk=user.pk)
    assert fresh.email == "new@example.com"
    assert fresh.email_hash == crypto.email_index("new@example.com")
    assert mailoutbox[-1].to == [old] and "new@example.com" in mailoutbox[-1].body
    again = APIClient().post("/api/users/me/email/confirm", {"token": token}, format="json")
    assert again.status_code == 400 and again.json()["error"]["code"] == "invalid_link"
    tampered = APIClient().post("/api/users/me/email/confirm", {"token": token[:-2] + "xx"},
                                format="json")
    assert tampered.status_code == 400
