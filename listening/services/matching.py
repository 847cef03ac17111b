"""Finding the catalog track a listen is of: Spotify id, then MusicBrainz recording id, then the
normalised artist and title (playlists/matching.py). A listen that matches nothing creates a
metadata-only track (`metadata.source = "listen"`), so it still counts for the model; a later
catalog import with the same Spotify id fills that track in instead of duplicating it."""
from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db.models import Q

from playlists.matching import match_key
from playlists.models import Track

LOOKUP_CHUNK = 2000
LISTEN_SOURCE = "listen"


@dataclass(frozen=True)
class Resolved:
    track_id: uuid.UUID
    duration_ms: int | None
    in_catalog: bool  # False for metadata-only tracks made from listens


def _chunks(values: Sequence[str]) -> Iterable[list[str]]:
    for start in range(0, len(values), LOOKUP_CHUNK):
        yield list(values[start:start + LOOKUP_CHUNK])


def _rows(q: Q) -> list[tuple]:
    return list(Track.objects.filter(q).order_by().values_list(
        "id", "external_id", "match_key", "duration_ms", "metadata__source"))


def _resolved(row: tuple) -> Resolved:
    return Resolved(row[0], row[3], row[4] != LISTEN_SOURCE)


def tracks_resolve(heard: Sequence) -> tuple[list[Resolved], int]:
    """The track of each listen (same order), creating metadata-only tracks for the unmatched;
    returns them with the number of tracks created."""
    by_external: dict[str, Resolved] = {}
    wanted = sorted({e for h in heard for e in h.external_ids()})
    for chunk in _chunks(wanted):
        for row in _rows(Q(external_id__in=chunk)):
            by_external[row[1]] = _resolved(row)
    keys = [match_key(h.artist, h.title) for h in heard]
    by_key: dict[str, Resolved] = {}
    open_keys = sorted({k for h, k in zip(heard, keys, strict=True)
                        if not any(e in by_external for e in h.external_ids())})
    for chunk in _chunks(open_keys):
        # Several tracks may share a key (a single and its album version): prefer the catalog's,
        # then the oldest, so every listen of one recording lands on the same track.
        for row in sorted(_rows(Q(match_key__in=chunk)), key=lambda r: (r[4] == LISTEN_SOURCE,
                                                                       r[1])):
            by_key.setdefault(row[2], _resolved(row))
    missing: dict[str, object] = {}
    for h, key in zip(heard, keys, strict=True):
        if not any(e in by_external for e in h.external_ids()) and key not in by_key:
            missing.setdefault(key, h)
    created = _metadata_tracks_create(missing)
    for chunk in _chunks(list(created)):
        for row in _rows(Q(external_id__in=chunk)):
            by_key[created[row[1]]] = _resolved(row)
    out = []
    for h, key in zip(heard, keys, strict=True):
        hit = next((by_external[e] for e in h.external_ids() if e in by_external), None)
        out.append(hit or by_key[key])
    return out, len(created)


def _metadata_tracks_create(missing: dict[str, object]) -> dict[str, str]:
    """{external id: match key} of the tracks made for listens nothing matched."""
    rows, made = [], {}
    for key, h in missing.items():
        ids = h.external_ids()
        external_id = ids[0] if ids else f"listen:{hashlib.sha1(key.encode()).hexdigest()}"
        made[external_id] = key
        metadata = {"source": LISTEN_SOURCE}
        if h.spotify_id:
            metadata["spotify_id"] = h.spotify_id
        if h.mbid:
            metadata["recording_mbid"] = h.mbid
        rows.append(Track(external_id=external_id, title=h.title[:300], artist=h.artist[:300],
                          album=(h.album or "")[:300], duration_ms=h.duration_ms,
                          metadata=metadata, match_key=key))
    # ignore_conflicts: a concurrent import of another user may create the same track first.
    Track.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
    return made
