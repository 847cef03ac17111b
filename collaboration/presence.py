"""Who is connected to a playlist, shared by every worker through the cache (Redis).

One cache entry per playlist maps each connection (its channel name) to its user and a
heartbeat time. Entries of crashed workers stop being refreshed and are pruned after
`STALE_AFTER` seconds. Updates take a short cache lock (`cache.add`) so that two workers
changing the same playlist's map cannot lose each other's writes.
"""
from __future__ import annotations

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


def _update(playlist_id: str, change) -> dict[str, Any]:
    key, lock = _key(playlist_id), _key(playlist_id) + ":lock"
    token = uuid.uuid4().hex
    deadline = time.monotonic() + 1.0
    locked = False
    try:
        while not (locked := cache.add(lock, token, timeout=2)) and time.monotonic() < deadline:
            time.sleep(0.005)
        # Past the deadline, write anyway: a lost presence update beats a stuck socket.
        entries = cache.get(key) or {}
        now = time.time()
        entries = {c: e for c, e in entries.items() if now - e.get("seen", 0) < STALE_AFTER}
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
    """Record (or refresh) this connection; the members present afterwards."""

    def change(entries: dict, now: float) -> None:
        entries[channel_name] = {"id": user_id, "username": username, "seen": now}

    return presence_users(_update(playlist_id, change))


def presence_leave(*, playlist_id: str, channel_name: str) -> list:
    """Forget this connection; the members still present."""

    def change(entries: dict, now: float) -> None:
        entries.pop(channel_name, None)

    return presence_users(_update(playlist_id, change))


def presence_list(*, playlist_id: str) -> list:
    try:
        entries = cache.get(_key(playlist_id)) or {}
    except Exception:
        return []
    now = time.time()
    fresh = {c: e for c, e in entries.items() if now - e.get("seen", 0) < STALE_AFTER}
    return presence_users(fresh)


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
apresence_leave = sync_to_async(presence_leave, thread_sensitive=False)
apresence_list = sync_to_async(presence_list, thread_sensitive=False)
