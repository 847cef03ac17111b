"""OAuth 2.0 in a browser: a developer registers an app on /o/applications/, a listener sees the
consent page in the site's layout, allows it, the app exchanges the code (PKCE) and calls the
API; the listener sees it under Connected apps and disconnects it."""
import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from playwright.sync_api import expect

from .conftest import DESKTOP, PHONE, shot

pytestmark = pytest.mark.e2e


def test_register_an_app_consent_and_disconnect(open_page, new_listener, server):
    page = open_page(DESKTOP)
    new_listener(page)
    callback = f"{server}/oauth-callback"
    page.goto("/account")
    page.get_by_role("link", name="Register and manage your applications").click()
    page.goto("/o/applications/register/")
    page.get_by_label("Name").fill("Phone Player")
    page.get_by_label("Client type").select_option("public")
    page.get_by_label("Authorization grant type").select_option("authorization-code")
    page.get_by_label("Redirect URIs", exact=True).fill(callback)
    page.get_by_label("Algorithm").select_option("")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", name="Phone Player")).to_be_visible()
    client_id = page.get_by_label("Client id").input_value()
    shot(page, "oauth-app")

    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(
        hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = urlencode({"response_type": "code", "client_id": client_id,
                       "redirect_uri": callback, "scope": "profile playlists:read",
                       "state": "xyz", "code_challenge": challenge,
                       "code_challenge_method": "S256"})
    page.set_viewport_size(PHONE)
    page.goto(f"/o/authorize/?{query}")
    expect(page.get_by_role("heading", name="Allow Phone Player to use your Audotics account?")
           ).to_be_visible()
    expect(page.locator(".scope-list")).to_contain_text("See your playlists")
    shot(page, "oauth-consent")
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(lambda url: url.startswith(callback))
    code = parse_qs(urlsplit(page.url).query)["code"][0]

    token = page.request.post("/o/token/", form={
        "grant_type": "authorization_code", "code": code, "redirect_uri": callback,
        "client_id": client_id, "code_verifier": verifier}).json()
    me = page.request.get("/api/users/me",
                          headers={"Authorization": f"Bearer {token['access_token']}"})
    assert me.ok and me.json()["username"]

    page.goto("/account#apps")
    apps = page.locator("#app-list")
    expect(apps).to_contain_text("Phone Player")
    expect(apps).to_contain_text("See your playlists and the ones shared with you")
    apps.get_by_role("button", name="Disconnect Phone Player").click()
    expect(page.locator("#app-list")).to_contain_text("No applications are connected.")
    gone = page.request.get("/api/users/me",
                            headers={"Authorization": f"Bearer {token['access_token']}"})
    assert gone.status == 401
