import asyncio
import json
import uuid

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from rest_framework.test import APIClient

from playlists import services
from playlists.models import Playlist, PlaylistEvent
from tests.collaboration.conftest import closed_with, connect, receive_until
from tests.factories import (
    CollaboratorFactory,
    PlaylistFactory,
    PlaylistTrackFactory,
    TrackFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)

db = database_sync_to_async


async def next_frame(ws, timeout=3):
    """The next frame that is not PRESENCE."""
    while True:
        frame = await ws.receive_json_from(timeout=timeout)
        if frame["type"] != "PRESENCE":
            return frame


def _setup(n_tracks=2):
    owner = UserFactory()
    playlist = PlaylistFactory(owner=owner, is_collaborative=True)
    tracks = [TrackFactory() for _ in range(n_tracks)]
    for i, track in enumerate(tracks):
        PlaylistTrackFactory(playlist=playlist, track=track, position=i)
    return owner, playlist, tracks


async def test_connect_sends_snapshot_with_tracks_and_presence():
    owner, playlist, tracks = await db(_setup)()
    ws = await connect(owner, playlist.pk)
    snapshot = await ws.receive_json_from(timeout=3)
    assert snapshot["type"] == "SNAPSHOT" and snapshot["version"] == 0
    assert [t["id"] for t in snapshot["tracks"]] == [str(t.pk) for t in tracks]
    assert {"durationMs", "addedBy", "addedAt", "position"} <= set(snapshot["tracks"][0])
    assert [p["id"] for p in snapshot["presence"]] == [str(owner.pk)]
    await ws.disconnect()


async def test_connect_without_or_with_bad_ticket_closes_4401():
    owner, playlist, _ = await db(_setup)()
    for ticket in [None, "forged", ""]:
        ws = await connect(None, playlist.pk, ticket=ticket)
        assert await closed_with(ws) == 4401


async def test_ticket_is_single_use():
    from tests.collaboration.conftest import ticket_for

    owner, playlist, _ = await db(_setup)()
    ticket = await ticket_for(owner)
    first = await connect(owner, playlist.pk, ticket=ticket)
    assert (await first.receive_json_from(timeout=3))["type"] == "SNAPSHOT"
    second = await connect(owner, playlist.pk, ticket=ticket)
    assert await closed_with(second) == 4401
    await first.disconnect()


async def test_session_cookie_authenticates():
    from django.conf import settings
    from django.test import Client

    owner, playlist, _ = await db(_setup)()

    def login():
        client = Client()
        client.force_login(owner)
        return client.cookies[settings.SESSION_COOKIE_NAME].value

    session = await db(login)()
    cookie = f"{settings.SESSION_COOKIE_NAME}={session}".encode()
    ws = await connect(None, playlist.pk, headers=[(b"cookie", cookie)])
    assert (await ws.receive_json_from(timeout=3))["type"] == "SNAPSHOT"
    await ws.disconnect()


async def test_stranger_gets_4403_and_missing_or_malformed_playlist_4404():
    owner, playlist, _ = await db(_setup)()
    stranger = await db(UserFactory)()
    ws = await connect(stranger, playlist.pk)
    assert await closed_with(ws) == 4403
    ws = await connect(owner, uuid.uuid4())
    assert await closed_with(ws) == 4404
    ws = await connect(owner, "not-a-uuid")
    assert await closed_with(ws) == 4404


