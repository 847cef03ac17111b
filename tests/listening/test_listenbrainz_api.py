"""The ListenBrainz-compatible API, in-process: tokens, submissions, its error shapes and limits,
and listens folding into the next recommendation list."""
import json
import time

import pytest
from django.test import Client

from listening.models import Listen, ListenToken
from recommendations.models import Interaction
from tests.factories import UserFactory
from tests.recommendations.conftest import genre_share, install_embedding_model, make_catalog

pytestmark = pytest.mark.django_db


def _listen(artist="Beyoncé", title="Halo", at=None, **info):
    meta = {"artist_name": artist, "track_name": title}
    if info:
        meta["additional_info"] = info
    return {"listened_at": int(time.time()) - 600 if at is None else at, "track_metadata": meta}


def _submit(client, token, body, **headers):
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    return client.post("/1/submit-listens", data=data, content_type="application/json",
                       HTTP_AUTHORIZATION=f"Token {token}", **headers)


@pytest.fixture
def token(logged_in_api_client):
    r = logged_in_api_client.post("/api/users/me/listen-tokens", {"name": "Phone"},
                                  format="json")
    assert r.status_code == 201
    return r.json()["token"]


def test_tokens_are_shown_once_listed_without_values_and_revoked(logged_in_api_client):
    r = logged_in_api_client.post("/api/users/me/listen-tokens", {"name": "Phone"},
                                  format="json")
    created = r.json()
    assert set(created) == {"id", "name", "token", "createdAt"}
    listed = logged_in_api_client.get("/api/users/me/listen-tokens").json()
    assert listed == [{"id": created["id"], "name": "Phone", "createdAt": created["createdAt"],
                       "lastUsedAt": None}]
    assert created["token"] not in json.dumps(list(ListenToken.objects.values()), default=str)
    client = Client()
    valid = client.get("/1/validate-token", HTTP_AUTHORIZATION=f"Token {created['token']}")
    assert valid.json() == {"code": 200, "message": "Token valid.", "valid": True,
                            "user_name": logged_in_api_client.user.username}
    assert logged_in_api_client.get("/api/users/me/listen-tokens").json()[0]["lastUsedAt"]
    other = UserFactory()
    logged_in_api_client.force_authenticate(other)
    assert logged_in_api_client.delete(
        f"/api/users/me/listen-tokens/{created['id']}").status_code == 404
    logged_in_api_client.force_authenticate(logged_in_api_client.user)
    assert logged_in_api_client.delete(
        f"/api/users/me/listen-tokens/{created['id']}").status_code == 204
    invalid = client.get("/1/validate-token", HTTP_AUTHORIZATION=f"Token {created['token']}")
    assert invalid.json() == {"code": 200, "message": "Token invalid.", "valid": False}
    assert _submit(client, created["token"], {"listen_type": "single",
                                              "payload": [_listen()]}).status_code == 401


def test_single_import_and_playing_now(token, logged_in_api_client):
    client = Client()
    r = _submit(client, token, {"listen_type": "single", "payload": [
        _listen(submission_client="Pano Scrobbler", duration_ms=261000)]})
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    assert int(r["X-RateLimit-Remaining"]) >= 0 and int(r["X-RateLimit-Reset-In"]) > 0
    now = int(time.time())
    batch = [_listen(f"Artist {i % 7}", f"Song {i}", at=now - 3600 - i)
             for i in range(1000)]
    assert _submit(client, token, {"listen_type": "import", "payload": batch}).status_code == 200
    assert _submit(client, token, {"listen_type": "playing_now", "payload": [
        {"track_metadata": {"artist_name": "A", "track_name": "Now"}}]}).status_code == 200
    user = logged_in_api_client.user
    assert Listen.objects.filter(user=user).count() == 1001  # playing_now is not a listen
    single = Listen.objects.get(user=user, track__title="Halo")
    assert (single.source, single.client, single.kind) == ("scrobble", "Pano Scrobbler", "play")
    assert Interaction.objects.filter(user=user, type="play").count() == 1001
    # A scrobbler retrying the same batch adds nothing.
    assert _submit(client, token, {"listen_type": "import", "payload": batch}).status_code == 200
    assert Listen.objects.filter(user=user).count() == 1001


