import json
import uuid

import pytest

from playlists.models import Collaborator, Playlist, PlaylistEvent
from recommendations.models import Interaction
from tests.factories import (
    CollaboratorFactory,
    PlaylistFactory,
    PlaylistTrackFactory,
    TrackFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def _envelope(response, status, code=None):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"} and body["error"]["message"]
    if code:
        assert body["error"]["code"] == code, body
    return body["error"]


def _client_for(user):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user=user)
    return client


def _playlist(owner, n=0, **kwargs):
    playlist = PlaylistFactory(owner=owner, **kwargs)
    tracks = [TrackFactory() for _ in range(n)]
    for i, track in enumerate(tracks):
        PlaylistTrackFactory(playlist=playlist, track=track, position=i)
    return playlist, tracks


def _ids(body):
    return [t["id"] for t in body["tracks"]]


def _listed(client, playlist):
    """The playlist as a fresh GET shows it: a track write answers only its change."""
    return client.get(f"/api/playlists/{playlist.pk}").json()


# ----------------------------------------------------------------------------- create, list


def test_playlist_create_returns_camel_case_playlist(logged_in_api_client):
    response = logged_in_api_client.post(
        "/api/playlists",
        {"name": " Morning ", "isCollaborative": True,
         "context": {"mood": "calm", "timeOfDay": "morning", "energy": [0.1, 0.4]}},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"id", "name", "description", "owner", "isCollaborative", "context",
                         "version", "tracks", "collaborators", "createdAt", "updatedAt"}
    assert body["name"] == "Morning" and body["isCollaborative"] is True and body["version"] == 0
    assert body["description"] == ""
    assert body["owner"] == {"id": str(logged_in_api_client.user.pk),
                             "username": logged_in_api_client.user.username}
    assert body["context"] == {"mood": "calm", "timeOfDay": "morning", "energy": [0.1, 0.4]}
    assert body["tracks"] == [] and body["collaborators"] == []


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"name": ""},
        {"name": "x" * 201},
        {"name": "ok", "context": "calm"},
        {"name": "ok", "context": {"energy": [0.9, 0.1]}},
        {"name": "ok", "context": {"energy": [0.1]}},
        {"name": "ok", "context": {"tempo": ["a", "b"]}},
        {"name": "ok", "context": {"mood": "m" * 51}},
        {"name": "ok", "context": {"genres": "rock"}},
        {"name": "ok", "isCollaborative": "perhaps"},
    ],
)
def test_playlist_create_rejects_malformed_input(logged_in_api_client, payload):
    response = logged_in_api_client.post("/api/playlists", payload, format="json")
    _envelope(response, 400, "validation_error")


def test_playlist_create_rejects_non_object_and_broken_json(logged_in_api_client):
    _envelope(logged_in_api_client.post("/api/playlists", [1, 2], format="json"), 400)
    response = logged_in_api_client.generic(
        "POST", "/api/playlists", "{not json", content_type="application/json"
    )
    _envelope(response, 400, "parse_error")


def test_playlist_endpoints_require_authentication(api_client):
    playlist, _ = _playlist(UserFactory())
    _envelope(api_client.get("/api/playlists"), 401, "not_authenticated")
    _envelope(api_client.post("/api/playlists", {"name": "x"}, format="json"), 401)
    _envelope(api_client.get(f"/api/playlists/{playlist.pk}"), 401)
    _envelope(api_client.put(f"/api/playlists/{playlist.pk}/tracks", {}, format="json"), 401)
    _envelope(api_client.get(f"/api/playlists/{playlist.pk}/export"), 401)


def test_playlist_list_shows_own_and_collaborative_only(logged_in_api_client):
    me = logged_in_api_client.user
    mine, _ = _playlist(me)
    shared = CollaboratorFactory(user=me).playlist
    _playlist(UserFactory())
    response = logged_in_api_client.get("/api/playlists")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2 and {p["id"] for p in body["results"]} == {str(mine.pk),
                                                                         str(shared.pk)}
    assert set(body) == {"count", "next", "previous", "results"}


# ----------------------------------------------------------------------------- read, permissions


