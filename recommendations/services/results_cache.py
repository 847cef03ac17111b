"""The per-user result cache: lists stored under a generation token that new interactions change."""
from __future__ import annotations

import contextlib
import uuid
from typing import Any

from django.conf import settings
from django.core.cache import cache


def cache_get(key: str) -> Any:
    """cache.get that treats an unreachable cache as a miss (lists are then computed)."""
    try:
        return cache.get(key)
    except Exception:  # noqa: BLE001 - redis errors vary by client; never fail a read for them
        return None


def cache_set(key: str, value: Any, timeout: int | None) -> None:
    with contextlib.suppress(Exception):  # an unreachable cache only costs a recomputation
        cache.set(key, value, timeout)


def cache_delete(key: str) -> None:
    with contextlib.suppress(Exception):  # unreachable: the entry expires on its own
        cache.delete(key)


def gen_key(user_id: str) -> str:
    return f"reco:gen:{user_id}"


def cache_seconds() -> int:
    return int(getattr(settings, "RECO_CACHE_SECONDS", 3600))


def user_cache_invalidate(*, user_id: str) -> None:
    """New interactions: every cached list of this user becomes unreachable."""
    with contextlib.suppress(Exception):  # a cache outage must not fail the write
        cache.set(gen_key(user_id), uuid.uuid4().hex[:12], timeout=30 * 24 * 3600)


def _list_key(user_id: str, suffix: str) -> str:
    return f"reco:u:{user_id}:{suffix}"


def user_list_get(user_id: str, suffix: str) -> tuple[str, Any]:
    """(generation token, cached list or None), one cache round trip.

    A list is stored with the generation token current when its computation started; a new
    interaction changes the token (`user_cache_invalidate`), so every older list of the user
    misses at once, whatever its limit, context or playlist. Redis down counts as a miss.
    """
    token_key, key = gen_key(user_id), _list_key(user_id, suffix)
    try:
        got = cache.get_many([token_key, key])
    except Exception:  # noqa: BLE001 - redis errors vary by client; never fail a read for them
        return "0", None
    gen = got.get(token_key, "0")
    stored = got.get(key)
    if not isinstance(stored, tuple) or stored[0] != gen:
        return gen, None
    return gen, stored[1]


def user_lists_set(lists: dict[str, Any], suffix: str, gens: dict[str, str] | None = None,
                   ) -> None:
    """Store lists {user id: value}; `gens` are the tokens read before computing them."""
    if gens is None:
        try:
            got = cache.get_many([gen_key(u) for u in lists])
        except Exception:  # noqa: BLE001
            return
        gens = {u: got.get(gen_key(u), "0") for u in lists}
    values = {_list_key(u, suffix): (gens[u], v) for u, v in lists.items()}
    with contextlib.suppress(Exception):  # an unreachable cache only costs a recomputation
        if hasattr(cache, "client") and hasattr(cache.client, "encode"):
            _redis_set_many(values, cache_seconds())
        else:
            cache.set_many(values, cache_seconds())


# SET ... EX for every key in one round trip and one command: django-redis' set_many pipelines
# one command per key, and at batch sizes their packing and replies cost more than the lists.
_SET_ALL = """
for i = 1, #KEYS do redis.call('SET', KEYS[i], ARGV[i], 'EX', ARGV[#ARGV]) end
return #KEYS
"""


def _redis_set_many(values: dict[str, Any], timeout: int) -> None:
    """`cache.set_many` for django-redis, same keys and encoding (read back by cache.get)."""
    client = cache.client
    raw = client.get_client(write=True)
    keys = [str(client.make_key(k)) for k in values]
    args = [client.encode(v) for v in values.values()]
    raw.eval(_SET_ALL, len(keys), *keys, *args, timeout)
