"""Hostile request bodies against every write endpoint and the sign-in forms (issue 12, item 4).

Each class of input an outside security test sent -- JSON nested hundreds of levels deep, bodies
over the 2 MB limit, charsets that are not text encodings, lone surrogates, NUL characters -- must
get a 4xx (the error envelope on the API, a page on the forms), never a 500, and must not write a
traceback to the log. The number of requests sent is printed for the closing note.
"""
from __future__ import annotations

import json
import logging

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.factories import PlaylistFactory, TrackFactory, UserFactory

pytestmark = pytest.mark.django_db

DEEP = ("[" * 600 + "]" * 600).encode()  # ~1 KB, the testers' RecursionError
DEEP_OBJECT = ('{"a":' * 600 + "1" + "}" * 600).encode()
OVERSIZE = b'{"name": "' + b"x" * (2 * 1024 * 1024 + 10) + b'"}'
NON_TEXT_CHARSETS = ["rot13", "hex", "base64", "zlib", "bz2", "uu", "quopri", "no-such-charset"]
SURROGATE_KEY = b'{"\\ud800": 1, "name": "x"}'
SURROGATE_VALUE = (b'{"name": "\\ud800", "username": "\\udfff", "password": "\\ud800x",'
                   b' "type": "\\ud800"}')
NUL_VALUE = (b'{"name": "a\\u0000b", "username": "a\\u0000", "password": "p\\u0000w",'
             b' "type": "\\u0000"}')
RAW_SURROGATE = b'{"name": "\xed\xa0\x80"}'  # a surrogate encoded as "UTF-8": not UTF-8

BODIES = {
    "deep-array": DEEP,
    "deep-object": DEEP_OBJECT,
    "oversize": OVERSIZE,
    "surrogate-key": SURROGATE_KEY,
    "surrogate-value": SURROGATE_VALUE,
    "nul-value": NUL_VALUE,
    "raw-surrogate": RAW_SURROGATE,
}

# (method, path, signed in); {playlist} and {user} are filled in per test. Endpoints that read
# no body (2FA setup, WebSocket ticket) may ignore the parsable ones, but not the size or charset.
BODYLESS = {"/api/auth/2fa/setup", "/api/auth/ws-ticket"}
WRITE_ENDPOINTS = [
    ("post", "/api/users", False),
    ("post", "/api/auth/token", False),
    ("post", "/api/auth/token/refresh", False),
    ("post", "/api/auth/logout", False),
    ("patch", "/api/users/me/preferences", True),
    ("post", "/api/users/me/password", True),
    ("post", "/api/auth/2fa/setup", True),
    ("post", "/api/auth/2fa/confirm", True),
    ("post", "/api/auth/2fa/disable", True),
    ("post", "/api/auth/ws-ticket", True),
    ("post", "/api/playlists", True),
    ("patch", "/api/playlists/{playlist}", True),
    ("put", "/api/playlists/{playlist}/tracks", True),
    ("delete", "/api/playlists/{playlist}/tracks", True),
    ("post", "/api/playlists/{playlist}/tracks/move", True),
    ("post", "/api/playlists/{playlist}/collaborators", True),
    ("post", "/api/interactions", True),
    ("post", "/api/playlists/generate", True),
    ("post", "/api/users/me/listen-tokens", True),
    ("post", "/api/imports", True),
]

SENT = {"count": 0}


@pytest.fixture(scope="module", autouse=True)
def _count_report(request):
    """The closing note quotes how many hostile requests the module sent."""
    yield
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print(f"\nhostile inputs sent: {SENT['count']}")


@pytest.fixture
def world(db):
    owner = UserFactory()
    playlist = PlaylistFactory(owner=owner)
    TrackFactory.create_batch(3)
    return {"user": owner, "playlist": playlist}