def test_playlist_detail_lists_tracks_in_order_with_who_added_them(logged_in_api_client):
    playlist, tracks = _playlist(logged_in_api_client.user, n=3)
    body = logged_in_api_client.get(f"/api/playlists/{playlist.pk}").json()
    assert _ids(body) == [str(t.pk) for t in tracks]
    entry = body["tracks"][0]
    assert {"id", "title", "artist", "album", "durationMs", "features", "metadata", "hasAudio",
            "hasCover", "analysis", "addedBy", "addedAt", "position"} == set(entry)
    assert entry["addedBy"]["username"] == logged_in_api_client.user.username
    assert [t["position"] for t in body["tracks"]] == [0, 1, 2]


def test_strangers_get_404_and_malformed_ids_404(logged_in_api_client):
    playlist, tracks = _playlist(UserFactory(), n=1)
    for method, path, data in [
        ("get", f"/api/playlists/{playlist.pk}", None),
        ("patch", f"/api/playlists/{playlist.pk}", {"name": "mine now"}),
        ("delete", f"/api/playlists/{playlist.pk}", None),
        ("put", f"/api/playlists/{playlist.pk}/tracks", {"trackIds": [str(tracks[0].pk)]}),
        ("delete", f"/api/playlists/{playlist.pk}/tracks", {"trackIds": [str(tracks[0].pk)]}),
        ("post", f"/api/playlists/{playlist.pk}/tracks/move",
         {"trackId": str(tracks[0].pk), "position": 0}),
        ("post", f"/api/playlists/{playlist.pk}/collaborators", {"username": "someone"}),
        ("delete", f"/api/playlists/{playlist.pk}/collaborators/{uuid.uuid4()}", None),
        ("get", f"/api/playlists/{playlist.pk}/export", None),
        ("get", "/api/playlists/not-a-uuid", None),
        ("get", f"/api/playlists/{uuid.uuid4()}", None),
        ("put", "/api/playlists/12/tracks", {"trackIds": []}),
    ]:
        response = getattr(logged_in_api_client, method)(path, data, format="json")
        _envelope(response, 404, "not_found")
    playlist.refresh_from_db()
    assert playlist.version == 0 and playlist.name != "mine now"


def test_collaborator_reads_and_edits_tracks_but_cannot_rename_delete_or_invite():
    collaborator = CollaboratorFactory()
    playlist = collaborator.playlist
    client = _client_for(collaborator.user)
    track = TrackFactory()
    assert client.get(f"/api/playlists/{playlist.pk}").status_code == 200
    response = client.put(f"/api/playlists/{playlist.pk}/tracks", {"trackIds": [str(track.pk)]},
                          format="json")
    assert response.status_code == 200
    assert response.json()["data"]["tracks"][0]["addedBy"]["id"] == str(collaborator.user.pk)
    _envelope(client.patch(f"/api/playlists/{playlist.pk}", {"name": "x"}, format="json"), 403,
              "permission_denied")
    _envelope(client.delete(f"/api/playlists/{playlist.pk}"), 403)
    _envelope(client.post(f"/api/playlists/{playlist.pk}/collaborators",
                          {"username": UserFactory().username}, format="json"), 403)
    assert Playlist.objects.filter(pk=playlist.pk).exists()


# ----------------------------------------------------------------------------- update, delete


def test_playlist_patch_by_owner_bumps_version_and_logs(logged_in_api_client):
    playlist, _ = _playlist(logged_in_api_client.user)
    response = logged_in_api_client.patch(
        f"/api/playlists/{playlist.pk}",
        {"name": "Evening", "isCollaborative": True, "context": {"activity": "cooking"}},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["name"], body["isCollaborative"], body["version"]) == ("Evening", True, 1)
    assert body["context"] == {"activity": "cooking"}
    event = PlaylistEvent.objects.get(playlist=playlist)
    assert (event.version, event.type, event.user_id) == (1, "PLAYLIST_UPDATED",
                                                          logged_in_api_client.user.pk)


def test_playlist_patch_with_stale_version_conflicts(logged_in_api_client):
    playlist, _ = _playlist(logged_in_api_client.user)
    response = logged_in_api_client.patch(
        f"/api/playlists/{playlist.pk}", {"name": "x", "expectedVersion": 3}, format="json"
    )
    _envelope(response, 409, "version_conflict")
    playlist.refresh_from_db()
    assert playlist.version == 0


