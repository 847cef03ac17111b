"""Real daphne workers on the Redis channel layer with real WebSocket clients (services marker).

Run on CI with DATABASE_URL (PostgreSQL) and REDIS_URL set; skipped without REDIS_URL.
"""
import asyncio
import json
import random

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.db import connection

from playlists.models import Playlist, PlaylistEvent
from tests.collaboration.live import (
    access_token,
    arest,
    asgi_servers,
    live_database_url,
    next_frame_of,
    ws_connect,
)
from tests.collaboration.test_consumers import apply_event
from tests.factories import CollaboratorFactory, PlaylistFactory, TrackFactory, UserFactory

pytestmark = [
    pytest.mark.services,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL (Redis channel layer)"),
]

db = database_sync_to_async


def _ticket(user):
    from users.services import ws_ticket_create

    return ws_ticket_create(user=user)


async def test_ticket_auth_and_close_codes_on_a_real_server():
    owner = await db(UserFactory)()
    playlist = await db(PlaylistFactory)(owner=owner)
    stranger = await db(UserFactory)()
    with asgi_servers(1, db_url=live_database_url()) as (url,):
        ws = await ws_connect(url, playlist.pk, await db(_ticket)(owner))
        assert (await next_frame_of(ws, {"SNAPSHOT"}))["version"] == 0
        await ws.close()
        for ticket, code, pid in [("bogus", 4401, playlist.pk),
                                  (await db(_ticket)(stranger), 4403, playlist.pk),
                                  (await db(_ticket)(owner), 4404, "nope")]:
            ws = await ws_connect(url, pid, ticket)
            async with asyncio.timeout(10):
                await ws.wait_closed()
            assert ws.close_code == code
        # A foreign Origin is refused during the handshake (HTTP 403).
        from websockets.asyncio.client import connect
        from websockets.exceptions import InvalidStatus

        ws_url = url.replace("http", "ws") + f"/ws/playlists/{playlist.pk}/"
        with pytest.raises(InvalidStatus) as refused:
            await connect(ws_url + f"?ticket={await db(_ticket)(owner)}",
                          origin="https://evil.example", proxy=None)
        assert refused.value.response.status_code == 403


async def test_change_through_worker_a_reaches_client_on_worker_b():
    owner = await db(UserFactory)()
    playlist = await db(PlaylistFactory)(owner=owner, is_collaborative=True)
    friend = (await db(CollaboratorFactory)(playlist=playlist)).user
    track = await db(TrackFactory)()
    other = await db(TrackFactory)()
    with asgi_servers(2, db_url=live_database_url()) as (url_a, url_b):
        on_b = await ws_connect(url_b, playlist.pk, await db(_ticket)(friend))
        on_a = await ws_connect(url_a, playlist.pk, await db(_ticket)(owner))
        assert (await next_frame_of(on_b, {"SNAPSHOT"}))["version"] == 0
        await next_frame_of(on_a, {"SNAPSHOT"})
        presence = await next_frame_of(on_b, {"PRESENCE"})
        assert presence["data"]["action"] == "join"

        status, body, _ = await arest("PUT", f"{url_a}/api/playlists/{playlist.pk}/tracks",
                                      await db(access_token)(owner), {"trackIds": [str(track.pk)]})
        assert status == 200 and body["version"] == 1
        event = await next_frame_of(on_b, {"TRACK_ADDED"})
        assert event["version"] == 1 and event["userId"] == str(owner.pk)
        assert event["data"]["tracks"][0]["id"] == str(track.pk)
        assert (await next_frame_of(on_a, {"TRACK_ADDED"}))["version"] == 1

        # And a socket write on B reaches A.
        await on_b.send(json.dumps({"type": "ADD_TRACKS", "trackIds": [str(other.pk)],
                                    "requestId": "b1"}))
        assert (await next_frame_of(on_b, {"ACK", "ERROR"}))["version"] == 2
        event = await next_frame_of(on_a, {"TRACK_ADDED"})
        assert event["version"] == 2 and event["userId"] == str(friend.pk)
        await on_a.close()
        await on_b.close()


