"""Shared pieces of every recommendation: context checks, user profiles, candidate pools,
the popularity/content fallback, reasons, diversity and the per-user result cache.

This module and `serving` are the adapter between the ORM and mlcore (STYLE.md §3).
"""
from __future__ import annotations

import contextlib
import math
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, FloatField
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast

from audotics.exceptions import ApplicationError
from mlcore.context import CONTEXT_VOCAB
from playlists.models import Track

from ..models import Interaction
from . import context_targets as ct

TRACK_FIELDS = ("id", "title", "artist", "album", "duration_ms", "genre", "features", "metadata")
POSITIVE_TYPES = ("like", "add", "play")
# mood/activity/timeOfDay as they arrive (query parameters are not camel-converted) -> Python key.
CONTEXT_FIELDS = {"mood": "mood", "activity": "activity", "timeOfDay": "time_of_day",
                  "time_of_day": "time_of_day"}


# ---------------------------------------------------------------------------- context


def context_parse(raw: dict[str, Any], *, prefix: str | None = None) -> dict[str, str]:
    """Check mood/activity/timeOfDay against mlcore's vocabulary; 400 naming the bad field."""
    clean: dict[str, str] = {}
    errors: dict[str, list[str]] = {}
    for key, value in raw.items():
        if key not in CONTEXT_FIELDS or value in (None, ""):
            continue
        py_key = CONTEXT_FIELDS[key]
        vocab_key = "timeOfDay" if py_key == "time_of_day" else py_key
        vocab = CONTEXT_VOCAB[vocab_key]
        v = str(value).strip().lower() if isinstance(value, str) else None
        if v not in vocab:
            errors[vocab_key] = [f"must be one of: {', '.join(vocab)}"]
        else:
            clean[py_key] = v
    if errors:
        fields: dict[str, Any] = {prefix: errors} if prefix else errors
        raise ApplicationError("Invalid context.", code="validation_error", fields=fields)
    return clean


def context_public(ctx: dict[str, Any]) -> dict[str, Any]:
    """The context echoed in responses (snake_case; the renderer camelCases it)."""
    return {k: ctx.get(k) for k in ("mood", "activity", "time_of_day")}


# ---------------------------------------------------------------------------- tracks


def tracks_fetch(ids: list[str]) -> dict[str, dict[str, Any]]:
    """Track rows by id (plain dicts); ids no longer in the catalog are simply missing."""
    if not ids:
        return {}
    rows = Track.objects.filter(pk__in=ids).order_by().values(*TRACK_FIELDS)
    return {str(r["id"]): dict(r, id=str(r["id"])) for r in rows}


def track_payload(row: dict[str, Any], score: float, reason: str) -> dict[str, Any]:
    """`Track + {score, reason}` as sent on the wire (snake_case; camelCased by the renderer)."""
    return {
        "id": str(row["id"]), "title": row["title"], "artist": row["artist"],
        "album": row["album"], "duration_ms": row["duration_ms"], "features": row["features"],
        "metadata": row["metadata"], "score": round(float(score), 4), "reason": reason,
    }


def popularity_of(row: dict[str, Any]) -> float:
    try:
        return min(1.0, max(0.0, float((row.get("metadata") or {}).get("popularity", 0)) / 100.0))
    except (TypeError, ValueError):
        return 0.0


def in_ranges(row: dict[str, Any], ranges: dict[str, tuple[float, float]]) -> bool:
    feats = row.get("features") or {}
    for name, (lo, hi) in ranges.items():
        v = feats.get(name)
        if not isinstance(v, (int, float)) or not lo <= v <= hi:
            return False
    return True


# ---------------------------------------------------------------------------- profiles


