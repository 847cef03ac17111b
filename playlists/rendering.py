"""Tracks and playlists as response bytes, for the hottest reads.

The playlist list carries every playlist with every track (SPEC.md §4 `Playlist`). Through DRF
serializers and the camelCase renderer, a page of 20 playlists of 10 tracks costs ~50 ms of
Python: field objects per value, then a recursive camelize of every features dict. Here each
track is rendered once per process into a camelCased JSON fragment, reused while the row's
`updated_at` is unchanged, and a playlist is joined from fragments. The output is the same JSON
as `PlaylistSerializer` + `CamelCaseJSONRenderer` (a test compares them); the serializers stay
the schema's documentation and serve the WebSocket snapshots.
"""
from __future__ import annotations

import contextlib
import functools
import json
import math
import time
from collections.abc import Iterable
from json.encoder import encode_basestring as _encode_string
from typing import Any

from django.conf import settings
from django.core.cache import cache
from djangorestframework_camel_case.settings import api_settings as camel_settings
from djangorestframework_camel_case.util import camelize
from rest_framework import serializers

from .models import Playlist, Track

TRACK_WIRE_FIELDS = ("id", "title", "artist", "album", "duration_ms", "features", "metadata",
                     "has_audio", "has_cover", "analysis")
MAX_FRAGMENTS = 300_000

# track id -> (updated_at, fragment without its closing brace, stored at, title, artist)
_fragments: dict[str, tuple[Any, bytes, float, str, str]] = {}
_datetime = serializers.DateTimeField()