def test_playlist_delete_by_owner(logged_in_api_client):
    playlist, _ = _playlist(logged_in_api_client.user, n=2)
    assert logged_in_api_client.delete(f"/api/playlists/{playlist.pk}").status_code == 204
    assert not Playlist.objects.filter(pk=playlist.pk).exists()
    _envelope(logged_in_api_client.get(f"/api/playlists/{playlist.pk}"), 404)


# ----------------------------------------------------------------------------- tracks


def test_tracks_add_appends_by_default_and_inserts_at_position(logged_in_api_client):
    playlist, tracks = _playlist(logged_in_api_client.user, n=2)
    new = TrackFactory.create_batch(3)
    url = f"/api/playlists/{playlist.pk}/tracks"
    body = logged_in_api_client.put(url, {"trackIds": [str(new[0].pk)]}, format="json").json()
    assert (body["id"], body["version"], body["type"]) == (str(playlist.pk), 1, "TRACK_ADDED")
    assert body["data"]["position"] == 2 and _ids(body["data"]) == [str(new[0].pk)]
    assert _ids(_listed(logged_in_api_client, playlist)) == [
        str(tracks[0].pk), str(tracks[1].pk), str(new[0].pk)]
    body = logged_in_api_client.put(
        url, {"trackIds": [str(new[1].pk), str(new[2].pk)], "position": 1, "expectedVersion": 1},
        format="json",
    ).json()
    assert body["version"] == 2 and body["data"]["position"] == 1
    assert [(t["id"], t["position"]) for t in body["data"]["tracks"]] == [
        (str(new[1].pk), 1), (str(new[2].pk), 2)]
    listed = _listed(logged_in_api_client, playlist)
    assert _ids(listed) == [str(t.pk) for t in [tracks[0], new[1], new[2], tracks[1], new[0]]]
    assert [t["position"] for t in listed["tracks"]] == [0, 1, 2, 3, 4]
    assert Interaction.objects.filter(user=logged_in_api_client.user, type="add").count() == 3


def test_track_write_answers_the_change_its_event_carries_not_the_playlist(
        logged_in_api_client):
    """The answer of an add to a long playlist holds the new entry only, and its `data` is the
    socket event's (camelCased as on the wire)."""
    from collaboration.broadcast import to_wire

    playlist, _ = _playlist(logged_in_api_client.user, n=300)
    track = TrackFactory()
    response = logged_in_api_client.put(f"/api/playlists/{playlist.pk}/tracks",
                                        {"trackIds": [str(track.pk)]}, format="json")
    body = response.json()
    event = PlaylistEvent.objects.get(playlist=playlist, version=body["version"])
    assert body["data"] == to_wire(event.data)
    assert [t["id"] for t in body["data"]["tracks"]] == [str(track.pk)]
    small, _ = _playlist(logged_in_api_client.user, n=1)
    other = logged_in_api_client.put(f"/api/playlists/{small.pk}/tracks",
                                     {"trackIds": [str(TrackFactory().pk)]}, format="json")
    assert abs(len(response.content) - len(other.content)) < 64  # same size, 300 tracks or 1


def test_tracks_add_errors(logged_in_api_client):
    playlist, tracks = _playlist(logged_in_api_client.user, n=1)
    url = f"/api/playlists/{playlist.pk}/tracks"
    other = TrackFactory()
    _envelope(logged_in_api_client.put(url, {"trackIds": [str(tracks[0].pk)]}, format="json"),
              409, "duplicate_track")
    unknown = str(uuid.uuid4())
    error = _envelope(logged_in_api_client.put(url, {"trackIds": [unknown]}, format="json"), 400,
                      "unknown_tracks")
    assert error["fields"]["trackIds"] == [unknown]
    _envelope(logged_in_api_client.put(url, {"trackIds": [str(other.pk)] * 2}, format="json"),
              400, "duplicate_ids")
    _envelope(logged_in_api_client.put(url, {"trackIds": [str(other.pk)], "expectedVersion": 7},
                                       format="json"), 409, "version_conflict")
    _envelope(logged_in_api_client.put(url, {"trackIds": [str(uuid.uuid4())] * 501},
                                       format="json"), 413, "too_large")
    for bad in [{}, {"trackIds": []}, {"trackIds": "abc"}, {"trackIds": ["nope"]},
                {"trackIds": [str(other.pk)], "position": -1},
                {"trackIds": [str(other.pk)], "position": "first"},
                {"trackIds": [None]}, {"trackIds": [{"a": 1}]}]:
        _envelope(logged_in_api_client.put(url, bad, format="json"), 400, "validation_error")
    playlist.refresh_from_db()
    assert playlist.version == 0 and playlist.entries.count() == 1