@dataclass
class Profile:
    """What the adapter knows of a listener without the model."""

    user_id: str
    preferences: dict[str, Any] = field(default_factory=dict)
    liked: list[dict[str, Any]] = field(default_factory=list)  # recent positives, newest first
    seen: set[str] = field(default_factory=set)
    disliked: set[str] = field(default_factory=set)

    @property
    def has_history(self) -> bool:
        return bool(self.liked)

    # Computed once per profile (read for every candidate); profiles are built, then read.
    @property
    def genre_share(self) -> dict[str, float]:
        if "_share" not in self.__dict__:
            counts = Counter(r["genre"] for r in self.liked if r["genre"])
            total = sum(counts.values())
            self.__dict__["_share"] = (
                {g: n / total for g, n in counts.items()} if total else {})
        return self.__dict__["_share"]

    @property
    def pref_genres(self) -> set[str]:
        if "_prefs" not in self.__dict__:
            genres = self.preferences.get("genres") or []
            self.__dict__["_prefs"] = {str(g).lower() for g in genres if isinstance(g, str)}
        return self.__dict__["_prefs"]

    @property
    def usual_energy(self) -> float | None:
        if "_energy" in self.__dict__:
            return self.__dict__["_energy"]
        energies = [r["features"].get("energy") for r in self.liked
                    if isinstance((r["features"] or {}).get("energy"), (int, float))]
        e = self.preferences.get("energy")
        value = (sum(energies) / len(energies) if energies
                 else float(e) if isinstance(e, (int, float)) else None)
        self.__dict__["_energy"] = value
        return value


def profiles_load(users: list[Any], *, per_user: int = 200) -> dict[str, Profile]:
    """Recent interactions of several users (one query), with the tracks' details."""
    out = {str(u.pk): Profile(str(u.pk), dict(getattr(u, "preferences", None) or {}))
           for u in users}
    if not out:
        return out
    qs = (Interaction.objects.filter(user_id__in=list(out)).order_by("-created_at")
          .values_list("user_id", "track_id", "type", "track__title", "track__artist",
                       "track__genre", "track__features"))
    counts: Counter[str] = Counter()
    for uid, tid, ty, title, artist, genre, feats in qs[: per_user * len(out)]:
        uid, tid = str(uid), str(tid)
        if counts[uid] >= per_user:
            continue
        counts[uid] += 1
        prof = out[uid]
        prof.seen.add(tid)
        if ty == "dislike":
            prof.disliked.add(tid)
        elif ty in POSITIVE_TYPES and tid not in prof.disliked:
            prof.liked.append({"id": tid, "title": title, "artist": artist, "genre": genre,
                               "features": feats or {}, "type": ty})
    for prof in out.values():
        prof.liked = [r for r in prof.liked if r["id"] not in prof.disliked]
    return out


# ---------------------------------------------------------------------------- fallback pools


def cache_get(key: str) -> Any:
    """cache.get that treats an unreachable cache as a miss (lists are then computed)."""
    try:
        return cache.get(key)
    except Exception:  # noqa: BLE001 - redis errors vary by client; never fail a read for them
        return None


def cache_set(key: str, value: Any, timeout: int | None) -> None:
    with contextlib.suppress(Exception):  # an unreachable cache only costs a recomputation
        cache.set(key, value, timeout)


def _pool_seconds() -> int:
    return int(getattr(settings, "RECO_POOL_SECONDS", 600))


# Pools are the same for every user: each process keeps the copy it last read from the shared
# cache for a little while, instead of unpickling ~1,000 rows from Redis on every cache miss.
_local_pools: dict[str, tuple[float, list[dict[str, Any]]]] = {}


def pools_forget() -> None:
    """Drop this process's copies of the pools (tests; the shared cache keeps its own)."""
    _local_pools.clear()


def _pool_get(key: str) -> list[dict[str, Any]] | None:
    local = _local_pools.get(key)
    if local is not None and local[0] > time.monotonic():
        return local[1]
    rows = cache_get(key)
    if rows is not None:
        _pool_keep(key, rows)
    return rows


def _pool_keep(key: str, rows: list[dict[str, Any]]) -> None:
    ttl = min(float(getattr(settings, "RECO_POOL_LOCAL_SECONDS", 30)), _pool_seconds())
    _local_pools[key] = (time.monotonic() + ttl, rows)