async def test_foreign_origin_is_refused_by_full_application():
    from audotics.asgi import application

    owner, playlist, _ = await db(_setup)()
    ticket = await __import__("tests.collaboration.conftest", fromlist=["x"]).ticket_for(owner)
    ws = WebsocketCommunicator(application, f"/ws/playlists/{playlist.pk}/?ticket={ticket}",
                               headers=[(b"origin", b"https://evil.example"),
                                        (b"host", b"localhost")])
    connected, code = await ws.connect(timeout=5)
    assert not connected
    # Same host, another port or scheme: another origin (the host-only check let these in).
    for origin in (b"http://localhost:6666", b"https://localhost", b"null", b"http://localhost.evil"):
        other = WebsocketCommunicator(application, f"/ws/playlists/{playlist.pk}/?ticket={ticket}",
                                      headers=[(b"origin", origin), (b"host", b"localhost")])
        connected, _ = await other.connect(timeout=5)
        assert not connected, origin
    ok = WebsocketCommunicator(application, f"/ws/playlists/{playlist.pk}/?ticket={ticket}",
                               headers=[(b"origin", b"http://localhost"), (b"host", b"localhost")])
    connected, _ = await ok.connect(timeout=5)
    assert connected
    assert (await ok.receive_json_from(timeout=3))["type"] == "SNAPSHOT"
    await ok.disconnect()


async def test_rest_change_reaches_every_member_once_in_order():
    owner, playlist, tracks = await db(_setup)()
    friend = (await db(CollaboratorFactory)(playlist=playlist)).user
    ws_owner = await connect(owner, playlist.pk)
    ws_friend = await connect(friend, playlist.pk)
    await receive_until(ws_owner, "SNAPSHOT")
    await receive_until(ws_friend, "SNAPSHOT")
    new = await db(TrackFactory)()

    def rest():
        client = APIClient()
        client.force_authenticate(owner)
        r1 = client.put(f"/api/playlists/{playlist.pk}/tracks", {"trackIds": [str(new.pk)],
                        "position": 0}, format="json")
        r2 = client.post(f"/api/playlists/{playlist.pk}/tracks/move",
                         {"trackId": str(new.pk), "position": 2}, format="json")
        r3 = client.delete(f"/api/playlists/{playlist.pk}/tracks",
                           {"trackIds": [str(tracks[0].pk)]}, format="json")
        r4 = client.patch(f"/api/playlists/{playlist.pk}", {"name": "Renamed"}, format="json")
        return [r.status_code for r in (r1, r2, r3, r4)]

    assert await db(rest)() == [200, 200, 200, 200]
    for ws in (ws_owner, ws_friend):
        added = await receive_until(ws, "TRACK_ADDED")
        assert added["version"] == 1 and added["playlistId"] == str(playlist.pk)
        assert added["userId"] == str(owner.pk) and isinstance(added["timestamp"], int)
        assert added["data"]["position"] == 0
        assert added["data"]["tracks"][0]["id"] == str(new.pk)
        moved = await receive_until(ws, "TRACK_MOVED")
        assert moved["version"] == 2
        assert moved["data"] == {"trackId": str(new.pk), "fromPosition": 0, "toPosition": 2}
        removed = await receive_until(ws, "TRACK_REMOVED")
        assert removed["version"] == 3 and removed["data"] == {"trackIds": [str(tracks[0].pk)]}
        updated = await receive_until(ws, "PLAYLIST_UPDATED")
        assert updated["version"] == 4 and updated["data"] == {"name": "Renamed"}
    await ws_owner.disconnect()
    await ws_friend.disconnect()


