"""One hostile client (malformed, oversized and binary frames, then a flood) on a real server does
not disturb another member of the same playlist, who still gets every event promptly."""
import asyncio
import json
import os
import time

import pytest
from channels.db import database_sync_to_async
from websockets.exceptions import ConnectionClosed

from collaboration.consumers import MAX_FRAME, RATE_BURST, RATE_PER_SECOND
from tests.collaboration.live import access_token, next_frame_of, ws_connect
from tests.factories import CollaboratorFactory, PlaylistFactory, TrackFactory, UserFactory
from tests.reliability.live import Server, http, server_env

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]
db = database_sync_to_async

FLOOD = 2000
HOSTILE = [
    "not json", "{", "[]", "null", "42", '"str"', json.dumps({"type": None}),
    json.dumps({"type": "ADD_TRACKS", "trackIds": "nope", "requestId": {"a": 1}}),
    json.dumps({"type": "ADD_TRACKS", "trackIds": ["x"] * 600, "requestId": "big"}),
    json.dumps({"type": "MOVE_TRACK", "trackId": "00000000-0000-0000-0000-000000000000",
                "position": -1}),
    json.dumps({"type": "REMOVE_TRACKS", "trackIds": [None, 1, {}], "expectedVersion": "x"}),
    "[" * 50_000 + "]" * 50_000,  # deep nesting
    json.dumps({"type": "ADD_TRACKS", "trackIds": ["a" * (MAX_FRAME + 10)]}),  # oversized
    "\udcff".encode("utf-8", "surrogatepass").decode("utf-8", "replace"),
]


async def test_hostile_client_does_not_affect_other_members(services_db_url, tmp_path):
    owner = await db(UserFactory)()
    playlist = await db(PlaylistFactory)(owner=owner, is_collaborative=True)
    attacker = (await db(CollaboratorFactory)(playlist=playlist)).user
    victim = (await db(CollaboratorFactory)(playlist=playlist)).user
    tracks = [str(t.pk) for t in await db(lambda: TrackFactory.create_batch(6))()]
    owner_token = await db(access_token)(owner)
    env = server_env(database_url=services_db_url, redis_url=os.environ["REDIS_URL"])
    server = Server(env, tmp_path / "server.log").start()
    try:
        async def connect(user):
            status, body, _ = await asyncio.to_thread(
                http, "POST", server.url + "/api/auth/ws-ticket", await db(access_token)(user))
            assert status == 200, body
            ws = await ws_connect(server.url, playlist.pk, body["ticket"])
            await next_frame_of(ws, {"SNAPSHOT"})
            return ws

        bad = await connect(attacker)
        good = await connect(victim)
        errors: list[str] = []
        pongs: list = []

        async def drain():
            try:
                async for raw in bad:
                    frame = json.loads(raw)
                    if frame["type"] == "ERROR":
                        errors.append(frame["error"]["code"])
                    elif frame["type"] == "PONG":
                        pongs.append(frame["requestId"])
            except ConnectionClosed:
                pass

        draining = asyncio.create_task(drain())
        for text in HOSTILE:
            await bad.send(text)
            await asyncio.sleep(0.06)  # stay under the rate limit: each gets its own ERROR
        await bad.send(b"\x00\x01binary")
        await asyncio.sleep(0.5)
        assert {"parse_error", "validation_error", "too_large", "unsupported_frame"} <= set(
            errors), errors
        assert "server_error" not in errors

        async def flood():
            for i in range(FLOOD):
                await bad.send(json.dumps({"type": "PING", "requestId": i}))

        flood_started = time.monotonic()
        flooding = asyncio.create_task(flood())
        latencies = []
        for n, track in enumerate(tracks):
            sent = time.time()
            status, body, _ = await asyncio.to_thread(
                http, "PUT", f"{server.url}/api/playlists/{playlist.pk}/tracks", owner_token,
                {"trackIds": [track]})
            assert status == 200, body
            event = await next_frame_of(good, {"TRACK_ADDED"}, timeout=5)
            latencies.append(time.time() - sent)
            assert event["version"] == n + 1
        await asyncio.wait_for(flooding, 30)
        async with asyncio.timeout(30):  # every flood frame gets its answer (PONG or ERROR)
            while len(pongs) + errors.count("rate_limited") < FLOOD:
                await asyncio.sleep(0.05)
        flood_seconds = time.monotonic() - flood_started
        # The flood was throttled per connection; the victim's events stayed prompt.
        answered = len(pongs) + errors.count("rate_limited")
        assert answered == FLOOD, (len(pongs), errors.count("rate_limited"))
        assert len(pongs) <= RATE_BURST + RATE_PER_SECOND * flood_seconds + 5, len(pongs)
        assert errors.count("rate_limited") > FLOOD / 2
        assert max(latencies) < 2.0, latencies
        await good.send(json.dumps({"type": "PING", "requestId": "still-here"}))
        assert (await next_frame_of(good, {"PONG"}))["requestId"] == "still-here"
        assert server.proc.poll() is None
        print(f"victim event latency max {max(latencies) * 1000:.0f} ms; flood {FLOOD} frames "
              f"in {flood_seconds:.1f}s: {len(pongs)} answered, "
              f"{errors.count('rate_limited')} rate_limited")
        draining.cancel()
        await bad.close()
        await good.close()
    finally:
        server.stop()