def pool_global(size: int = 400) -> list[dict[str, Any]]:
    """Most-interacted plus highest-popularity tracks, cached for a few minutes."""
    key = f"reco:pool:global:{size}"
    rows = _pool_get(key)
    if rows is not None:
        return rows
    top_ids = [str(t) for t in Interaction.objects.exclude(type__in=("skip", "dislike"))
               .values("track_id").annotate(n=Count("id")).order_by("-n")
               .values_list("track_id", flat=True)[:size]]
    by_pop = list(
        Track.objects.annotate(pop=Cast(KeyTextTransform("popularity", "metadata"), FloatField()))
        .exclude(pop__isnull=True).order_by("-pop").values(*TRACK_FIELDS)[:size])
    if len(by_pop) < size:  # catalogs without popularity metadata
        by_pop += list(Track.objects.order_by().values(*TRACK_FIELDS)[:size])
    fetched = tracks_fetch(top_ids)
    seen: set[str] = set()
    rows = []
    for n, row in enumerate([fetched[t] for t in top_ids if t in fetched] + by_pop):
        rid = str(row["id"])
        if rid in seen:
            continue
        seen.add(rid)
        row = dict(row, id=rid)
        # Interaction rank counts as popularity too: the top of our own listening is popular here.
        row["_rank_pop"] = max(0.0, 1.0 - n / (2 * size)) if n < len(top_ids) else 0.0
        rows.append(row)
    cache_set(key, rows, _pool_seconds())
    _pool_keep(key, rows)
    return rows


def pool_genre(genre: str, size: int = 200) -> list[dict[str, Any]]:
    """The most popular tracks of one genre, cached for a few minutes."""
    key = f"reco:pool:genre:{size}:{genre[:60]}"
    rows = _pool_get(key)
    if rows is not None:
        return rows
    rows = [dict(r, id=str(r["id"]), _rank_pop=0.0) for r in
            Track.objects.filter(genre=genre)
            .annotate(pop=Cast(KeyTextTransform("popularity", "metadata"), FloatField()))
            .order_by("-pop").values(*TRACK_FIELDS)[:size]]
    cache_set(key, rows, _pool_seconds())
    _pool_keep(key, rows)
    return rows


def fallback_candidates(profile: Profile, *, extra_genres: set[str] | None = None) -> list[
        dict[str, Any]]:
    """Candidate rows for the popularity/content fallback: global pool plus taste genres."""
    genres = set(profile.pref_genres) | set(extra_genres or ())
    genres |= {g for g, _ in Counter(profile.genre_share).most_common(3)}
    rows: dict[str, dict[str, Any]] = {r["id"]: r for r in pool_global()}
    for g in sorted(genres)[:8]:
        for r in pool_genre(g):
            rows.setdefault(r["id"], r)
    return list(rows.values())


def _row_numbers(row: dict[str, Any]) -> tuple[float, float, tuple[float, ...]]:
    """(popularity, energy or NaN, target features or NaN) of a row, computed once per row."""
    cached = row.get("_numbers")
    if cached is None:
        feats = row.get("features") or {}
        energy = feats.get("energy")
        cached = (
            max(popularity_of(row), row.get("_rank_pop", 0.0)),
            float(energy) if isinstance(energy, (int, float)) else math.nan,
            tuple(float(feats[f]) if isinstance(feats.get(f), (int, float)) else math.nan
                  for f in ct.TARGET_FEATURES),
        )
        row["_numbers"] = cached
    return cached


def fallback_scores(rows: list[dict[str, Any]], profile: Profile,
                    target: dict[str, float] | None) -> np.ndarray:
    """Fallback scores of many rows, as array arithmetic (the cache-miss path scores ~1,000):
    popularity + genre affinity (preferences, history) + energy and context closeness."""
    n = len(rows)
    if n == 0:
        return np.zeros(0)
    numbers = [_row_numbers(r) for r in rows]
    pop = np.fromiter((x[0] for x in numbers), float, n)
    energy = np.fromiter((x[1] for x in numbers), float, n)
    genres = [r.get("genre") or "" for r in rows]
    prefs = profile.pref_genres
    affinity = 0.5 * np.fromiter((g in prefs for g in genres), float, n)
    share = profile.genre_share
    if share:
        top = max(share.values())
        affinity += 0.5 * np.fromiter((share.get(g, 0.0) for g in genres), float, n) / top
    usual = profile.usual_energy
    e_close = (np.where(np.isnan(energy), 0.5, 1.0 - np.minimum(1.0, np.abs(energy - usual)))
               if usual is not None else np.full(n, 0.5))
    score = 0.3 * pop + 0.45 * affinity + 0.1 * e_close
    if target:
        score += 0.15 * closeness_scores(rows, target)
    return score


