"""Shared pieces of every recommendation: context checks, track rows, user profiles, reasons
and diversity. The popularity/content fallback is `fallback.py`, the per-user result cache
`results_cache.py`; with `serving` they are the adapter between the ORM and mlcore (STYLE.md §3).
"""
from __future__ import annotations

import json
import math
import threading
import time
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection

from audotics.exceptions import ApplicationError
from mlcore.context import CONTEXT_VOCAB
from playlists.models import Track

from ..models import Interaction

TRACK_FIELDS = ("id", "title", "artist", "album", "duration_ms", "genre", "features", "metadata",
                "has_audio", "has_cover", "analysis", "updated_at")
POSITIVE_TYPES = ("like", "add", "play")
# The newest positives whose tracks a profile reads: reasons look at 30, genre share and usual
# energy describe the listener's recent taste.
LIKED_DETAILS = 50
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


def context_vocabulary() -> dict[str, tuple[str, ...]]:
    """The moods, activities and times of day that `context_parse` accepts, for forms to offer."""
    return {"mood": CONTEXT_VOCAB["mood"], "activity": CONTEXT_VOCAB["activity"],
            "time_of_day": CONTEXT_VOCAB["timeOfDay"]}


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


# What ranking reads of a candidate track (metadata: only its popularity).
CANDIDATE_FIELDS = ("id", "title", "artist", "genre", "features", "metadata__popularity")


def candidate_row(values: tuple[Any, ...], *, decode: bool = False) -> dict[str, Any]:
    """A CANDIDATE_FIELDS tuple as a ranking row; `decode`: its JSON arrives as text."""
    tid, title, artist, genre, features, popularity = values
    if decode:
        features = json.loads(features) if features is not None else None
        popularity = json.loads(popularity) if popularity is not None else None
    return {"id": str(tid), "title": title, "artist": artist, "genre": genre,
            "features": features, "metadata": {"popularity": popularity}}


# Candidate rows this process read lately, by id: (until, row), oldest first. A model's
# candidates recur across listeners (popular tracks): at 1M tracks, 73% of a new listener's
# top 100 were among the last 20,000 rows read (bench/README.md). Kept as long as the local
# copies of the fallback's pools, so a changed track ranks on its old features as long.
_rows: OrderedDict[str, tuple[float, dict[str, Any]]] = OrderedDict()
_rows_lock = threading.Lock()
_ROWS_MAX = 20_000


def local_copy_seconds() -> float:
    """How long a process reuses its own copies of shared rows (pools, candidate rows)."""
    return float(getattr(settings, "RECO_POOL_LOCAL_SECONDS", 30))


def candidate_rows_forget() -> None:
    with _rows_lock:
        _rows.clear()


def candidate_rows(ids: list[str]) -> list[dict[str, Any]]:
    """`candidate_row`s of tracks by id (this process's recent copies, then one query); ids no
    longer in the catalog are missing."""
    now = time.monotonic()
    out, missing = [], []
    with _rows_lock:
        for tid in ids:
            hit = _rows.get(tid)
            if hit is not None and hit[0] > now:
                _rows.move_to_end(tid)
                out.append(hit[1])
            else:
                missing.append(tid)
    if not missing:
        return out
    read = _candidate_rows_read(missing)
    until = now + local_copy_seconds()
    with _rows_lock:
        for row in read:
            _rows[row["id"]] = (until, row)
            _rows.move_to_end(row["id"])
        while len(_rows) > _ROWS_MAX:
            _rows.popitem(last=False)
    return out + read


def _candidate_rows_read(ids: list[str]) -> list[dict[str, Any]]:
    """On PostgreSQL the ids go as one array parameter, come back as text, and the JSON is
    decoded here: the ORM's IN list of a hundred ids and its row conversion cost more than the
    query."""
    if connection.vendor != "postgresql":
        return [candidate_row(v) for v in Track.objects.filter(pk__in=ids).order_by()
                .values_list(*CANDIDATE_FIELDS)]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id::text, title, artist, genre, features, metadata -> 'popularity' "
            f"FROM {Track._meta.db_table} WHERE id = ANY(%s::uuid[])", [list(ids)])
        return [candidate_row(v, decode=True) for v in cursor.fetchall()]


