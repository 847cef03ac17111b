"""Real-time latency: from a REST write's commit to every member's socket (SPEC.md §7: p95 < 25 ms).

    .venv/bin/python bench/collab_latency.py            # PostgreSQL + Redis on 127.0.0.1

Setup: a fresh database `audotics_bench_collab` (dropped and recreated), 200 users, 20
collaborative playlists with 10 members each (owner + 9 collaborators), 2,000 tracks.
Two daphne workers share the Redis channel layer (db 3); each member connects one socket (single-
use ticket), alternating between the workers. A writer then sends REST writes (add a track at a
random position, or remove one) at a steady rate, round-robin over playlists and workers.

Method: the playlist services stamp each event with `timestamp` (ms) in the `on_commit` hook,
right after the write's transaction committed and before `group_send`; each client subtracts it
from its own clock when the frame arrives (same machine, same clock). Every (event, member) pair
is one sample. We also report the REST round trip of the writes themselves.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import secrets
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DB_NAME = "audotics_bench_collab"
PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/3")


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def prepare_env() -> None:
    os.environ["DATABASE_URL"] = f"{PG}/{DB_NAME}"
    os.environ["REDIS_URL"] = REDIS
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault(
        "FIELD_ENCRYPTION_KEYS", "k1:" + base64.b64encode(secrets.token_bytes(32)).decode()
    )
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["DJANGO_SETTINGS_MODULE"] = "audotics.settings"


def recreate_database() -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT,
                   check=True)


def seed(playlists: int, members: int, tracks: int):
    from django.contrib.auth import get_user_model

    from playlists.models import Collaborator, Playlist, Track

    User = get_user_model()  # noqa: N806
    users = [User(username=f"bench{i}") for i in range(playlists * members)]
    for user in users:
        user.set_unusable_password()
    User.objects.bulk_create(users, batch_size=500)
    users = list(User.objects.filter(username__startswith="bench").order_by("username"))
    Track.objects.bulk_create(
        [Track(external_id=f"bench-{i}", title=f"Song {i}", artist=f"Artist {i % 97}",
               duration_ms=200_000) for i in range(tracks)], batch_size=1000)
    track_ids = [str(t) for t in Track.objects.values_list("pk", flat=True)]
    rooms = []
    for p in range(playlists):
        group = users[p * members:(p + 1) * members]
        playlist = Playlist.objects.create(name=f"Room {p}", owner=group[0],
                                           is_collaborative=True)
        Collaborator.objects.bulk_create([Collaborator(playlist=playlist, user=u)
                                          for u in group[1:]])
        rooms.append((str(playlist.pk), group))
    return rooms, track_ids


async def run(args) -> dict:
    from channels.db import database_sync_to_async

    from tests.collaboration.live import access_token, asgi_servers, rest, ws_connect
    from users.services import ws_ticket_create

    rooms, track_ids = await database_sync_to_async(seed)(args.playlists, args.members,
                                                          args.tracks)
    tokens = {pid: await database_sync_to_async(access_token)(group[0]) for pid, group in rooms}
    samples: list[float] = []
    received = {"frames": 0}
    rest_times: list[float] = []
    with asgi_servers(args.workers, db_url=os.environ["DATABASE_URL"]) as urls:
        sockets = []
        for pid, group in rooms:
            for user in group:
                ticket = await database_sync_to_async(ws_ticket_create)(user=user)
                ws = await ws_connect(urls[(len(sockets)) % len(urls)], pid, ticket)
                frame = json.loads(await ws.recv())
                assert frame["type"] == "SNAPSHOT", frame
                sockets.append(ws)

        async def reader(ws):
            try:
                async for raw in ws:
                    now = time.time() * 1000
                    frame = json.loads(raw)
                    if frame["type"].startswith("TRACK_"):
                        samples.append(now - frame["timestamp"])
                        received["frames"] += 1
            except Exception:
                pass

        readers = [asyncio.create_task(reader(ws)) for ws in sockets]
        await asyncio.sleep(1.0)  # let PRESENCE chatter settle
        present: dict[str, list[str]] = {pid: [] for pid, _ in rooms}
        rnd = random.Random(7)
        pool = ThreadPoolExecutor(max_workers=16)
        loop = asyncio.get_running_loop()
        writes, futures = 0, []
        interval = 1.0 / args.rate
        start = time.monotonic()
        while time.monotonic() - start < args.duration:
            pid, _ = rooms[writes % len(rooms)]
            url = urls[writes % len(urls)]
            in_room = present[pid]
            if in_room and (len(in_room) > 20 or rnd.random() < 0.3):
                track = in_room.pop(rnd.randrange(len(in_room)))
                request = ("DELETE", f"{url}/api/playlists/{pid}/tracks", {"trackIds": [track]})
            else:
                track = rnd.choice(track_ids)
                while track in in_room:
                    track = rnd.choice(track_ids)
                in_room.append(track)
                request = ("PUT", f"{url}/api/playlists/{pid}/tracks",
                           {"trackIds": [track], "position": rnd.randrange(0, len(in_room))})
            sent = time.time()

            def call(request=request, token=tokens[pid], sent=sent):
                status, body, done = rest(request[0], request[1], token, request[2])
                assert status == 200, (status, body)
                rest_times.append((done - sent) * 1000)

            futures.append(loop.run_in_executor(pool, call))
            writes += 1
            next_at = start + writes * interval
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        await asyncio.gather(*futures)
        await asyncio.sleep(2.0)
        for ws in sockets:
            await ws.close()
        for task in readers:
            task.cancel()
        pool.shutdown()
    return {
        "writes": writes,
        "expected": writes * args.members,
        "received": received["frames"],
        "p50": pct(samples, 50), "p95": pct(samples, 95), "p99": pct(samples, 99),
        "max": max(samples), "mean": statistics.fmean(samples),
        "rest_p50": pct(rest_times, 50), "rest_p95": pct(rest_times, 95),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--playlists", type=int, default=20)
    parser.add_argument("--members", type=int, default=10)
    parser.add_argument("--tracks", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rate", type=float, default=20.0, help="REST writes per second")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of writing")
    args = parser.parse_args()
    prepare_env()
    recreate_database()
    import django

    django.setup()
    result = asyncio.run(run(args))
    print(json.dumps({k: round(v, 2) if isinstance(v, float) else v for k, v in result.items()}))
    print(f"sockets={args.playlists * args.members} playlists={args.playlists} "
          f"workers={args.workers} rate={args.rate}/s duration={args.duration}s")
    print(f"commit -> member receipt: p50 {result['p50']:.1f} ms, p95 {result['p95']:.1f} ms, "
          f"p99 {result['p99']:.1f} ms, max {result['max']:.1f} ms "
          f"({result['received']}/{result['expected']} deliveries)")
    print(f"REST write round trip: p50 {result['rest_p50']:.1f} ms, "
          f"p95 {result['rest_p95']:.1f} ms")


if __name__ == "__main__":
    main()