@pytest.mark.parametrize(("body", "status", "message"), [
    (b"{not json", 400, "Cannot parse JSON document"),
    (b"\xff\xfe", 400, "Cannot parse JSON document"),
    ({"listen_type": "single"}, 400, "Invalid JSON document"),
    ({"listen_type": "single", "payload": []}, 400, "does not contain any listens"),
    ({"listen_type": "loud", "payload": [_listen()]}, 400, "valid listen_type"),
    ({"listen_type": "single", "payload": [_listen(), _listen()]}, 400, "more than listen"),
    ({"listen_type": "import", "payload": [_listen()] * 1001}, 400, "Too many listens"),
    ({"listen_type": "single", "payload": [{"track_metadata": {"artist_name": "A",
                                                               "track_name": "T"}}]},
     400, "listened_at"),
    ({"listen_type": "single", "payload": [{**_listen(), "listened_at": "123"}]}, 400,
     "int value for listened_at"),
    ({"listen_type": "single", "payload": [_listen(at=int(time.time()) + 86400)]}, 400,
     "too high"),
    ({"listen_type": "single", "payload": [_listen(at=1000)]}, 400, "too low"),
    ({"listen_type": "single", "payload": [_listen(artist="")]}, 400, "artist_name"),
    ({"listen_type": "single", "payload": [_listen(artist=["A", "B"])]}, 400, "artist_name"),
    ({"listen_type": "single", "payload": [{**_listen(), "extra": 1}]}, 400, "top level keys"),
    ({"listen_type": "single", "payload": [_listen(recording_mbid="nope")]}, 400,
     "recording_mbid MBID format invalid"),
    ({"listen_type": "single", "payload": [_listen(tags=["x" * 65])]}, 400, "tags longer"),
    ({"listen_type": "playing_now", "payload": [_listen()]}, 400, "must not contain listened_at"),
    ({"listen_type": "single", "payload": [_listen(comment="x" * 20000)]}, 400, "too large"),
    ([1, 2], 400, "Invalid JSON document"),
])
def test_bad_submissions_get_listenbrainz_errors_and_lose_nothing(token, logged_in_api_client,
                                                                  body, status, message):
    client = Client()
    assert _submit(client, token, {"listen_type": "single", "payload": [
        _listen("Keep", "Me")]}).status_code == 200
    r = _submit(client, token, body)
    assert r.status_code == status, r.content
    assert r.json()["code"] == status and message in r.json()["error"], r.json()
    assert list(Listen.objects.values_list("track__title", flat=True)) == ["Me"]


def test_authorization_errors(logged_in_api_client):
    client = Client()
    body = json.dumps({"listen_type": "single", "payload": [_listen()]})
    missing = client.post("/1/submit-listens", data=body, content_type="application/json")
    assert missing.status_code == 401 and "Authorization header" in missing.json()["error"]
    wrong = _submit(client, "not-a-token", body)
    assert wrong.status_code == 401 and wrong.json() == {
        "code": 401, "error": "Invalid authorization token."}
    bearer = client.post("/1/submit-listens", data=body, content_type="application/json",
                         HTTP_AUTHORIZATION="Bearer x")
    assert bearer.status_code == 401
    assert client.get("/1/submit-listens").status_code == 405
    assert client.post("/1/validate-token").status_code == 405
    assert client.get("/1/validate-token").status_code == 400


def test_oversized_payload_is_refused(token):
    huge = b'{"listen_type":"import","payload":[' + b" " * (1000 * 10240) + b"]}"
    r = _submit(Client(), token, huge)
    assert r.status_code == 413


def test_submissions_are_rate_limited_per_token(token, settings):
    settings.LISTEN_SUBMIT_RATE = "3/m"
    client = Client()
    codes = [_submit(client, token, {"listen_type": "single",
                                     "payload": [_listen(title=f"S{i}")]}).status_code
             for i in range(4)]
    assert codes == [200, 200, 200, 429]
    limited = _submit(client, token, {"listen_type": "single", "payload": [_listen()]})
    assert limited.json()["code"] == 429 and int(limited["Retry-After"]) > 0
    assert limited["X-RateLimit-Remaining"] == "0"


def test_scrobbled_plays_fold_into_the_next_list(logged_in_api_client, token,
                                                 django_capture_on_commit_callbacks):
    tracks = make_catalog(per_genre=20, artists_per_genre=10)
    user = logged_in_api_client.user
    install_embedding_model(tracks, [user], user_genres={user.pk: "pop"})
    url = f"/api/users/{user.pk}/recommendations?limit=20"
    before = genre_share(logged_in_api_client.get(url).json()["tracks"], "rock")
    rock = [t for t in tracks if t.genre == "rock"][:6]
    now = int(time.time())
    payload = [_listen(t.artist, t.title, at=now - 60 * (i + 1)) for i, t in enumerate(rock)]
    with django_capture_on_commit_callbacks(execute=True):  # the fold-in runs on commit
        assert _submit(Client(), token, {"listen_type": "import", "payload": payload}
                       ).status_code == 200
    after = logged_in_api_client.get(url).json()["tracks"]
    assert genre_share(after, "rock") >= before + 0.4, (before, genre_share(after, "rock"))
    assert not {t["id"] for t in after} & {str(t.pk) for t in rock}