def test_tracks_add_refuses_past_playlist_limit(logged_in_api_client, monkeypatch):
    from playlists.services import playlists as service_module

    monkeypatch.setattr(service_module, "MAX_TRACKS_PER_PLAYLIST", 2)
    playlist, _ = _playlist(logged_in_api_client.user, n=2)
    response = logged_in_api_client.put(f"/api/playlists/{playlist.pk}/tracks",
                                        {"trackIds": [str(TrackFactory().pk)]}, format="json")
    _envelope(response, 413, "too_large")


def test_tracks_remove_closes_gaps(logged_in_api_client):
    playlist, tracks = _playlist(logged_in_api_client.user, n=5)
    response = logged_in_api_client.delete(
        f"/api/playlists/{playlist.pk}/tracks",
        {"trackIds": [str(tracks[1].pk), str(tracks[3].pk)], "expectedVersion": 0}, format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["version"], body["type"]) == (1, "TRACK_REMOVED")
    assert body["data"] == {"trackIds": [str(tracks[1].pk), str(tracks[3].pk)]}
    listed = _listed(logged_in_api_client, playlist)
    assert _ids(listed) == [str(tracks[i].pk) for i in (0, 2, 4)]
    assert [t["position"] for t in listed["tracks"]] == [0, 1, 2]
    error = _envelope(logged_in_api_client.delete(
        f"/api/playlists/{playlist.pk}/tracks", {"trackIds": [str(tracks[1].pk)]}, format="json"
    ), 409, "not_in_playlist")
    assert error["fields"]["trackIds"] == [str(tracks[1].pk)]


def test_track_move_both_directions(logged_in_api_client):
    playlist, tracks = _playlist(logged_in_api_client.user, n=4)
    url = f"/api/playlists/{playlist.pk}/tracks/move"
    body = logged_in_api_client.post(url, {"trackId": str(tracks[0].pk), "position": 2},
                                     format="json").json()
    assert (body["type"], body["data"]) == ("TRACK_MOVED", {
        "trackId": str(tracks[0].pk), "fromPosition": 0, "toPosition": 2})
    assert _ids(_listed(logged_in_api_client, playlist)) == [
        str(tracks[i].pk) for i in (1, 2, 0, 3)]
    logged_in_api_client.post(url, {"trackId": str(tracks[3].pk), "position": 0,
                                    "expectedVersion": 1}, format="json")
    assert _ids(_listed(logged_in_api_client, playlist)) == [
        str(tracks[i].pk) for i in (3, 1, 2, 0)]
    body = logged_in_api_client.post(url, {"trackId": str(tracks[3].pk), "position": 99},
                                     format="json").json()
    assert body["data"]["toPosition"] == 3 and body["version"] == 3
    assert _ids(_listed(logged_in_api_client, playlist))[-1] == str(tracks[3].pk)
    _envelope(logged_in_api_client.post(url, {"trackId": str(uuid.uuid4()), "position": 0},
                                        format="json"), 409, "not_in_playlist")
    _envelope(logged_in_api_client.post(url, {"trackId": str(tracks[0].pk)}, format="json"), 400)
    _envelope(logged_in_api_client.post(url, {"trackId": "x", "position": 1}, format="json"), 400)


# ----------------------------------------------------------------------------- collaborators


