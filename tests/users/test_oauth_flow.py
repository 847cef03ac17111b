"""authlib's OAuth 2.0 client, a library nobody here wrote, drives the whole flow against a live
server (daphne on the test database): sign-in, authorize with PKCE, the consent page, code
exchange, API calls within and outside the scopes, the app on /account, refresh with rotation,
introspection by a resource server, revocation, and refresh-token reuse detection."""
import re
import secrets
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from oauth2_provider.models import Application

from tests.collaboration.live import asgi_servers, live_database_url
from tests.factories import UserFactory
from tests.users.conftest import PASSWORD

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]
REDIRECT = "https://player.example/callback"


def _hidden(html: str) -> dict[str, str]:
    fields = {}
    for tag in re.findall(r"<input[^>]*>", html):
        name = re.search(r'name="([^"]*)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name and 'type="hidden"' in tag:
            fields[unescape(name.group(1))] = unescape(value.group(1)) if value else ""
    return fields


class PlainHttpBrowser(requests.Session):
    """The server runs its production settings (Secure cookies, for TLS at the proxy) on plain
    HTTP here: this client keeps sending those cookies, as a browser over HTTPS would."""

    def request(self, *args, **kwargs):
        response = super().request(*args, **kwargs)
        for cookie in self.cookies:
            cookie.secure = False
        return response


def _sign_in(browser: requests.Session, url: str, username: str) -> None:
    page = browser.get(url + "/signin")
    csrf = _hidden(page.text)["csrfmiddlewaretoken"]
    done = browser.post(url + "/signin", data={"csrfmiddlewaretoken": csrf, "username": username,
                                               "password": PASSWORD}, allow_redirects=False)
    assert done.status_code == 302, done.text[:500]


def test_authlib_drives_the_whole_flow_against_a_live_server():
    from authlib.integrations.requests_client import OAuth2Session

    db_url = live_database_url()
    user = UserFactory()
    developer = UserFactory()
    app = Application.objects.create(
        name="Phone Player", user=developer, client_type=Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE, redirect_uris=REDIRECT)
    resource_secret = secrets.token_urlsafe(24)
    resource_server = Application.objects.create(
        name="Resource server", user=developer, client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        client_secret=resource_secret)

    with asgi_servers(1, db_url=db_url) as (url,):
        browser = PlainHttpBrowser()
        _sign_in(browser, url, user.username)

        # Without PKCE the server refuses: no code is handed out.
        bare = OAuth2Session(app.client_id, redirect_uri=REDIRECT, scope="profile")
        bare_uri, _ = bare.create_authorization_url(url + "/o/authorize/")
        refused = browser.get(bare_uri, allow_redirects=False)
        assert "code=" not in refused.headers.get("Location", "")

        client = OAuth2Session(app.client_id, redirect_uri=REDIRECT,
                               scope="profile playlists:read", code_challenge_method="S256")
        verifier = secrets.token_urlsafe(48)
        uri, state = client.create_authorization_url(url + "/o/authorize/",
                                                     code_verifier=verifier)
        consent = browser.get(uri)
        assert consent.status_code == 200
        assert "Allow <em>Phone Player</em>" in consent.text
        assert "See your playlists and the ones shared with you" in consent.text
        fields = _hidden(consent.text)
        assert fields["code_challenge_method"] == "S256"
        answer = browser.post(url + "/o/authorize/", data={**fields, "allow": "Authorize"},
                              allow_redirects=False)
        assert answer.status_code == 302, answer.text[:500]
        location = answer.headers["Location"]
        assert location.startswith(REDIRECT)
        assert parse_qs(urlsplit(location).query)["state"] == [state]

        token = client.fetch_token(url + "/o/token/", authorization_response=location,
                                   code_verifier=verifier)
        assert set(token["scope"].split()) == {"profile", "playlists:read"}
        me = client.get(url + "/api/users/me")
        assert me.status_code == 200 and me.json()["username"] == user.username
        assert client.get(url + "/api/playlists").status_code == 200
        write = client.post(url + "/api/playlists", json={"name": "Sneaky"})
        assert write.status_code == 403
        assert write.json()["error"]["code"] == "insufficient_scope"

        account = browser.get(url + "/account")
        assert "Phone Player" in account.text  # listed under Connected apps

        # Refresh rotates the refresh token.
        old_refresh = token["refresh_token"]
        renewed = client.refresh_token(url + "/o/token/")
        assert renewed["refresh_token"] != old_refresh

        # A resource server asks whether a token is live (RFC 7662).
        introspect = requests.post(url + "/o/introspect/",
                                   data={"token": renewed["access_token"]},
                                   auth=(resource_server.client_id, resource_secret))
        assert introspect.status_code == 200, introspect.text
        assert introspect.json()["active"] is True
        assert set(introspect.json()["scope"].split()) == {"profile", "playlists:read"}

        # Revocation (RFC 7009) ends the access token at once.
        revoked = client.revoke_token(url + "/o/revoke_token/", token=renewed["access_token"],
                                      token_type_hint="access_token")
        assert revoked.status_code == 200
        assert client.get(url + "/api/users/me").status_code == 401
        gone = requests.post(url + "/o/introspect/", data={"token": renewed["access_token"]},
                             auth=(resource_server.client_id, resource_secret))
        assert gone.json()["active"] is False

        # A rotated-away refresh token presented again is theft: refused, and the whole family
        # dies with it (the newer refresh token too).
        def refresh_with(value):
            return requests.post(url + "/o/token/", data={
                "grant_type": "refresh_token", "refresh_token": value,
                "client_id": app.client_id})

        reuse = refresh_with(old_refresh)
        assert reuse.status_code == 400 and reuse.json()["error"] == "invalid_grant"
        assert refresh_with(renewed["refresh_token"]).status_code == 400