async def test_socket_writes_ack_and_broadcast():
    owner, playlist, tracks = await db(_setup)()
    new = await db(TrackFactory)()
    ws = await connect(owner, playlist.pk)
    await receive_until(ws, "SNAPSHOT")
    await ws.send_json_to({"type": "ADD_TRACKS", "trackIds": [str(new.pk)], "position": 1,
                           "expectedVersion": 0, "requestId": "r1"})
    frames = [await next_frame(ws) for _ in range(2)]
    by_type = {f["type"]: f for f in frames}
    assert by_type["ACK"] == {"type": "ACK", "requestId": "r1", "version": 1}
    assert by_type["TRACK_ADDED"]["version"] == 1
    await ws.send_json_to({"type": "MOVE_TRACK", "trackId": str(new.pk), "position": 0,
                           "requestId": "r2"})
    assert (await receive_until(ws, "ACK"))["version"] == 2
    await ws.send_json_to({"type": "REMOVE_TRACKS", "trackIds": [str(tracks[1].pk)],
                           "requestId": "r3"})
    assert (await receive_until(ws, "ACK"))["version"] == 3
    await ws.send_json_to({"type": "ADD_TRACKS", "trackIds": [str(new.pk)], "requestId": "dup"})
    error = await receive_until(ws, "ERROR")
    assert error["requestId"] == "dup" and error["error"]["code"] == "duplicate_track"
    await ws.send_json_to({"type": "ADD_TRACKS", "trackIds": [str(tracks[1].pk)],
                           "expectedVersion": 1, "requestId": "old"})
    error = await receive_until(ws, "ERROR")
    assert error["error"]["code"] == "version_conflict"
    order = await db(lambda: list(Playlist.objects.get(pk=playlist.pk).entries.order_by(
        "position").values_list("track_id", flat=True)))()
    assert order == [new.pk, tracks[0].pk]
    await ws.disconnect()


@pytest.mark.parametrize(
    "frame, code",
    [
        ("not json", "parse_error"),
        ("[1, 2]", "validation_error"),
        ('{"type": "DANCE"}', "unknown_type"),
        ('{"noType": 1}', "unknown_type"),
        ('{"type": "ADD_TRACKS", "trackIds": "abc", "requestId": "x"}', "validation_error"),
        ('{"type": "ADD_TRACKS", "trackIds": [1, {}], "requestId": "x"}', "validation_error"),
        ('{"type": "MOVE_TRACK", "trackId": "a", "position": -1}', "validation_error"),
        ('{"type": "REMOVE_TRACKS", "trackIds": [], "requestId": {"a": 1}}', "validation_error"),
        (json.dumps({"type": "ADD_TRACKS", "trackIds": [str(uuid.uuid4())]}), "unknown_tracks"),
        (json.dumps({"type": "ADD_TRACKS", "trackIds": [str(uuid.uuid4())] * 501}), "too_large"),
        (json.dumps({"type": "RESYNC", "pad": "x" * 70_000}), "too_large"),
    ],
)
async def test_malformed_frames_get_error_frames(frame, code):
    owner, playlist, _ = await db(_setup)()
    ws = await connect(owner, playlist.pk)
    await receive_until(ws, "SNAPSHOT")
    await ws.send_to(text_data=frame)
    error = await receive_until(ws, "ERROR")
    assert error["error"]["code"] == code and error["error"]["message"]
    # The connection survives and still answers.
    await ws.send_json_to({"type": "RESYNC"})
    assert (await receive_until(ws, "SNAPSHOT"))["version"] == 0
    await ws.disconnect()


async def test_binary_frames_and_rate_limit(monkeypatch):
    monkeypatch.setattr("collaboration.consumers.RATE_PER_SECOND", 0.0)  # no refill: deterministic
    owner, playlist, _ = await db(_setup)()
    ws = await connect(owner, playlist.pk)
    await receive_until(ws, "SNAPSHOT")
    await ws.send_to(bytes_data=b"\x00\x01")
    assert (await receive_until(ws, "ERROR"))["error"]["code"] == "unsupported_frame"
    for _ in range(60):
        await ws.send_json_to({"type": "PING"})
    codes = []
    for _ in range(60):
        frame = await next_frame(ws)
        codes.append(frame["type"] if frame["type"] != "ERROR" else frame["error"]["code"])
    assert codes.count("PONG") == 19 and codes.count("rate_limited") == 41
    await ws.disconnect()


async def test_resync_sends_fresh_snapshot():
    owner, playlist, tracks = await db(_setup)()
    ws = await connect(owner, playlist.pk)
    await receive_until(ws, "SNAPSHOT")
    await db(services.playlist_tracks_remove)(playlist=playlist.pk, user=owner,
                                               track_ids=[tracks[0].pk])
    await ws.send_json_to({"type": "RESYNC"})
    snapshot = await receive_until(ws, "SNAPSHOT")
    assert snapshot["version"] == 1 and [t["id"] for t in snapshot["tracks"]] == [str(tracks[1].pk)]
    await ws.disconnect()