def dumps(value: Any) -> bytes:
    """JSON as DRF's JSONRenderer writes it by default (compact, UTF-8, strict floats)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def string(value: str) -> bytes:
    """A JSON string, as `dumps` writes it (the encoder's C routine, without its overhead)."""
    return _encode_string(value).encode()


def number(value: float) -> bytes:
    """A finite float or int as JSON (repr is JSON for those; NaN/inf are not valid scores)."""
    if not math.isfinite(value):
        raise ValueError("scores must be finite")
    return repr(value).encode()


def camel_dumps(value: Any) -> bytes:
    """`value` (JSON-native: dicts, lists, scalars) camelCased as the renderer does, as JSON."""
    return dumps(_camelize(value))


@functools.lru_cache(maxsize=4096)
def _camel_key(key: str) -> str:
    # The library's own rule, applied once per distinct key: its regex per key per value
    # was a tenth of a rendered recommendation list.
    return next(iter(camelize({key: None}, **camel_settings.JSON_UNDERSCOREIZE)))


def _camelize(value: Any) -> Any:
    if isinstance(value, dict):
        return {_camel_key(k) if isinstance(k, str) else k: _camelize(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_camelize(v) for v in value]
    return value


def fragments_forget() -> None:
    """Drop every cached fragment (tests; bulk catalog changes are seen by `updated_at`)."""
    _fragments.clear()


def _remember(row: Any) -> bytes:
    get = row.get if isinstance(row, dict) else lambda k: getattr(row, k)
    tid = str(get("id"))
    body = {k: (tid if k == "id" else get(k)) for k in TRACK_WIRE_FIELDS}
    frag = camel_dumps(body)[:-1]
    _keep(tid, (get("updated_at"), frag, time.monotonic(), get("title"), get("artist")))
    return frag


def track_fragment(track: Track | dict[str, Any]) -> bytes:
    """`{"id":…,"title":…,…,"metadata":{…}` (no closing brace) of a loaded track or row."""
    tid = str(track["id"] if isinstance(track, dict) else track.pk)
    updated = track["updated_at"] if isinstance(track, dict) else track.updated_at
    hit = _fragments.get(tid)
    if hit is not None and hit[0] == updated:
        return hit[1]
    return _remember(track)


def track_bytes(track: Track) -> bytes:
    """`Track` (SPEC.md §4), as TrackSerializer + the camelCase renderer write it."""
    return track_fragment(track) + b"}"


def track_fragments(ids: Iterable[str]) -> dict[str, tuple[bytes, str, str]]:
    """{id: (fragment, title, artist)} for track ids: this process's copies, then the shared
    cache's, then one query for the rest.

    Without a row at hand, a fragment is trusted for RECO_FRAGMENT_SECONDS from when it was
    rendered, wherever it was rendered, so a renamed track shows its new title within that time.
    The shared level exists because a process sees a list's tracks for the first time on most
    cached-list reads (many workers, each recycled after a few thousand requests): one cache
    round trip instead of a query and 20 renders. Ids not in the catalog are missing.
    """
    ttl = _trusted_seconds()
    now = time.monotonic()
    ids = set(ids)
    stale = [i for i in ids if i not in _fragments or now - _fragments[i][2] > ttl]
    if stale:
        _load(_shared_get(stale, ttl))
    return {i: (f[1], f[3], f[4]) for i in ids if (f := _fragments.get(i)) is not None}


def _trusted_seconds() -> float:
    return float(getattr(settings, "RECO_FRAGMENT_SECONDS", 300))


def _shared_key(track_id: str) -> str:
    return f"frag:{track_id}"


def _shared_get(ids: list[str], ttl: float) -> list[str]:
    """Adopt the shared cache's fresh fragments of `ids`; the ids it did not have."""
    try:
        got = cache.get_many([_shared_key(i) for i in ids])
    except Exception:  # noqa: BLE001 - redis errors vary by client; the database still knows
        return ids
    missing = []
    wall, now = time.time(), time.monotonic()
    for tid in ids:
        entry = got.get(_shared_key(tid))
        age = wall - entry[1] if entry else ttl
        if age >= ttl:
            missing.append(tid)
            continue
        updated, _, frag, title, artist = entry
        _keep(tid, (updated, frag, now - age, title, artist))
    return missing


def _keep(tid: str, entry: tuple[Any, bytes, float, str, str]) -> None:
    if len(_fragments) >= MAX_FRAGMENTS:
        _fragments.clear()
    _fragments[tid] = entry


def _load(ids: list[Any]) -> dict[str, bytes]:
    """Read and render the given tracks (one query); {id: fragment} of those that exist. The
    fragments also go to the shared cache, for other processes (`track_fragments`)."""
    if not ids:
        return {}
    out = {str(row["id"]): _remember(row) for row in Track.objects.filter(pk__in=ids)
           .order_by().values(*TRACK_WIRE_FIELDS, "updated_at")}
    ttl = int(_trusted_seconds())
    if out and ttl > 0:
        wall = time.time()
        with contextlib.suppress(Exception):  # an unreachable cache only costs a query later
            cache.set_many({_shared_key(t): (e[0], wall, e[1], e[3], e[4])
                            for t in out if (e := _fragments.get(t)) is not None}, timeout=ttl)
    return out


def _fragments_for(entries: list[tuple]) -> dict[str, bytes]:
    """{track id: fragment} for entry rows, one query for tracks not cached or changed since.
    A local mapping: the shared cache may be cleared by another thread meanwhile."""
    out: dict[str, bytes] = {}
    stale = []
    for _, tid, updated, *_ in entries:
        key = str(tid)
        hit = _fragments.get(key)
        if hit is not None and hit[0] == updated:
            out[key] = hit[1]
        else:
            stale.append(key)
    out.update(_load(stale))
    return out


def _user_ref(user: Any) -> dict[str, Any] | None:
    return None if user is None else {"id": str(user.pk), "username": user.username}


def playlists_bytes(playlists: list[Playlist], entries: list[tuple],
                    collaborators: list[tuple]) -> list[bytes]:
    """`Playlist` of each playlist (with its owner) from `selectors.playlist_entry_rows` and
    `selectors.playlist_collaborator_rows`: rows, not model instances, for the list endpoint."""
    frags = _fragments_for(entries)
    by_playlist: dict[Any, list[bytes]] = {}
    for pid, tid, _, by_id, by_name, added_at, position in entries:
        if str(tid) not in frags:
            continue  # deleted since the entries were read (its entries go with it)
        added_by = {"id": str(by_id), "username": by_name} if by_id is not None else None
        by_playlist.setdefault(pid, []).append(
            _entry(frags[str(tid)], added_by, added_at, position))
    members: dict[Any, list[dict[str, Any]]] = {}
    for pid, uid, username, role, added_at in collaborators:
        members.setdefault(pid, []).append(_member(uid, username, role, added_at))
    return [_playlist_join(p, by_playlist.get(p.pk, []), members.get(p.pk, []))
            for p in playlists]


def playlist_bytes(playlist: Playlist) -> bytes:
    """`Playlist` (SPEC.md §4) of a playlist fetched with the selectors' prefetches."""
    entries = [_entry(track_fragment(e.track), _user_ref(e.added_by), e.added_at, e.position)
               for e in playlist.entries.all()]
    members = [_member(c.user.pk, c.user.username, c.role, c.added_at)
               for c in playlist.collaborators.all()]
    return _playlist_join(playlist, entries, members)


def _entry(fragment: bytes, added_by: dict[str, Any] | None, added_at, position: int) -> bytes:
    """`PlaylistEntry`: the track's fragment closed with who added it, when, and where."""
    return b'%s,"addedBy":%s,"addedAt":%s,"position":%d}' % (
        fragment, dumps(added_by), dumps(_datetime.to_representation(added_at)), position)


def _member(user_id: Any, username: str, role: str, added_at) -> dict[str, Any]:
    """A collaborator, before camelCasing."""
    return {"id": str(user_id), "username": username, "role": role,
            "added_at": _datetime.to_representation(added_at)}


def _playlist_join(playlist: Playlist, entries: list[bytes], members: list[dict[str, Any]],
                   ) -> bytes:
    head = camel_dumps({
        "id": str(playlist.pk), "name": playlist.name,
        "description": playlist.description, "owner": _user_ref(playlist.owner),
        "is_collaborative": playlist.is_collaborative, "context": playlist.context,
        "version": playlist.version,
    })[:-1]
    tail = camel_dumps({
        "collaborators": members,
        "created_at": _datetime.to_representation(playlist.created_at),
        "updated_at": _datetime.to_representation(playlist.updated_at),
    })[1:]
    return head + b',"tracks":[' + b",".join(entries) + b"]," + tail


def page_bytes(*, count: int, next_url: str | None, previous_url: str | None,
               results: Iterable[bytes]) -> bytes:
    """`{count, next, previous, results}` around already rendered results."""
    head = dumps({"count": count, "next": next_url, "previous": previous_url})[:-1]
    return head + b',"results":[' + b",".join(results) + b"]}"


def change_bytes(event: Any) -> bytes:
    """`PlaylistChange` (SPEC.md §4) of a recorded `PlaylistEvent`: what a track write answers."""
    return camel_dumps({"id": str(event.playlist_id), "version": event.version,
                        "type": event.type, "data": event.data})
