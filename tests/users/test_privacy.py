"""The account's own data: the export holds everything about the user and nothing about anyone
else; deletion needs the password (and a code with 2FA), takes the user's data and hands shared
playlists over."""
import io
import json
import time
import zipfile
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application
from rest_framework.test import APIClient

from listening import services as listening
from listening.models import Listen, ListenToken
from playlists.models import Playlist, PlaylistEvent, PlaylistTrack
from recommendations.models import Interaction
from tests.factories import (
    CollaboratorFactory,
    InteractionFactory,
    PlaylistFactory,
    PlaylistTrackFactory,
    TrackFactory,
    UserFactory,
)
from tests.users.conftest import PASSWORD, login, totp_now
from users.models import TOTPDevice, User

pytestmark = pytest.mark.django_db


def _scrobble(token: str, artist: str, title: str) -> None:
    body = {"listen_type": "single", "payload": [{"listened_at": int(time.time()) - 60,
                                                  "track_metadata": {"artist_name": artist,
                                                                     "track_name": title}}]}
    r = Client().post("/1/submit-listens", json.dumps(body), content_type="application/json",
                      HTTP_AUTHORIZATION=f"Token {token}")
    assert r.status_code == 200, r.content


def _files(response) -> dict:
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)
                                         if response.streaming else response.content))
    return {n: (archive.read(n).decode() if n.endswith(".txt") else json.loads(archive.read(n)))
            for n in archive.namelist()}


def test_export_has_everything_about_the_user_and_nothing_else(logged_in_api_client):
    me, other = logged_in_api_client.user, UserFactory()
    song, secret = TrackFactory(title="Halo", artist="Beyonce"), TrackFactory()
    mine = PlaylistFactory(owner=me, name="Road trip")
    PlaylistTrackFactory(playlist=mine, track=song)
    shared = CollaboratorFactory(user=me, playlist__owner=other,
                                 playlist__name="Office mix").playlist
    PlaylistFactory(owner=other, name="Not yours")
    InteractionFactory(user=me, track=song, type="like")
    InteractionFactory(user=other, track=secret, type="like")
    _, value = listening.listen_token_create(user=me, name="Phone")
    _scrobble(value, "Beyoncé", "Halo")
    app = Application.objects.create(
        name="Phone Player", user=other, client_type=Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris="https://app.example/cb")
    AccessToken.objects.create(user=me, application=app, scope="profile", token="export-tok",
                               expires=timezone.now() + timedelta(hours=1))
    r = logged_in_api_client.get("/api/users/me/export")
    assert r.status_code == 200 and r["Content-Type"] == "application/zip"
    assert f"audotics-{me.username}-" in r["Content-Disposition"]
    files = _files(r)
    assert files["profile.json"]["username"] == me.username
    assert files["profile.json"]["email"] == me.email
    titles = {f["playlist"]["title"] for n, f in files.items() if n.startswith("playlists/")}
    assert titles == {"Road trip", "Office mix"} and str(shared.pk)[:8] in "".join(files)
    road = next(f for n, f in files.items() if n.startswith("playlists/road-trip"))
    assert road["playlist"]["track"][0]["title"] == "Halo"
    assert [like["track"]["id"] for like in files["likes.json"]] == [str(song.pk)]
    assert {i["type"] for i in files["interactions.json"]} == {"like", "play"}
    assert files["listens.json"][0]["track"]["title"] == "Halo"
    assert files["listens.json"][0]["source"] == "scrobble"
    assert files["listen_tokens.json"][0]["name"] == "Phone"
    assert value not in json.dumps(files)  # token values are never stored, so never exported
    assert str(secret.pk) not in json.dumps(files) and "Not yours" not in json.dumps(files)
    assert files["connected_apps.json"] == [{"name": "Phone Player", "scopes": ["profile"],
                                             "since": files["connected_apps.json"][0]["since"]}]
    assert "listens.json" in files["README.txt"]
    assert APIClient().get("/api/users/me/export").status_code == 401


def test_deleting_needs_the_password_and_the_code_with_two_factor(api_client):
    user = UserFactory()
    api_client.force_authenticate(user)
    wrong = api_client.delete("/api/users/me", {"password": "nope"}, format="json")
    assert wrong.status_code == 400 and wrong.json()["error"]["fields"]["password"]
    assert api_client.delete("/api/users/me", {}, format="json").status_code == 400
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    no_code = api_client.delete("/api/users/me", {"password": PASSWORD}, format="json")
    assert no_code.status_code == 400 and no_code.json()["error"]["code"] == "invalid_otp"
    assert User.objects.filter(pk=user.pk).exists()
    done = api_client.delete("/api/users/me", {"password": PASSWORD, "otp": totp_now(device)},
                             format="json")
    assert done.status_code == 204
    assert not User.objects.filter(pk=user.pk).exists()
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()


def test_deletion_takes_the_users_data_and_hands_shared_playlists_over(api_client):
    user, first, second, outsider = UserFactory(), UserFactory(), UserFactory(), UserFactory()
    tokens = login(APIClient(), user.username).json()
    solo = PlaylistFactory(owner=user)
    team = PlaylistFactory(owner=user, is_collaborative=True, name="Team")
    CollaboratorFactory(playlist=team, user=first)
    CollaboratorFactory(playlist=team, user=second)
    PlaylistTrackFactory(playlist=team, track=TrackFactory(), added_by=user)
    theirs = PlaylistFactory(owner=outsider, is_collaborative=True)
    CollaboratorFactory(playlist=theirs, user=user)
    entry = PlaylistTrackFactory(playlist=theirs, track=TrackFactory(), added_by=user)
    InteractionFactory(user=user, type="like")
    _, value = listening.listen_token_create(user=user, name="Phone")
    _scrobble(value, "Someone", "Something")

    api_client.force_authenticate(user)
    assert api_client.delete("/api/users/me", {"password": PASSWORD},
                             format="json").status_code == 204

    assert not Playlist.objects.filter(pk=solo.pk).exists()
    team.refresh_from_db()
    # The longest-standing collaborator owns it now, and is no longer also a collaborator.
    assert team.owner_id == first.pk
    assert list(team.collaborators.values_list("user_id", flat=True)) == [second.pk]
    event = PlaylistEvent.objects.filter(playlist=team).latest("version")
    assert event.data == {"owner_changed": {"id": str(first.pk), "username": first.username}}
    assert PlaylistTrack.objects.get(playlist=team).added_by is None  # "a deleted user"
    entry.refresh_from_db()
    assert entry.added_by is None and entry.playlist_id == theirs.pk
    assert not Interaction.objects.filter(user_id=user.pk).exists()
    assert not Listen.objects.filter(user_id=user.pk).exists()
    assert not ListenToken.objects.filter(user_id=user.pk).exists()
    valid = Client().get("/1/validate-token", HTTP_AUTHORIZATION=f"Token {value}").json()
    assert valid["valid"] is False
    refreshed = APIClient().post("/api/auth/token/refresh", {"refresh": tokens["refresh"]},
                                 format="json")
    assert refreshed.status_code == 401
    bearer = APIClient()
    bearer.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert bearer.get("/api/users/me").status_code == 401
    assert bearer.get(f"/api/users/{user.pk}/recommendations").status_code == 404
