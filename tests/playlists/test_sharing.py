"""Playlist management beyond tracks: the description, share links and joining by link, the
cover rule; each with its access checks (strangers 404, members who are not the owner 403)."""
import json

import pytest
from rest_framework.test import APIClient

from playlists import selectors, services
from playlists.models import Collaborator, PlaylistEvent, PlaylistShareLink
from playlists.share_tokens import share_token, share_token_link_id
from tests.factories import (
    CollaboratorFactory,
    PlaylistFactory,
    PlaylistTrackFactory,
    TrackFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=user)
    return client


def _envelope(response, status, code=None):
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["message"]
    if code:
        assert error["code"] == code, error
    return error


# ----------------------------------------------------------------------------- description


def test_description_is_set_on_create_and_patch_and_logged(logged_in_api_client):
    client = logged_in_api_client
    created = client.post("/api/playlists", {"name": "Run", "description": "  Fast ones  "},
                          format="json").json()
    assert created["description"] == "Fast ones"
    url = f"/api/playlists/{created['id']}"
    body = client.patch(url, {"description": "Line one\r\nline two"}, format="json").json()
    assert body["description"] == "Line one\nline two" and body["version"] == 1
    event = PlaylistEvent.objects.get(playlist_id=created["id"], version=1)
    assert event.type == "PLAYLIST_UPDATED" and event.data == {"description": "Line one\nline two"}
    # The same value again changes nothing; an empty string clears it.
    assert client.patch(url, {"description": "Line one\nline two"}, format="json").json()[
        "version"] == 1
    assert client.patch(url, {"description": ""}, format="json").json()["description"] == ""
    assert client.get(url).json()["description"] == ""


def test_description_is_validated_and_owner_only(logged_in_api_client):
    owner = logged_in_api_client.user
    playlist = PlaylistFactory(owner=owner, is_collaborative=True)
    url = f"/api/playlists/{playlist.pk}"
    for bad in ["x" * 2001, None, ["a"], {"a": 1}]:
        _envelope(logged_in_api_client.patch(url, {"description": bad}, format="json"), 400,
                  "validation_error")
    member = CollaboratorFactory(playlist=playlist).user
    _envelope(_client(member).patch(url, {"description": "mine"}, format="json"), 403,
              "permission_denied")
    _envelope(_client(UserFactory()).patch(url, {"description": "mine"}, format="json"), 404)
    playlist.refresh_from_db()
    assert playlist.description == "" and playlist.version == 0


def test_description_in_the_list_and_export(logged_in_api_client):
    PlaylistFactory(owner=logged_in_api_client.user, name="Notes", description="For Sundays")
    page = logged_in_api_client.get("/api/playlists").json()
    assert page["results"][0]["description"] == "For Sundays"
    pid = page["results"][0]["id"]
    jspf = json.loads(logged_in_api_client.get(f"/api/playlists/{pid}/export").content)
    assert jspf["playlist"]["annotation"] == "For Sundays"


# ----------------------------------------------------------------------------- share links


def test_share_link_create_is_idempotent_and_shows_again(logged_in_api_client):
    client = logged_in_api_client
    playlist = PlaylistFactory(owner=client.user, is_collaborative=True)
    url = f"/api/playlists/{playlist.pk}/share-link"
    _envelope(client.get(url), 404, "not_found")
    first = client.post(url)
    assert first.status_code == 201, first.content
    body = first.json()
    assert set(body) == {"token", "url", "createdAt", "joinedCount"}
    assert body["url"] == f"http://testserver/playlists/join/{body['token']}"
    again = client.post(url)
    assert again.status_code == 200 and again.json()["token"] == body["token"]
    assert client.get(url).json()["token"] == body["token"]
    assert PlaylistShareLink.objects.filter(playlist=playlist).count() == 1


def test_share_link_tokens_are_signed_ids():
    link = PlaylistShareLink.objects.create(playlist=PlaylistFactory(is_collaborative=True))
    token = share_token(link.pk)
    assert share_token_link_id(token) == link.pk
    head, _, sig = token.partition(".")
    # Another id under the same signature, a changed signature, junk: not links.
    other = "0" * 32
    for forged in [f"{other}.{sig}", f"{head}.{sig[:-1]}x", head, "", "x" * 500, None, 12]:
        assert share_token_link_id(forged) is None


def test_share_link_access_checks(logged_in_api_client):
    owner = logged_in_api_client.user
    playlist = PlaylistFactory(owner=owner, is_collaborative=True)
    member = CollaboratorFactory(playlist=playlist).user
    url = f"/api/playlists/{playlist.pk}/share-link"
    for method in ("get", "post", "delete"):
        _envelope(getattr(_client(member), method)(url), 403, "permission_denied")
        _envelope(getattr(_client(UserFactory()), method)(url), 404)
        _envelope(getattr(APIClient(), method)(url), 401)
    private = PlaylistFactory(owner=owner)
    _envelope(logged_in_api_client.post(f"/api/playlists/{private.pk}/share-link"), 400,
              "not_collaborative")
    assert not PlaylistShareLink.objects.exists()


