"""Real-time latency: from a client's REST write to every other member's socket (issue 16).

    .venv/bin/python bench/collab_latency.py                       # 200 members, 20 writes/s
    .venv/bin/python bench/collab_latency.py --idle-sockets 5000   # ... while 5,000 more are held

Setup: a fresh database `audotics_bench_collab` (dropped and recreated), 200 users, 20
collaborative playlists with 10 members each (owner + 9 collaborators), 2,000 tracks.
Two daphne workers share the Redis channel layer (db 3); each member connects one socket (single-
use ticket), alternating between the workers. A writer then sends REST writes (add a track at a
random position, or remove one) at a steady rate, round-robin over playlists and workers.

With `--idle-sockets N`, a separate client process first opens N more sockets (idle members, 10
per playlist, on their own playlists, alternating between the workers) and holds them through
the write phase; the workers' resident memory before and after gives the memory per socket.

Two clocks, one sample per (write, member):
- send -> receipt: the writer notes the wall clock just before it sends the request; the member
  notes it when the frame arrives (same host, same clock). This is what a user sees.
- commit -> receipt: the playlist services stamp each event with `timestamp` (ms) in the
  `on_commit` hook, right after the write's transaction committed; it isolates the fan-out.
The REST round trip of the writes themselves is reported beside them.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import secrets
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


async def in_process_writes(rooms, track_ids: list[str], count: int) -> dict[str, float]:
    """REST writes through the ASGI application in this process (Django's whole stack:
    middleware, JWT, throttle, service, commit, broadcast to the Redis layer), without a server
    or a network: from the request to the last byte of the answer (work queued to run after
    the response is not in it, as for a real client). Add then remove, `count` times."""
    from asgiref.testing import ApplicationCommunicator
    from channels.db import database_sync_to_async

    from audotics.asgi import application
    from tests.collaboration.live import access_token

    times: dict[str, list[float]] = {"PUT": [], "DELETE": []}
    for n in range(count):
        pid, group = rooms[n % len(rooms)]
        token = await database_sync_to_async(access_token)(group[0])
        track = track_ids[-1 - n]  # not used by the socket phase's writes
        for method, body in (("PUT", {"trackIds": [track], "position": 0}),
                             ("DELETE", {"trackIds": [track]})):
            raw = json.dumps(body).encode()
            scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                     "method": method, "scheme": "http", "path": f"/api/playlists/{pid}/tracks",
                     "raw_path": f"/api/playlists/{pid}/tracks".encode(), "query_string": b"",
                     "root_path": "", "client": ("127.0.0.1", 50000),
                     "server": ("127.0.0.1", 80),
                     "headers": [(b"host", b"127.0.0.1"), (b"content-type", b"application/json"),
                                 (b"content-length", str(len(raw)).encode()),
                                 (b"authorization", f"Bearer {token}".encode())]}
            app = ApplicationCommunicator(application, scope)
            start = time.perf_counter()
            await app.send_input({"type": "http.request", "body": raw})
            head = await app.receive_output(10)
            while (await app.receive_output(10)).get("more_body"):
                pass
            times[method].append((time.perf_counter() - start) * 1000)
            assert head["status"] == 200, head
            await app.wait(10)
    return {f"inproc_{m.lower()}_{q}": pct(v, q) for m, v in times.items() for q in (50, 95)}


async def run(args) -> dict:
    import multiprocessing

    from channels.db import database_sync_to_async
    from collab_sockets import cpu_seconds, hold_idle_sockets, redis_commands, rss_mb, seed_idle

    from tests.collaboration.live import access_token, asgi_servers, rest, ws_connect
    from users.services import ws_ticket_create

    rooms, track_ids = await database_sync_to_async(seed)(args.playlists, args.members,
                                                          args.tracks)
    tokens = {pid: await database_sync_to_async(access_token)(group[0]) for pid, group in rooms}
    idle_pairs = (await database_sync_to_async(seed_idle)(args.idle_sockets, 10, track_ids)
                  if args.idle_sockets else [])
    commit_samples: list[float] = []
    receipts: list[tuple[str, int, float]] = []  # (playlist, version, ms) per member frame
    sent_at: dict[tuple[str, int], float] = {}   # (playlist, version) -> ms the write was sent
    rest_times: list[float] = []
    result: dict = {}
    with asgi_servers(args.workers, db_url=os.environ["DATABASE_URL"]) as urls:
        idle = None
        result["rss_before_mb"] = rss_mb(urls.pids)
        if idle_pairs:
            ctx = multiprocessing.get_context("spawn")
            ready, stop = ctx.Queue(), ctx.Queue()
            idle = ctx.Process(target=hold_idle_sockets, args=(list(urls), idle_pairs, ready, stop))
            opened_at = time.monotonic()
            idle.start()
            result["idle_open"] = ready.get(timeout=900)
            result["idle_open_seconds"] = time.monotonic() - opened_at
            await asyncio.sleep(2.0)
            result["rss_idle_mb"] = rss_mb(urls.pids)
            # What holding them costs while nothing happens: pings, presence heartbeats.
            used, commands = cpu_seconds(urls.pids), redis_commands()
            await asyncio.sleep(args.idle_watch)
            result["idle_cpu_percent"] = (cpu_seconds(urls.pids) - used) / args.idle_watch * 100
            result["idle_redis_per_s"] = (redis_commands() - commands) / args.idle_watch
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
                        commit_samples.append(now - frame["timestamp"])
                        receipts.append((frame["playlistId"], frame["version"], now))
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
        commands, used = redis_commands(), cpu_seconds(urls.pids)
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

            def call(request=request, token=tokens[pid], pid=pid):
                sent = time.time()
                status, body, done = rest(request[0], request[1], token, request[2])
                assert status == 200, (status, body)
                assert body["id"] == pid and body["type"].startswith("TRACK_"), body
                sent_at[(pid, body["version"])] = sent * 1000
                rest_times.append((done - sent) * 1000)

            futures.append(loop.run_in_executor(pool, call))
            writes += 1
            next_at = start + writes * interval
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        await asyncio.gather(*futures)
        await asyncio.sleep(2.0)
        elapsed = time.monotonic() - start
        result["write_redis_per_s"] = (redis_commands() - commands) / elapsed
        result["write_cpu_percent"] = (cpu_seconds(urls.pids) - used) / elapsed * 100
        if idle is not None:
            result["rss_during_mb"] = rss_mb(urls.pids)
            stop.put(True)
            result["idle_still_open"] = ready.get(timeout=120)
            idle.join(timeout=120)
        for ws in sockets:
            await ws.close()
        for task in readers:
            task.cancel()
        pool.shutdown()
    result.update(await in_process_writes(rooms, track_ids, 100))
    send_samples = [at - sent_at[(pid, version)] for pid, version, at in receipts
                    if (pid, version) in sent_at]
    return {
        **result,
        "writes": writes,
        "expected": writes * args.members,
        "received": len(receipts),
        "send_p50": pct(send_samples, 50), "send_p95": pct(send_samples, 95),
        "send_p99": pct(send_samples, 99), "send_max": max(send_samples),
        "p50": pct(commit_samples, 50), "p95": pct(commit_samples, 95),
        "p99": pct(commit_samples, 99), "max": max(commit_samples),
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
    parser.add_argument("--idle-sockets", type=int, default=0,
                        help="idle members' sockets held open meanwhile (10 per playlist)")
    parser.add_argument("--idle-watch", type=float, default=60.0,
                        help="seconds the servers' CPU is watched with only idle sockets open")
    args = parser.parse_args()
    prepare_env()
    recreate_database()
    import django

    django.setup()
    load_before = os.getloadavg()[0]
    result = asyncio.run(run(args))
    print(json.dumps({k: round(v, 2) if isinstance(v, float) else v for k, v in result.items()}))
    print(f"sockets={args.playlists * args.members} active + {args.idle_sockets} idle, "
          f"playlists={args.playlists} workers={args.workers} rate={args.rate}/s "
          f"duration={args.duration}s load average {load_before:.1f} -> {os.getloadavg()[0]:.1f}")
    print(f"client send -> member receipt: p50 {result['send_p50']:.1f} ms, "
          f"p95 {result['send_p95']:.1f} ms, p99 {result['send_p99']:.1f} ms, "
          f"max {result['send_max']:.1f} ms ({result['received']}/{result['expected']} deliveries)")
    print(f"commit -> member receipt: p50 {result['p50']:.1f} ms, p95 {result['p95']:.1f} ms, "
          f"p99 {result['p99']:.1f} ms, max {result['max']:.1f} ms")
    print(f"REST write round trip: p50 {result['rest_p50']:.1f} ms, "
          f"p95 {result['rest_p95']:.1f} ms")
    print(f"during the writes: servers used {result['write_cpu_percent']:.0f} % of one core, "
          f"Redis processed {result['write_redis_per_s']:.0f} commands/s")
    print(f"REST write in-process: add p50 {result['inproc_put_50']:.1f} ms "
          f"(p95 {result['inproc_put_95']:.1f}), remove p50 {result['inproc_delete_50']:.1f} ms "
          f"(p95 {result['inproc_delete_95']:.1f})")
    if args.idle_sockets:
        per_socket_kb = ((result["rss_idle_mb"] - result["rss_before_mb"]) * 1024
                         / max(1, result["idle_open"]))
        print(f"idle sockets: {result['idle_open']} opened in {result['idle_open_seconds']:.0f} s, "
              f"{result['idle_still_open']} still open after the writes; workers' RSS "
              f"{result['rss_before_mb']:.0f} MB -> {result['rss_idle_mb']:.0f} MB "
              f"({per_socket_kb:.0f} KB a socket) -> {result['rss_during_mb']:.0f} MB; "
              f"holding them idle cost {result['idle_cpu_percent']:.1f} % of one core "
              f"(both workers, {args.idle_watch:.0f} s) and {result['idle_redis_per_s']:.0f} "
              f"Redis commands/s")


if __name__ == "__main__":
    main()
