"""OAuth access tokens on the REST API: every endpoint states the scope it needs, a token works
like the user's own sign-in within its scopes and gets 403 insufficient_scope outside them."""
from datetime import timedelta

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application
from rest_framework.test import APIClient
from rest_framework.views import APIView

from tests.factories import PlaylistFactory, TrackFactory, UserFactory
from users.scopes import SCOPES

pytestmark = pytest.mark.django_db

# (method, path, body, the scope it needs; None: no application may call it)
ENDPOINTS = [
    ("get", "/api/users/me", None, "profile"),
    ("delete", "/api/users/me", {"password": "x"}, None),
    ("get", "/api/users/me/export", None, None),
    ("patch", "/api/users/me/preferences", {"energy": 0.5}, None),
    ("post", "/api/users/me/password", {"currentPassword": "x", "newPassword": "y"}, None),
    ("post", "/api/auth/2fa/setup", {"password": "x"}, None),
    ("post", "/api/auth/2fa/disable", {"password": "x", "otp": "1"}, None),
    ("post", "/api/auth/ws-ticket", None, "playlists:read"),
    ("get", "/api/playlists", None, "playlists:read"),
    ("post", "/api/playlists", {"name": "From an app"}, "playlists:write"),
    ("get", "/api/playlists/{playlist}", None, "playlists:read"),
    ("patch", "/api/playlists/{playlist}", {"name": "Renamed"}, "playlists:write"),
    ("put", "/api/playlists/{playlist}/tracks", {"trackIds": ["{track}"]}, "playlists:write"),
    ("get", "/api/playlists/{playlist}/export", None, "playlists:read"),
    ("get", "/api/playlists/{playlist}/recommendations", None, "recommendations:read"),
    ("get", "/api/users/{user}/recommendations", None, "recommendations:read"),
    ("post", "/api/playlists/generate", {"length": 5}, "recommendations:read"),
    ("post", "/api/interactions", {"trackId": "{track}", "type": "play"}, "listens:write"),
    ("get", "/api/users/me/likes", None, "recommendations:read"),
    ("delete", "/api/users/me/likes/{track}", None, "listens:write"),
    ("delete", "/api/users/me/dislikes/{track}", None, "listens:write"),
    ("get", "/api/users/me/listens", None, None),
    ("get", "/api/users/me/listen-tokens", None, None),
    ("post", "/api/users/me/listen-tokens", {"name": "x"}, None),
    ("get", "/api/imports", None, "listens:write"),
]


@pytest.fixture
def world():
    user = UserFactory()
    app = Application.objects.create(
        name="Test app", user=UserFactory(), client_type=Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris="https://app.example/callback")
    track = TrackFactory()
    return {"user": user, "app": app, "track": track,
            "playlist": PlaylistFactory(owner=user)}


def _client(world, scope: str) -> APIClient:
    token = AccessToken.objects.create(
        user=world["user"], application=world["app"], scope=scope,
        token=f"oauth-{scope.replace(' ', '-').replace(':', '-')}-token",
        expires=timezone.now() + timedelta(hours=1))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token.token}")
    return client


def _call(client, world, method, path, body):
    fill = {"playlist": world["playlist"].pk, "track": world["track"].pk,
            "user": world["user"].pk}
    if body is not None:
        body = {k: ([v.format(**fill) for v in val] if isinstance(val, list) else
                    val.format(**fill) if isinstance(val, str) else val)
                for k, val in body.items()}
    return getattr(client, method)(path.format(**fill), body, format="json")


@pytest.mark.parametrize(("method", "path", "body", "scope"), ENDPOINTS,
                         ids=[f"{m} {p}" for m, p, _, _ in ENDPOINTS])
def test_every_endpoint_needs_its_scope(world, method, path, body, scope):
    others = " ".join(s for s in SCOPES if s != scope)
    refused = _call(_client(world, others), world, method, path, body)
    assert refused.status_code == 403, refused.content
    assert refused.json()["error"]["code"] == "insufficient_scope"
    assert "insufficient_scope" in refused["WWW-Authenticate"]
    if scope is None:
        return
    allowed = _call(_client(world, scope), world, method, path, body)
    assert allowed.status_code < 400 or allowed.json()["error"]["code"] != "insufficient_scope", (
        allowed.status_code, allowed.content)
    assert allowed.status_code not in (401, 403), allowed.content


def test_a_read_token_cannot_write_and_works_like_a_sign_in(world):
    reader = _client(world, "playlists:read")
    listed = reader.get("/api/playlists")
    assert listed.status_code == 200 and listed.json()["count"] == 1
    assert reader.post("/api/playlists", {"name": "x"}, format="json").status_code == 403
    assert _client(world, "recommendations:read").post(
        "/api/playlists/generate", {"length": 5, "save": True}, format="json"
    ).json()["error"]["code"] == "insufficient_scope"


def test_catalog_reads_take_any_token_and_bad_tokens_are_401(world):
    assert _client(world, "profile").get("/api/tracks").status_code == 200
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Bearer not-a-token-at-all")
    assert bad.get("/api/users/me").status_code == 401
    expired = AccessToken.objects.create(user=world["user"], application=world["app"],
                                         scope="profile", token="expired-oauth-token",
                                         expires=timezone.now() - timedelta(seconds=1))
    bad.credentials(HTTP_AUTHORIZATION=f"Bearer {expired.token}")
    assert bad.get("/api/users/me").status_code == 401


def _api_views(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _api_views(entry, route)
        elif isinstance(entry, URLPattern):
            view = getattr(entry.callback, "view_class", None)
            if route.startswith("api/") and view and issubclass(view, APIView):
                yield route, view


def test_every_api_view_states_its_scope():
    views = dict(_api_views())
    assert len(views) > 20
    missing = sorted(f"{route} ({view.__name__})" for route, view in views.items()
                     if "token_scope" not in vars(view) and not view.__module__.startswith(
                         ("drf_spectacular",)))
    assert missing == []