CLIENTS = 8
OPERATIONS = 50


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
async def test_concurrent_clients_converge_on_postgresql():
    """8 clients x 50 random add/remove/move, REST and socket mixed, on two workers."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    owner = await db(UserFactory)()
    playlist = await db(PlaylistFactory)(owner=owner, is_collaborative=True)
    users = [owner] + [
        (await db(CollaboratorFactory)(playlist=playlist)).user for _ in range(CLIENTS - 1)
    ]
    pool = [str(t.pk) for t in await db(lambda: TrackFactory.create_batch(30))()]
    tokens = [await db(access_token)(u) for u in users]

    with asgi_servers(2, db_url=live_database_url()) as urls:
        applied: list[tuple[int, dict]] = []  # (version, operation) of every successful write
        views: list[tuple[int, list]] = []

        async def client(n: int):
            rnd = random.Random(n)
            url = urls[n % 2]
            ws = await ws_connect(url, playlist.pk, await db(_ticket)(users[n]))
            snapshot = await next_frame_of(ws, {"SNAPSHOT"})
            view = [t["id"] for t in snapshot["tracks"]]
            state = {"version": snapshot["version"]}
            waiting: dict[str, asyncio.Future] = {}

            async def reader():
                async for raw in ws:
                    frame = json.loads(raw)
                    if frame["type"] in ("ACK", "ERROR"):
                        future = waiting.pop(frame["requestId"], None)
                        if future:
                            future.set_result(frame)
                    elif frame["type"] in ("TRACK_ADDED", "TRACK_REMOVED", "TRACK_MOVED"):
                        assert frame["version"] == state["version"] + 1, "gap or disorder"
                        state["version"] = frame["version"]
                        apply_event(view, frame)
                    elif frame["type"] == "PLAYLIST_UPDATED":
                        state["version"] = frame["version"]

            reading = asyncio.create_task(reader())
            for i in range(OPERATIONS):
                kind = rnd.choice(["add", "add", "remove", "move"])
                track = rnd.choice(pool)
                position = rnd.randrange(0, 25)
                op = {"kind": kind, "track": track, "position": position}
                if rnd.random() < 0.5:  # REST
                    base = f"{url}/api/playlists/{playlist.pk}"
                    if kind == "add":
                        request = ("PUT", f"{base}/tracks",
                                   {"trackIds": [track], "position": position})
                    elif kind == "remove":
                        request = ("DELETE", f"{base}/tracks", {"trackIds": [track]})
                    else:
                        request = ("POST", f"{base}/tracks/move",
                                   {"trackId": track, "position": position})
                    status, body, _ = await arest(request[0], request[1], tokens[n], request[2])
                    assert status in (200, 409), body
                    if status == 200:
                        applied.append((body["version"], op))
                else:
                    request_id = f"{n}-{i}"
                    frame = {"requestId": request_id}
                    if kind == "add":
                        frame.update(type="ADD_TRACKS", trackIds=[track], position=position)
                    elif kind == "remove":
                        frame.update(type="REMOVE_TRACKS", trackIds=[track])
                    else:
                        frame.update(type="MOVE_TRACK", trackId=track, position=position)
                    future = asyncio.get_running_loop().create_future()
                    waiting[request_id] = future
                    await ws.send(json.dumps(frame))
                    answer = await asyncio.wait_for(future, 20)
                    if answer["type"] == "ACK":
                        applied.append((answer["version"], op))
                    else:
                        assert answer["error"]["code"] in (
                            "duplicate_track", "not_in_playlist", "rate_limited"), answer
            return ws, reading, view, state

        results = await asyncio.wait_for(asyncio.gather(*(client(n) for n in range(CLIENTS))), 50)
        final_version = await db(lambda: Playlist.objects.get(pk=playlist.pk).version)()
        for ws, reading, view, state in results:
            async with asyncio.timeout(10):
                while state["version"] < final_version:
                    await asyncio.sleep(0.05)
            views.append((state["version"], view))
            await ws.close()
            reading.cancel()

    rows = await db(lambda: list(Playlist.objects.get(pk=playlist.pk).entries.order_by(
        "position").values_list("track_id", "position")))()
    database = [str(t) for t, _ in rows]
    assert [p for _, p in rows] == list(range(len(rows)))
    assert len(set(database)) == len(database)
    # version counts exactly the applied changes, each with its own version.
    assert final_version == len(applied)
    assert sorted(v for v, _ in applied) == list(range(1, final_version + 1))
    assert await db(PlaylistEvent.objects.filter(playlist_id=playlist.pk).count)() == final_version
    # Replaying the applied operations in version order gives the database's list.
    model: list[str] = []
    for _, op in sorted(applied, key=lambda item: item[0]):
        if op["kind"] == "add":
            model.insert(min(op["position"], len(model)), op["track"])
        elif op["kind"] == "remove":
            model.remove(op["track"])
        else:
            model.remove(op["track"])
            model.insert(min(op["position"], len(model)), op["track"])
    assert model == database
    # Every client's view, rebuilt from its own event stream, equals the database.
    for version, view in views:
        assert version == final_version and view == database


IDLE_SECONDS = 60


async def test_idle_sockets_live_through_a_quiet_minute_on_the_redis_layer():
    """Quiet members stay connected: no 1011 from the layer's blocking read timing out.

    The channel layer waits for messages with BZPOPMIN (5 s); a Redis client whose socket
    timeout is not longer than that aborts every idle wait, and daphne closes the socket with
    1011. Busy sockets hide it, so these stay quiet (pings only) for a full minute.
    """
    owner = await db(UserFactory)()
    playlist = await db(PlaylistFactory)(owner=owner, is_collaborative=True)
    members = [owner] + [
        (await db(CollaboratorFactory)(playlist=playlist)).user for _ in range(2)
    ]
    track = await db(TrackFactory)()
    with asgi_servers(2, db_url=live_database_url()) as urls:
        sockets = []
        for n, member in enumerate(members):
            ws = await ws_connect(urls[n % 2], playlist.pk, await db(_ticket)(member),
                                  ping_interval=1)
            await next_frame_of(ws, {"SNAPSHOT"})
            sockets.append(ws)
        loop = asyncio.get_running_loop()
        quiet_until = loop.time() + IDLE_SECONDS
        while loop.time() < quiet_until:
            await asyncio.sleep(1)
            closed = [(n, ws.close_code) for n, ws in enumerate(sockets) if ws.close_code]
            assert not closed, f"idle sockets closed (member, code): {closed}"
        # Still connected, and still subscribed: a change reaches every member.
        status, body, _ = await arest("PUT", f"{urls[0]}/api/playlists/{playlist.pk}/tracks",
                                      await db(access_token)(owner), {"trackIds": [str(track.pk)]})
        assert status == 200, body
        for ws in sockets:
            assert (await next_frame_of(ws, {"TRACK_ADDED"}))["version"] == 1
            await ws.close()


async def test_the_server_closes_a_silent_connection_and_the_others_see_it_leave():
    """Server-side heartbeats: daphne pings every socket that has been quiet for
    `--ping-interval` seconds and drops one that has not answered within `--ping-timeout` (a
    laptop closed mid-session, a phone gone out of coverage: TCP alone would keep such a
    half-open socket, and its member, "present" for hours). The silent client here completes
    the handshake over a raw TCP stream and then never reads or answers a ping."""
    import base64
    import os
    from urllib.parse import urlsplit

    owner = await db(UserFactory)()
    playlist = await db(PlaylistFactory)(owner=owner, is_collaborative=True)
    silent = (await db(CollaboratorFactory)(playlist=playlist)).user
    with asgi_servers(1, db_url=live_database_url(),
                      daphne_args=("--ping-interval", "1", "--ping-timeout", "2")) as (url,):
        watcher = await ws_connect(url, playlist.pk, await db(_ticket)(owner))
        await next_frame_of(watcher, {"SNAPSHOT"})
        host = urlsplit(url)
        reader, writer = await asyncio.open_connection(host.hostname, host.port)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write((
            f"GET /ws/playlists/{playlist.pk}/?ticket={await db(_ticket)(silent)} HTTP/1.1\r\n"
            f"Host: {host.netloc}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nOrigin: {url}\r\n\r\n"
        ).encode())
        await writer.drain()
        assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 101")
        while True:  # the watcher's own join comes first
            joined = await next_frame_of(watcher, {"PRESENCE"})
            if joined["userId"] == str(silent.pk):
                break
        assert joined["data"]["action"] == "join"
        assert {p["username"] for p in joined["data"]["presence"]} == {owner.username,
                                                                       silent.username}
        # From now on the silent client reads nothing: its pings go unanswered.
        started = asyncio.get_running_loop().time()
        left = await next_frame_of(watcher, {"PRESENCE"}, timeout=20)
        waited = asyncio.get_running_loop().time() - started
        assert left["data"]["action"] == "leave"
        assert [p["username"] for p in left["data"]["presence"]] == [owner.username]
        assert waited < 10, f"the silent socket was dropped only after {waited:.1f} s"
        writer.close()
        await watcher.close()