async def test_removed_member_is_disconnected_with_4403_and_presence_updates():
    owner, playlist, _ = await db(_setup)()
    friend = (await db(CollaboratorFactory)(playlist=playlist)).user
    ws_owner = await connect(owner, playlist.pk)
    await receive_until(ws_owner, "SNAPSHOT")
    ws_friend = await connect(friend, playlist.pk)
    snapshot = await receive_until(ws_friend, "SNAPSHOT")
    assert {p["id"] for p in snapshot["presence"]} == {str(owner.pk), str(friend.pk)}
    joined = await receive_until(ws_owner, "PRESENCE")
    if joined["userId"] == str(owner.pk):  # the owner's own join comes first
        joined = await receive_until(ws_owner, "PRESENCE")
    assert joined["data"]["action"] == "join" and joined["userId"] == str(friend.pk)
    assert len(joined["data"]["presence"]) == 2

    await db(services.playlist_collaborator_remove)(playlist=playlist.pk, user=owner,
                                                     collaborator_id=friend.pk)
    assert await closed_with(ws_friend) == 4403
    updated = await receive_until(ws_owner, "PLAYLIST_UPDATED")
    assert updated["data"] == {"collaboratorRemoved": {"id": str(friend.pk)}}
    left = await receive_until(ws_owner, "PRESENCE")
    assert left["data"]["action"] == "leave"
    assert [p["id"] for p in left["data"]["presence"]] == [str(owner.pk)]
    # And they cannot come back.
    again = await connect(friend, playlist.pk)
    assert await closed_with(again) == 4403
    await ws_owner.disconnect()


async def test_deleted_playlist_closes_sockets_with_4404():
    owner, playlist, _ = await db(_setup)()
    ws = await connect(owner, playlist.pk)
    await receive_until(ws, "SNAPSHOT")
    await db(services.playlist_delete)(playlist=playlist.pk, user=owner)
    event = await receive_until(ws, "PLAYLIST_UPDATED")
    assert event["data"] == {"deleted": True}
    assert await closed_with(ws) == 4404


async def test_out_of_order_and_duplicate_events_are_reordered_and_dropped():
    owner, playlist, _ = await db(_setup)()
    ws = await connect(owner, playlist.pk)
    await receive_until(ws, "SNAPSHOT")
    layer = get_channel_layer()

    def event(version):
        return {"type": "playlist.event", "event": {
            "type": "TRACK_MOVED", "playlistId": str(playlist.pk), "userId": str(owner.pk),
            "timestamp": 1, "version": version, "data": {"n": version}}}

    group = f"playlist.{playlist.pk}"
    for version in (2, 1, 1, 3, 2):
        await layer.group_send(group, event(version))
    versions = [(await next_frame(ws))["version"] for _ in range(3)]
    assert versions == [1, 2, 3]
    assert await ws.receive_nothing(timeout=0.3)
    await ws.disconnect()


async def test_lost_event_is_recovered_from_the_log():
    owner, playlist, tracks = await db(_setup)()
    ws = await connect(owner, playlist.pk)
    await receive_until(ws, "SNAPSHOT")
    # Version 1 is committed but its broadcast is lost (as if Redis dropped it).
    from collaboration import broadcast

    original = broadcast.playlist_event
    broadcast.playlist_event = lambda *a, **k: False
    try:
        await db(services.playlist_track_move)(playlist=playlist.pk, user=owner,
                                                track_id=tracks[0].pk, position=1)
    finally:
        broadcast.playlist_event = original
    await db(services.playlist_track_move)(playlist=playlist.pk, user=owner,
                                            track_id=tracks[0].pk, position=0)
    first = await next_frame(ws)
    second = await next_frame(ws)
    assert (first["version"], second["version"]) == (1, 2)
    assert first["data"] == {"trackId": str(tracks[0].pk), "fromPosition": 0, "toPosition": 1}
    assert await db(PlaylistEvent.objects.filter(playlist_id=playlist.pk).count)() == 2
    await ws.disconnect()


