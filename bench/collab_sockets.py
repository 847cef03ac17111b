"""Idle sockets for bench/collab_latency.py, and what the servers spend holding them.

The idle members' sockets are opened and held by a child process (`hold_idle_sockets`), so the
measuring process handles only the active members' frames; CPU, memory and Redis commands are
read from /proc and Redis INFO.
"""
from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/3")


def seed_idle(count: int, per_playlist: int, track_ids: list[str]) -> list[tuple[str, str]]:
    """Idle members: `count` users, `per_playlist` to a playlist of 20 tracks; (playlist id,
    user id) pairs (tickets live 30 s: the holder makes each one just before it connects)."""
    from django.contrib.auth import get_user_model

    from playlists.models import Collaborator, Playlist, PlaylistTrack

    User = get_user_model()  # noqa: N806
    users = [User(username=f"idle{i}") for i in range(count)]
    for user in users:
        user.set_unusable_password()
    User.objects.bulk_create(users, batch_size=1000)
    users = list(User.objects.filter(username__startswith="idle").order_by("username"))
    pairs = []
    for start in range(0, count, per_playlist):
        group = users[start:start + per_playlist]
        playlist = Playlist.objects.create(name=f"Idle {start}", owner=group[0],
                                           is_collaborative=True)
        Collaborator.objects.bulk_create([Collaborator(playlist=playlist, user=u)
                                          for u in group[1:]])
        PlaylistTrack.objects.bulk_create([
            PlaylistTrack(playlist=playlist, track_id=tid, position=i, added_by=group[0])
            for i, tid in enumerate(track_ids[start % 1000:start % 1000 + 20])])
        pairs += [(str(playlist.pk), str(u.pk)) for u in group]
    return pairs


def hold_idle_sockets(urls: list[str], pairs: list[tuple[str, str]], ready, stop) -> None:
    """A child process: open one socket per (playlist, user), report, hold until told."""
    import django

    django.setup()

    async def main() -> None:
        from channels.db import database_sync_to_async
        from django.contrib.auth import get_user_model

        from tests.collaboration.live import ws_connect
        from users.services import ws_ticket_create

        User = get_user_model()  # noqa: N806

        gate = asyncio.Semaphore(50)
        sockets = []

        async def open_one(i: int, pid: str, user_id: str) -> None:
            async with gate:
                ticket = await database_sync_to_async(ws_ticket_create)(user=User(pk=user_id))
                ws = await ws_connect(urls[i % len(urls)], pid, ticket)
                assert json.loads(await ws.recv())["type"] == "SNAPSHOT"
                sockets.append(ws)

        async def drain(ws) -> None:  # PRESENCE chatter must not pile up in buffers
            try:
                async for _ in ws:
                    pass
            except Exception:
                pass

        await asyncio.gather(*(open_one(i, pid, t) for i, (pid, t) in enumerate(pairs)))
        drains = [asyncio.create_task(drain(ws)) for ws in sockets]
        ready.put(len(sockets))
        while stop.empty():
            await asyncio.sleep(0.2)
        open_at_end = sum(1 for ws in sockets if ws.state.name == "OPEN")
        for ws in sockets:
            await ws.close()
        for task in drains:
            task.cancel()
        ready.put(open_at_end)

    asyncio.run(main())


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time the server processes have used so far (from /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def redis_commands() -> int:
    """Commands the Redis server has processed so far (all databases: layer, cache, tickets)."""
    import redis

    return int(redis.Redis.from_url(REDIS).info("stats")["total_commands_processed"])


def rss_mb(pids: list[int]) -> float:
    """Resident memory of the server processes, MB (VmRSS from /proc)."""
    total = 0
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 1024