def test_collaborator_invite_and_remove(logged_in_api_client):
    playlist, _ = _playlist(logged_in_api_client.user, is_collaborative=True)
    friend = UserFactory(username="Friend")
    url = f"/api/playlists/{playlist.pk}/collaborators"
    response = logged_in_api_client.post(url, {"username": "friend"}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["id"] == str(friend.pk) and response.json()["role"] == "editor"
    _envelope(logged_in_api_client.post(url, {"username": "friend"}, format="json"), 409,
              "already_member")
    _envelope(logged_in_api_client.post(url, {"username": "nobody-here"}, format="json"), 400,
              "unknown_user")
    _envelope(logged_in_api_client.post(url, {}, format="json"), 400, "validation_error")
    body = logged_in_api_client.get(f"/api/playlists/{playlist.pk}").json()
    assert body["collaborators"][0]["username"] == "Friend"
    assert _client_for(friend).get(f"/api/playlists/{playlist.pk}").status_code == 200
    assert logged_in_api_client.delete(f"{url}/{friend.pk}").status_code == 204
    _envelope(_client_for(friend).get(f"/api/playlists/{playlist.pk}"), 404)
    _envelope(logged_in_api_client.delete(f"{url}/{friend.pk}"), 404)
    _envelope(logged_in_api_client.delete(f"{url}/not-a-uuid"), 404)


def test_collaborator_invite_needs_collaborative_playlist(logged_in_api_client):
    playlist, _ = _playlist(logged_in_api_client.user)
    UserFactory(username="pal")
    response = logged_in_api_client.post(f"/api/playlists/{playlist.pk}/collaborators",
                                         {"username": "pal"}, format="json")
    _envelope(response, 400, "not_collaborative")


def test_collaborator_may_leave_and_private_switch_needs_no_collaborators(logged_in_api_client):
    collaborator = CollaboratorFactory(playlist__owner=logged_in_api_client.user)
    playlist = collaborator.playlist
    _envelope(logged_in_api_client.patch(f"/api/playlists/{playlist.pk}",
                                         {"isCollaborative": False}, format="json"), 409,
              "has_collaborators")
    client = _client_for(collaborator.user)
    response = client.delete(f"/api/playlists/{playlist.pk}/collaborators/{collaborator.user.pk}")
    assert response.status_code == 204
    assert not Collaborator.objects.filter(pk=collaborator.pk).exists()


# ----------------------------------------------------------------------------- export


def test_export_jspf(logged_in_api_client):
    playlist, tracks = _playlist(logged_in_api_client.user, n=2, name="Road Trip")
    response = logged_in_api_client.get(f"/api/playlists/{playlist.pk}/export?format=jspf")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="road-trip.jspf"'
    body = json.loads(response.content)
    assert body["playlist"]["title"] == "Road Trip"
    assert body["playlist"]["creator"] == logged_in_api_client.user.username
    first = body["playlist"]["track"][0]
    assert first["title"] == tracks[0].title and first["creator"] == tracks[0].artist
    assert first["album"] == tracks[0].album and first["duration"] == tracks[0].duration_ms
    assert first["identifier"] == [f"urn:uuid:{tracks[0].pk}"]
    default = logged_in_api_client.get(f"/api/playlists/{playlist.pk}/export")
    assert json.loads(default.content) == body


def test_export_m3u_escapes_newlines(logged_in_api_client):
    playlist, tracks = _playlist(logged_in_api_client.user, n=1, name="Mix")
    tracks[0].title = "Line\n#EXTINF:1,evil"
    tracks[0].duration_ms = 181_400
    tracks[0].save()
    response = logged_in_api_client.get(f"/api/playlists/{playlist.pk}/export?format=m3u")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("audio/x-mpegurl")
    assert response["Content-Disposition"] == 'attachment; filename="mix.m3u"'
    lines = response.content.decode().splitlines()
    assert lines[0] == "#EXTM3U"
    assert lines[2] == f"#EXTINF:181,{tracks[0].artist} - Line #EXTINF:1,evil"
    assert lines[3] == f"urn:uuid:{tracks[0].pk}"
    _envelope(logged_in_api_client.get(f"/api/playlists/{playlist.pk}/export?format=pdf"), 400,
              "validation_error")


def test_openapi_schema_lists_playlist_operations(api_client):
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    text = response.content.decode()
    for operation in ["playlist_create", "playlist_tracks_add", "playlist_track_move",
                      "playlist_collaborator_add", "playlist_export"]:
        assert operation in text
