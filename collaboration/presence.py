"""Who is connected to a playlist, shared by every worker through the cache (Redis).

One cache entry per playlist maps each connection (its channel name) to its user and the
time it joined; joins and leaves take a short cache lock (`cache.add`) so that two workers
changing the same playlist's map cannot lose each other's writes. A connection proves it is
alive with a key of its own that expires after `STALE_AFTER` seconds, refreshed every
`HEARTBEAT` seconds by one cache write without the lock (the heartbeat of thousands of idle
sockets was the map's lock, read, write and unlock: five Redis commands each). Entries whose
key has expired -- a crashed worker's connections -- are pruned at the next join or leave.
"""
from __future__ import annotations

import contextlib
import logging
import time
import uuid
from typing import Any

from asgiref.sync import sync_to_async
from django.core.cache import cache

logger = logging.getLogger(__name__)

HEARTBEAT = 30.0
STALE_AFTER = 3 * HEARTBEAT
_TTL = 24 * 3600


def _key(playlist_id: str) -> str:
    return f"collab:presence:{playlist_id}"


def _alive_key(channel_name: str) -> str:
    return f"collab:alive:{channel_name}"


def _fresh(entries: dict, now: float) -> dict:
    """The entries whose connection is alive: a heartbeat key, or joined moments ago."""
    alive = cache.get_many([_alive_key(c) for c in entries]) if entries else {}
    return {c: e for c, e in entries.items()
            if _alive_key(c) in alive or now - e.get("seen", 0) < STALE_AFTER}


def _update(playlist_id: str, change) -> dict[str, Any]:
    key, lock = _key(playlist_id), _key(playlist_id) + ":lock"
    token = uuid.uuid4().hex
    deadline = time.monotonic() + 1.0
    locked = False
    try:
        while not (locked := cache.add(lock, token, timeout=2)) and time.monotonic() < deadline:
            time.sleep(0.005)
        # Past the deadline, write anyway: a lost presence update beats a stuck socket.
        now = time.time()
        entries = _fresh(cache.get(key) or {}, now)
        change(entries, now)
        cache.set(key, entries, _TTL)
        return entries
    except Exception:
        logger.exception("Presence update for %s failed", playlist_id)
        return {}
    finally:
        if locked:
            try:
                if cache.get(lock) == token:
                    cache.delete(lock)
            except Exception:
                pass


def presence_join(*, playlist_id: str, channel_name: str, user_id: str, username: str) -> list:
    """Record this connection; the members present afterwards."""

    def change(entries: dict, now: float) -> None:
        entries[channel_name] = {"id": user_id, "username": username, "seen": now}

    present = presence_users(_update(playlist_id, change))
    presence_heartbeat(channel_name=channel_name)
    return present


def presence_heartbeat(*, channel_name: str) -> None:
    """This connection is still alive (one cache write, no lock)."""
    try:
        cache.set(_alive_key(channel_name), 1, STALE_AFTER)
    except Exception:
        logger.exception("Presence heartbeat for %s failed", channel_name)


def presence_leave(*, playlist_id: str, channel_name: str) -> list:
    """Forget this connection; the members still present."""

    def change(entries: dict, now: float) -> None:
        entries.pop(channel_name, None)

    present = presence_users(_update(playlist_id, change))
    with contextlib.suppress(Exception):  # the key expires by itself anyway
        cache.delete(_alive_key(channel_name))
    return present


def presence_list(*, playlist_id: str) -> list:
    try:
        return presence_users(_fresh(cache.get(_key(playlist_id)) or {}, time.time()))
    except Exception:
        return []


def presence_users(entries: dict) -> list[dict[str, Any]]:
    """One item per user (a user may have several tabs open), sorted by username."""
    users: dict[str, dict[str, Any]] = {}
    for entry in entries.values():
        user = users.setdefault(entry["id"], {"id": entry["id"], "username": entry["username"],
                                              "connections": 0})
        user["connections"] += 1
    return sorted(users.values(), key=lambda u: (u["username"].lower(), u["id"]))


# For consumers. Presence touches only the cache, never the database, so it runs on the default
# executor's threads instead of the one thread a process shares for database work and sync
# views (thread_sensitive): with thousands of idle sockets refreshing every HEARTBEAT seconds,
# that shared thread would otherwise queue playlist writes behind presence updates.
apresence_join = sync_to_async(presence_join, thread_sensitive=False)
apresence_heartbeat = sync_to_async(presence_heartbeat, thread_sensitive=False)
apresence_leave = sync_to_async(presence_leave, thread_sensitive=False)
apresence_list = sync_to_async(presence_list, thread_sensitive=False)
