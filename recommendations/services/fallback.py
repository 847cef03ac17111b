"""The popularity/content fallback: candidate pools (shared, cached a few minutes) and the scores
that rank them for a listener or a context target, for new listeners and short model lists."""
from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.conf import settings
from django.db.models import Count, FloatField
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast

from playlists.models import Analysis, Track

from ..models import Interaction
from . import context_targets as ct
from .ranking import (
    TRACK_FIELDS,
    Profile,
    candidate_rows_forget,
    local_copy_seconds,
    popularity_of,
    tracks_fetch,
)
from .results_cache import cache_delete, cache_get, cache_set


def _pool_seconds() -> int:
    return int(getattr(settings, "RECO_POOL_SECONDS", 600))


# Pools are the same for every user: each process keeps the copy it last read from the shared
# cache for a little while, instead of unpickling ~1,000 rows from Redis on every cache miss.
_local_pools: dict[str, tuple[float, list[dict[str, Any]]]] = {}
_LOCAL_POOLS_MAX = 512


def pools_forget() -> None:
    """Drop this process's copies of the pools and candidate rows (tests; the shared cache
    keeps its own)."""
    _local_pools.clear()
    candidate_rows_forget()


def _pool_local_get(key: str) -> list[dict[str, Any]] | None:
    local = _local_pools.get(key)
    return local[1] if local is not None and local[0] > time.monotonic() else None


def _pool_get(key: str) -> list[dict[str, Any]] | None:
    rows = _pool_local_get(key)
    if rows is not None:
        return rows
    rows = cache_get(key)
    if rows is not None:
        _pool_keep(key, rows)
    return rows


def _pool_keep(key: str, rows: list[dict[str, Any]]) -> None:
    ttl = min(local_copy_seconds(), _pool_seconds())
    now = time.monotonic()
    if len(_local_pools) >= _LOCAL_POOLS_MAX:  # keys made from request filters: stay bounded
        for stale in [k for k, (until, _) in _local_pools.items() if until <= now]:
            del _local_pools[stale]
        if len(_local_pools) >= _LOCAL_POOLS_MAX:
            _local_pools.clear()
    _local_pools[key] = (now + ttl, rows)


def pool_local(key: str, build: Callable[[], list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Rows only this process keeps (cheaper to read again than to ship through the shared
    cache), built on a miss and kept as long as the local copies of the pools."""
    rows = _pool_local_get(key)
    if rows is None:
        rows = build()
        _pool_keep(key, rows)
    return rows


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


FRESH_POOL_KEY = "reco:pool:fresh"


def pool_fresh(size: int = 200) -> list[dict[str, Any]]:
    """The newest analysed tracks with audio: no model has seen them yet, so their features
    (the content path) are all that can recommend them."""
    rows = _pool_get(FRESH_POOL_KEY)
    if rows is not None:
        return rows
    rows = [dict(r, id=str(r["id"]), _rank_pop=0.0) for r in
            Track.objects.filter(has_audio=True, analysis=Analysis.DONE)
            .order_by("-created_at").values(*TRACK_FIELDS)[:size]]
    cache_set(FRESH_POOL_KEY, rows, _pool_seconds())
    _pool_keep(FRESH_POOL_KEY, rows)
    return rows


def pool_fresh_forget() -> None:
    """A track was just analysed: the next fallback reads the fresh pool again."""
    _local_pools.pop(FRESH_POOL_KEY, None)
    cache_delete(FRESH_POOL_KEY)


def fallback_candidates(profile: Profile, *, only_genres: set[str] | None = None) -> list[
        dict[str, Any]]:
    """Candidate rows for the popularity/content fallback: global pool, taste genres (or
    `only_genres`), and the newest tracks with analysed audio."""
    if only_genres is not None:
        genres = set(only_genres)
    else:
        genres = set(profile.pref_genres)
        genres |= {g for g, _ in Counter(profile.genre_share).most_common(3)}
    rows: dict[str, dict[str, Any]] = {r["id"]: r for r in pool_global()}
    for r in pool_fresh():
        rows.setdefault(r["id"], r)
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


@dataclass
class RowNumbers:
    """Rows' popularity, energy and TARGET_FEATURES as arrays (NaN: not known), for scoring
    and filtering many rows at once."""

    pop: np.ndarray
    energy: np.ndarray
    feats: np.ndarray  # rows x TARGET_FEATURES

    def take(self, idx: np.ndarray) -> RowNumbers:
        return RowNumbers(self.pop[idx], self.energy[idx], self.feats[idx])

    def in_ranges(self, ranges: dict[str, tuple[float, float]]) -> np.ndarray:
        """Which rows have every ranged feature, within its [lo, hi] (of TARGET_FEATURES)."""
        keep = np.ones(len(self.pop), bool)
        for name, (lo, hi) in ranges.items():
            col = self.feats[:, ct.TARGET_FEATURES.index(name)]
            keep &= (col >= lo) & (col <= hi)  # NaN (unknown) compares False: out
        return keep


def row_numbers(rows: list[dict[str, Any]]) -> RowNumbers:
    numbers = [_row_numbers(r) for r in rows]
    n = len(rows)
    return RowNumbers(np.fromiter((x[0] for x in numbers), float, n),
                      np.fromiter((x[1] for x in numbers), float, n),
                      np.array([x[2] for x in numbers], float).reshape(
                          n, len(ct.TARGET_FEATURES)))


def fallback_scores(rows: list[dict[str, Any]], profile: Profile,
                    target: dict[str, float] | None, *,
                    numbers: RowNumbers | None = None) -> np.ndarray:
    """Fallback scores of many rows, as array arithmetic (the cache-miss path scores ~1,000):
    popularity + genre affinity (preferences, history) + energy and context closeness.
    `numbers`: the rows' `row_numbers`, when the caller has them."""
    n = len(rows)
    if n == 0:
        return np.zeros(0)
    numbers = numbers or row_numbers(rows)
    pop, energy = numbers.pop, numbers.energy
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
        score += 0.15 * closeness_scores(rows, target, numbers=numbers)
    return score


def closeness_scores(rows: list[dict[str, Any]], target: dict[str, float], *,
                     numbers: RowNumbers | None = None) -> np.ndarray:
    """`context_targets.closeness` of many rows as array arithmetic."""
    if not set(target) <= set(ct.TARGET_FEATURES):
        return np.array([ct.closeness(r.get("features") or {}, target) for r in rows], float)
    feats = (numbers or row_numbers(rows)).feats
    cols = [ct.TARGET_FEATURES.index(f) for f in target]
    want = np.array(list(target.values()), float)
    scale = np.array([ct.TEMPO_SCALE if f == "tempo" else 1.0 for f in target])
    dist = np.minimum(1.0, np.abs(feats[:, cols] - want) / scale)
    known = ~np.isnan(dist)
    count = known.sum(axis=1)
    return np.where(count > 0, 1.0 - np.where(known, dist, 0.0).sum(axis=1)
                    / np.maximum(count, 1), 0.5)