def test_join_by_link_adds_a_collaborator_once_and_tells_members(logged_in_api_client):
    owner = logged_in_api_client.user
    playlist = PlaylistFactory(owner=owner, is_collaborative=True)
    token = logged_in_api_client.post(f"/api/playlists/{playlist.pk}/share-link").json()["token"]
    friend = UserFactory()
    answer = _client(friend).post("/api/playlists/join", {"token": token}, format="json")
    assert answer.status_code == 200, answer.content
    assert answer.json() == {"playlistId": str(playlist.pk), "joined": True}
    assert Collaborator.objects.filter(playlist=playlist, user=friend).exists()
    event = PlaylistEvent.objects.get(playlist=playlist, version=1)
    assert event.user_id == friend.pk
    assert event.data["collaborator_added"]["username"] == friend.username
    # Again, and the owner: already members, nothing changes.
    assert _client(friend).post("/api/playlists/join", {"token": token},
                                format="json").json()["joined"] is False
    assert logged_in_api_client.post("/api/playlists/join", {"token": token},
                                     format="json").json()["joined"] is False
    playlist.refresh_from_db()
    assert playlist.version == 1
    assert logged_in_api_client.get(
        f"/api/playlists/{playlist.pk}/share-link").json()["joinedCount"] == 1
    # The newcomer now reads the playlist like any collaborator.
    assert _client(friend).get(f"/api/playlists/{playlist.pk}").status_code == 200


def test_a_revoked_forged_or_dormant_link_joins_nobody(logged_in_api_client):
    owner = logged_in_api_client.user
    playlist = PlaylistFactory(owner=owner, is_collaborative=True)
    url = f"/api/playlists/{playlist.pk}/share-link"
    token = logged_in_api_client.post(url).json()["token"]
    stranger = _client(UserFactory())

    # Private again (no collaborators yet): the link sleeps, and wakes when it is shared again.
    logged_in_api_client.patch(f"/api/playlists/{playlist.pk}", {"isCollaborative": False},
                               format="json")
    _envelope(stranger.post("/api/playlists/join", {"token": token}, format="json"), 404,
              "invalid_share_link")
    logged_in_api_client.patch(f"/api/playlists/{playlist.pk}", {"isCollaborative": True},
                               format="json")

    assert logged_in_api_client.delete(url).status_code == 204
    _envelope(logged_in_api_client.delete(url), 404, "not_found")
    _envelope(stranger.post("/api/playlists/join", {"token": token}, format="json"), 404,
              "invalid_share_link")
    head, _, sig = token.partition(".")
    for forged in [f"{'0' * 32}.{sig}", head, "nonsense"]:
        _envelope(stranger.post("/api/playlists/join", {"token": forged}, format="json"), 404,
                  "invalid_share_link")
    for bad in [{}, {"token": ""}, {"token": None}, {"token": "x" * 201}]:
        _envelope(stranger.post("/api/playlists/join", bad, format="json"), 400,
                  "validation_error")
    _envelope(APIClient().post("/api/playlists/join", {"token": token}, format="json"), 401)
    assert not Collaborator.objects.filter(playlist=playlist).exists()
    # A new link is a new token; the old one stays dead.
    fresh = logged_in_api_client.post(url).json()["token"]
    assert fresh != token
    assert stranger.post("/api/playlists/join", {"token": fresh},
                         format="json").json()["joined"] is True


def test_deleting_a_playlist_kills_its_link(logged_in_api_client):
    playlist = PlaylistFactory(owner=logged_in_api_client.user, is_collaborative=True)
    token = logged_in_api_client.post(f"/api/playlists/{playlist.pk}/share-link").json()["token"]
    assert logged_in_api_client.delete(f"/api/playlists/{playlist.pk}").status_code == 204
    _envelope(_client(UserFactory()).post("/api/playlists/join", {"token": token},
                                          format="json"), 404, "invalid_share_link")


def test_share_link_service_refuses_non_owners():
    playlist = PlaylistFactory(is_collaborative=True)
    member = CollaboratorFactory(playlist=playlist).user
    from audotics.exceptions import ApplicationError

    with pytest.raises(ApplicationError) as exc:
        services.share_link_create(playlist=playlist.pk, user=member)
    assert exc.value.status == 403
    with pytest.raises(ApplicationError) as exc:
        services.share_link_create(playlist=playlist.pk, user=UserFactory())
    assert exc.value.status == 404


# ----------------------------------------------------------------------------- cover


def _covered(album, artist="A", cover=True):
    return TrackFactory(album=album, artist=artist, has_cover=cover)


def test_cover_takes_four_distinct_albums_else_the_first_cover():
    a1, a1b, b, nocover, c, d, e = (_covered("One"), _covered("one"), _covered("Two"),
                                   _covered("Three", cover=False), _covered("Four"),
                                   _covered("Five"), _covered("Six"))
    ids = selectors.playlist_cover_track_ids(tracks=[a1, a1b, b, nocover, c, d, e])
    assert ids == [str(t.pk) for t in (a1, b, c, d)]
    # Fewer than four distinct covers: the first alone; none: nothing.
    assert selectors.playlist_cover_track_ids(tracks=[nocover, b, a1, a1b]) == [str(b.pk)]
    assert selectors.playlist_cover_track_ids(tracks=[nocover]) == []
    # Same album name by different artists are different albums; no album: its own art.
    x, y, z, w = (_covered("Hits", "X"), _covered("Hits", "Y"), _covered(""), _covered(""))
    assert len(selectors.playlist_cover_track_ids(tracks=[x, y, z, w])) == 4


def test_snapshot_selector_carries_the_details():
    playlist = PlaylistFactory(name="Snap", description="About", is_collaborative=True,
                               context={"mood": "calm"})
    member = CollaboratorFactory(playlist=playlist).user
    PlaylistTrackFactory(playlist=playlist, position=0)
    snap = selectors.playlist_snapshot(playlist_id=playlist.pk)
    assert snap["version"] == 0 and len(snap["tracks"]) == 1
    details = snap["playlist"]
    assert (details["name"], details["description"], details["context"],
            details["is_collaborative"]) == ("Snap", "About", {"mood": "calm"}, True)
    assert [c["username"] for c in details["collaborators"]] == [member.username]