def track_payload(row: dict[str, Any], score: float, reason: str) -> dict[str, Any]:
    """`Track + {score, reason}` as sent on the wire (snake_case; camelCased by the renderer)."""
    return {
        "id": str(row["id"]), "title": row["title"], "artist": row["artist"],
        "album": row["album"], "duration_ms": row["duration_ms"], "features": row["features"],
        "metadata": row["metadata"], "has_audio": row["has_audio"],
        "has_cover": row["has_cover"], "analysis": row["analysis"],
        "score": round(float(score), 4), "reason": reason,
    }


def popularity_of(row: dict[str, Any]) -> float:
    try:
        return min(1.0, max(0.0, float((row.get("metadata") or {}).get("popularity", 0)) / 100.0))
    except (TypeError, ValueError):
        return 0.0


# ---------------------------------------------------------------------------- profiles


@dataclass
class Profile:
    """What the adapter knows of a listener without the model."""

    user_id: str
    preferences: dict[str, Any] = field(default_factory=dict)
    liked: list[dict[str, Any]] = field(default_factory=list)  # recent positives, newest first
    seen: set[str] = field(default_factory=set)
    disliked: set[str] = field(default_factory=set)
    # The newest interactions read, newest first: (id, track id, type, created_at).
    recent: list[tuple[Any, Any, str, Any]] = field(default_factory=list)

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
    """Recent interactions of several users, and the details of their newest LIKED_DETAILS
    positives' tracks (`candidate_rows`: joining every interaction to its track row cost a
    random read per row, 14 ms for 200 rows on the 1M-track catalog)."""
    out = {str(u.pk): Profile(str(u.pk), dict(getattr(u, "preferences", None) or {}))
           for u in users}
    if not out:
        return out
    counts: Counter[str] = Counter()
    liked: dict[str, list[tuple[str, str]]] = {u: [] for u in out}
    for uid, iid, tid, ty, at in _recent_interactions(list(out), per_user * len(out)):
        if counts[uid] >= per_user:
            continue
        counts[uid] += 1
        prof = out[uid]
        prof.recent.append((iid, tid, ty, at))
        prof.seen.add(tid)
        if ty == "dislike":
            prof.disliked.add(tid)
        elif (ty in POSITIVE_TYPES and tid not in prof.disliked
              and len(liked[uid]) < LIKED_DETAILS):
            liked[uid].append((tid, ty))
    wanted = {tid for pairs in liked.values() for tid, _ in pairs}
    details = {r["id"]: r for r in candidate_rows(list(wanted))}
    for uid, prof in out.items():
        prof.liked = [{"id": tid, "title": details[tid]["title"],
                       "artist": details[tid]["artist"], "genre": details[tid]["genre"],
                       "features": details[tid]["features"] or {}, "type": ty}
                      for tid, ty in liked[uid] if tid in details and tid not in prof.disliked]
    return out


def _recent_interactions(user_ids: list[str], limit: int) -> list[tuple[str, str, str, str, Any]]:
    """The `limit` newest interactions of the users: (user id, id, track id, type, created_at),
    ids as text. On PostgreSQL the ids arrive as text (the ORM's rows built and converted UUID
    objects: 0.8 against 0.36 ms for a listener's ~50 rows on the 1M-track catalog)."""
    if connection.vendor != "postgresql":
        qs = (Interaction.objects.filter(user_id__in=user_ids).order_by("-created_at")
              .values_list("user_id", "id", "track_id", "type", "created_at"))
        return [(str(u), str(i), str(t), ty, at) for u, i, t, ty, at in qs[:limit]]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT user_id::text, id::text, track_id::text, type, created_at "
            f"FROM {Interaction._meta.db_table} WHERE user_id = ANY(%s::uuid[]) "
            "ORDER BY created_at DESC LIMIT %s", [user_ids, limit])
        return cursor.fetchall()


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