def closeness_scores(rows: list[dict[str, Any]], target: dict[str, float]) -> np.ndarray:
    """`context_targets.closeness` of many rows as array arithmetic."""
    n = len(rows)
    if not set(target) <= set(ct.TARGET_FEATURES):
        return np.array([ct.closeness(r.get("features") or {}, target) for r in rows], float)
    feats = np.array([_row_numbers(r)[2] for r in rows], float).reshape(
        n, len(ct.TARGET_FEATURES))
    cols = [ct.TARGET_FEATURES.index(f) for f in target]
    want = np.array(list(target.values()), float)
    scale = np.array([ct.TEMPO_SCALE if f == "tempo" else 1.0 for f in target])
    dist = np.minimum(1.0, np.abs(feats[:, cols] - want) / scale)
    known = ~np.isnan(dist)
    count = known.sum(axis=1)
    return np.where(count > 0, 1.0 - np.where(known, dist, 0.0).sum(axis=1)
                    / np.maximum(count, 1), 0.5)


# ---------------------------------------------------------------------------- reasons, diversity


_REASON_KEYS = ("energy", "valence", "danceability", "acousticness")


def _vec(feats: dict[str, Any]) -> tuple[float | None, ...]:
    return tuple(float(feats[k]) if isinstance(feats.get(k), (int, float)) else None
                 for k in _REASON_KEYS)


def _distance(a: tuple[float | None, ...], b: tuple[float | None, ...]) -> float:
    total, n = 0.0, 0
    for x, y in zip(a, b, strict=False):
        if x is not None and y is not None:
            total += abs(x - y)
            n += 1
    return total / n if n else 1.0


def _reason_index(profile: Profile) -> tuple[dict[str, dict[str, Any]], list[tuple]]:
    """Per-profile lookup built once: liked track by artist, and (genre, vector, track)."""
    cached = getattr(profile, "_reason_index", None)
    if cached is None:
        by_artist: dict[str, dict[str, Any]] = {}
        by_genre: list[tuple] = []
        for liked in profile.liked[:30]:
            by_artist.setdefault(liked["artist"], liked)
            if liked["genre"]:
                by_genre.append((liked["genre"], _vec(liked["features"] or {}), liked))
        cached = (by_artist, by_genre)
        profile._reason_index = cached  # type: ignore[attr-defined]
    return cached


def reason_for(row: dict[str, Any], profile: Profile) -> str:
    """A human reason: a liked track it resembles, the user's usual energy, or its genre."""
    feats = row.get("features") or {}
    by_artist, by_genre = _reason_index(profile)
    best = by_artist.get(row["artist"])
    if best is None and by_genre:
        vec, genre, best_d = _vec(feats), row.get("genre"), 0.12
        for g, v, liked in by_genre:
            if g == genre:
                d = _distance(v, vec)
                if d < best_d:
                    best, best_d = liked, d
    if best is not None:
        return f"because you liked {best['title']} by {best['artist']}"
    energy = profile.usual_energy
    if energy is not None and isinstance(feats.get("energy"), (int, float)) \
            and abs(float(feats["energy"]) - energy) <= 0.1:
        return "matches your usual energy"
    return f"popular in {row.get('genre') or 'the catalog'}"


def artist_cap(limit: int) -> int:
    """At most 2 tracks per artist per 20 listed."""
    return 2 * max(1, math.ceil(limit / 20))


def diversify(ranked: list[tuple[dict[str, Any], float]], *, limit: int, diversity: bool) -> list[
        tuple[dict[str, Any], float]]:
    """Best-first, at most `artist_cap` per artist; relaxed only if the list would be short."""
    if not diversity:
        return ranked[:limit]
    cap = artist_cap(limit)
    per: Counter[str] = Counter()
    out, rest = [], []
    for row, score in ranked:
        if len(out) >= limit:
            break
        if per[row["artist"]] < cap:
            per[row["artist"]] += 1
            out.append((row, score))
        else:
            rest.append((row, score))
    # A tiny catalog may not have enough artists: a full list beats an empty one.
    return out + rest[: max(0, limit - len(out))]


def minmax(values: list[float]) -> list[float]:
    if not values:
        return []
    lo, hi = min(values), max(values)
    if hi - lo < 1e-12:
        return [1.0 for _ in values]
    return [(v - lo) / (hi - lo) for v in values]


# ---------------------------------------------------------------------------- result cache


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