@pytest.fixture
def tracebacks(caplog):
    """Log records carrying a traceback, at any level, from any logger."""
    caplog.set_level(logging.INFO)
    return lambda: [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


def _api_client(world, signed_in: bool) -> APIClient:
    client = APIClient(REMOTE_ADDR="198.51.100.9", raise_request_exception=False)
    if signed_in:
        client.force_authenticate(world["user"])
    return client


def _send(client, method: str, path: str, body: bytes, content_type: str):
    SENT["count"] += 1
    return client.generic(method.upper(), path, data=body, content_type=content_type)


def _assert_api_4xx(response, what: str, *, body_ignored: bool = False) -> None:
    if body_ignored and response.status_code < 300:
        return
    assert 400 <= response.status_code < 500, (what, response.status_code, response.content[:300])
    error = response.json()["error"]
    assert error["code"] and error["message"], (what, error)


def test_scrobbling_answers_hostile_bodies_in_listenbrainz_shape(world, tracebacks):
    """/1/submit-listens speaks ListenBrainz's error shape ({code, error}), never a 500."""
    from listening.services import listen_token_create

    _, token = listen_token_create(user=world["user"], name="hostile")
    client = Client(REMOTE_ADDR="198.51.100.9", raise_request_exception=False,
                    HTTP_AUTHORIZATION=f"Token {token}")
    for name, body in BODIES.items():
        response = _send(client, "post", "/1/submit-listens", body, "application/json")
        assert 400 <= response.status_code < 500, (name, response.status_code)
        assert response.json()["code"] == response.status_code and response.json()["error"]
    for charset in NON_TEXT_CHARSETS:
        response = _send(client, "post", "/1/submit-listens", b'{"payload": []}',
                         f"application/json; charset={charset}")
        assert response.status_code == 415 and response.json()["code"] == 415, charset
    assert tracebacks() == []


@pytest.mark.parametrize("method,path,signed_in", WRITE_ENDPOINTS,
                         ids=[f"{m} {p}" for m, p, _ in WRITE_ENDPOINTS])
def test_every_write_endpoint_answers_hostile_bodies_with_a_4xx_envelope(
        world, tracebacks, method, path, signed_in):
    path = path.format(playlist=world["playlist"].pk, user=world["user"].pk)
    client = _api_client(world, signed_in)
    for name, body in BODIES.items():
        response = _send(client, method, path, body, "application/json")
        _assert_api_4xx(response, name, body_ignored=path in BODYLESS and name != "oversize")
        if name == "oversize":
            assert response.status_code == 413, response.content[:300]
    for charset in NON_TEXT_CHARSETS:
        response = _send(client, method, path, b'{"name": "x"}',
                         f"application/json; charset={charset}")
        _assert_api_4xx(response, charset)
        assert response.status_code in (400, 415), (charset, response.status_code)
    assert tracebacks() == []


def test_generate_refuses_nul_and_surrogates_in_context_genres(world, tracebacks):
    client = _api_client(world, True)
    for genre in ("rock\\u0000", "\\ud800", "\\udfffpop"):
        body = ('{"context": {"genres": ["' + genre + '"], "mood": "happy"}, "length": 5}').encode()
        _assert_api_4xx(_send(client, "post", "/api/playlists/generate", body,
                              "application/json"), genre)
    assert tracebacks() == []


def test_validation_messages_never_echo_a_lone_surrogate(world, tracebacks):
    """The testers' 500s came from echoing the bad value back (UTF-8 cannot encode it)."""
    client = _api_client(world, True)
    for path, method, body in [
        ("/api/users", "post", {"username": "\ud800", "email": "x@example.com",
                                "password": "long-enough-pass-9"}),
        ("/api/auth/token", "post", {"username": "someone", "password": "x", "\udc00": 1}),
        ("/api/users/me/preferences", "patch", {"genres": ["\ud800"]}),
        ("/api/interactions", "post", {"trackId": "t", "type": "\ud800"}),
    ]:
        raw = json.dumps(body).encode()  # ensure_ascii: the surrogates travel as \\udXXX
        response = _send(client, method, path, raw, "application/json")
        _assert_api_4xx(response, path)
    assert tracebacks() == []


def test_sign_in_and_sign_up_forms_refuse_hostile_input_with_a_page(world, tracebacks):
    client = Client(REMOTE_ADDR="198.51.100.10", raise_request_exception=False)
    form = "application/x-www-form-urlencoded"
    cases = [
        ("/signin", b"username=a%00b&password=x", form),
        ("/signin?next=not-a-url", b"username=someone&password=x", form),
        ("/signin/code", b"otp=%00", form),
        ("/signup", b"username=nuluser&email=n%40example.com&password=long%00enough-pass-9",
         form),
        ("/signup", b"username=%ED%A0%80&email=s%40example.com&password=long-enough-pass-9",
         form),
        ("/signin", OVERSIZE, form),
    ] + [("/signin", b"username=a&password=b", f"{form}; charset={c}")
         for c in NON_TEXT_CHARSETS] + [
        ("/signup", b"username=a&password=b", f"{form}; charset={c}")
        for c in NON_TEXT_CHARSETS]
    for path, body, content_type in cases:
        SENT["count"] += 1
        response = client.generic("POST", path, data=body, content_type=content_type)
        assert response.status_code < 500, (path, body[:60], content_type,
                                            response.status_code)
    assert client.get("/signin?next=not-a-url").status_code == 200
    from users.models import User

    assert not User.objects.filter(username="nuluser").exists()
    assert tracebacks() == []