async def test_broadcast_failure_never_fails_the_write(monkeypatch):
    owner, playlist, tracks = await db(_setup)()

    class Broken:
        async def group_send(self, *args, **kwargs):
            raise ConnectionError("redis is down")

    import collaboration.broadcast as broadcast

    monkeypatch.setattr(broadcast, "get_channel_layer", lambda: Broken())
    result = await db(services.playlist_track_move)(playlist=playlist.pk, user=owner,
                                                     track_id=tracks[0].pk, position=1)
    assert result.version == 1


async def test_many_clients_converge(settings):
    """Several sockets write concurrently; each one's event stream rebuilds the database."""
    owner, playlist, _ = await db(_setup)(0)
    pool = await db(lambda: [TrackFactory() for _ in range(12)])()
    sockets = []
    for _ in range(3):
        ws = await connect(owner, playlist.pk)
        sockets.append((ws, await receive_until(ws, "SNAPSHOT")))

    streams = {n: [] for n in range(len(sockets))}

    async def writer(n, ws):
        import random

        rnd = random.Random(n)
        for i in range(10):
            track = rnd.choice(pool)
            kind = rnd.choice(["ADD_TRACKS", "REMOVE_TRACKS", "MOVE_TRACK"])
            frame = {"type": kind, "requestId": f"{n}-{i}"}
            if kind == "MOVE_TRACK":
                frame.update(trackId=str(track.pk), position=rnd.randrange(6))
            else:
                frame["trackIds"] = [str(track.pk)]
            await ws.send_json_to(frame)
            while True:  # keep every frame; stop at this request's answer
                answer = await ws.receive_json_from(timeout=10)
                streams[n].append(answer)
                if answer.get("requestId") == frame["requestId"]:
                    break

    await asyncio.gather(*(writer(n, ws) for n, (ws, _) in enumerate(sockets)))
    final = await db(lambda: list(Playlist.objects.get(pk=playlist.pk).entries.order_by(
        "position").values_list("track_id", "position")))()
    version = await db(lambda: Playlist.objects.get(pk=playlist.pk).version)()
    for n, (ws, snapshot) in enumerate(sockets):
        view = [t["id"] for t in snapshot["tracks"]]
        last = snapshot["version"]
        frames = iter(streams[n])
        while last < version:
            frame = next(frames, None) or await ws.receive_json_from(timeout=10)
            if frame["type"] in ("ACK", "ERROR", "PRESENCE"):
                continue
            assert frame["version"] == last + 1
            last = frame["version"]
            apply_event(view, frame)
        assert view == [str(t) for t, _ in final]
        await ws.disconnect()
    assert [p for _, p in final] == list(range(len(final)))


def apply_event(view: list, frame: dict) -> None:
    """A client's model: apply one change event to a list of track ids."""
    data = frame["data"]
    if frame["type"] == "TRACK_ADDED":
        view[data["position"]:data["position"]] = [t["id"] for t in data["tracks"]]
    elif frame["type"] == "TRACK_REMOVED":
        gone = set(data["trackIds"])
        view[:] = [t for t in view if t not in gone]
    elif frame["type"] == "TRACK_MOVED":
        view.remove(data["trackId"])
        view.insert(data["toPosition"], data["trackId"])


async def test_open_sockets_are_counted_in_the_metrics():
    from ops.metrics import WEBSOCKET_CONNECTIONS

    owner, playlist, _ = await db(_setup)()
    before = WEBSOCKET_CONNECTIONS._value.get()
    ws = await connect(owner, playlist.pk)
    await ws.receive_json_from(timeout=3)
    assert WEBSOCKET_CONNECTIONS._value.get() == before + 1
    await ws.disconnect()
    assert WEBSOCKET_CONNECTIONS._value.get() == before
