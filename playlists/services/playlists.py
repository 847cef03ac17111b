"""Track edits (SPEC.md §4), and the lock and event log every playlist write goes through.

Each change runs in one transaction that locks the playlist row, keeps positions 0..n-1, bumps
`version` by one, appends a `PlaylistEvent` and broadcasts that event after commit. Because the
row lock serialises writers, versions are gap-free and the event log replays to the current list.

`(playlist, position)` is unique and not deferrable, and `position` is a PositiveIntegerField
(a CHECK >= 0), so rows are shifted in two steps through a disjoint range above `_OFFSET`: no
intermediate state ever holds two rows on one position, whatever order the database updates in.
"""
from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from audotics.exceptions import ApplicationError
from collaboration import broadcast

from ..models import Collaborator, Playlist, PlaylistEvent, PlaylistTrack, Track
from ..signals import tracks_added

MAX_TRACKS_PER_PLAYLIST = 10_000
MAX_IDS_PER_REQUEST = 500
# Larger than any position a playlist can hold, smaller than a 32-bit integer.
_OFFSET = 1_000_000

Events = PlaylistEvent.Type


# ---------------------------------------------------------------------------- helpers


def _not_found() -> ApplicationError:
    return ApplicationError("Playlist not found.", code="not_found", status=404)


def _lock(*, playlist: Playlist | uuid.UUID | str, user, owner_only: bool = False) -> Playlist:
    """The playlist row, locked for this transaction; 404 for strangers, 403 for non-owners."""
    playlist_id = playlist.pk if isinstance(playlist, Playlist) else playlist
    try:
        locked = Playlist.objects.select_for_update().get(pk=uuid.UUID(str(playlist_id)))
    except (Playlist.DoesNotExist, ValueError):
        raise _not_found() from None
    is_owner = locked.owner_id == user.pk
    if not is_owner and not Collaborator.objects.filter(playlist=locked, user_id=user.pk).exists():
        raise _not_found()
    if owner_only and not is_owner:
        raise ApplicationError(
            "Only the owner may do this.", code="permission_denied", status=403
        )
    return locked


def _check_version(playlist: Playlist, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != playlist.version:
        raise ApplicationError(
            f"The playlist is at version {playlist.version}, not {expected_version}.",
            code="version_conflict",
            status=409,
            fields={"expectedVersion": [f"current version is {playlist.version}"]},
        )


def _record(playlist: Playlist, *, user, type: str, data: dict[str, Any]) -> PlaylistEvent:
    """Bump the version, append the event and broadcast it once the transaction commits."""
    playlist.version += 1
    playlist.updated_at = timezone.now()
    Playlist.objects.filter(pk=playlist.pk).update(
        version=playlist.version, updated_at=playlist.updated_at
    )
    event = PlaylistEvent.objects.create(
        playlist=playlist, version=playlist.version, type=type, user=user, data=data
    )
    message = {
        "type": type,
        "playlist_id": str(playlist.pk),
        "user_id": str(user.pk) if user else None,
        "version": event.version,
        "data": data,
    }

    def send() -> None:
        # The timestamp is taken after commit: it is when the change became visible.
        stamped = {**message, "timestamp": int(time.time() * 1000)}
        broadcast.playlist_event(str(playlist.pk), stamped)

    transaction.on_commit(send)
    return event


def _shift(playlist: Playlist, *, start: int, stop: int | None, delta: int) -> None:
    """Move rows with start <= position < stop by `delta`, without ever colliding.

    PostgreSQL checks the unique (playlist, position) constraint row by row, in whatever order
    the plan visits rows, so each UPDATE must only land on slots that are free before it runs:
    first up into [_OFFSET, 2 * _OFFSET), then down to their targets, all vacated by the first
    step. A row parked at 2 * _OFFSET by a move stays where it is.
    """
    if delta == 0:
        return
    rows = PlaylistTrack.objects.filter(playlist=playlist, position__gte=start)
    if stop is not None:
        rows = rows.filter(position__lt=stop)
    if rows.update(position=F("position") + _OFFSET) == 0:
        return
    PlaylistTrack.objects.filter(
        playlist=playlist, position__gte=_OFFSET, position__lt=2 * _OFFSET
    ).update(position=F("position") - _OFFSET + delta)


def _entries(playlist: Playlist) -> list[PlaylistTrack]:
    return list(
        PlaylistTrack.objects.filter(playlist=playlist)
        .select_related("track", "added_by")
        .order_by("position")
    )


def _entry_payload(entries: Iterable[PlaylistTrack]) -> list[dict[str, Any]]:
    from ..serializers import PlaylistEntrySerializer

    return [dict(e) for e in PlaylistEntrySerializer(list(entries), many=True).data]


def _parse_ids(track_ids: Sequence[Any]) -> list[uuid.UUID]:
    """Validate a request's id list: size, syntax and no repeats."""
    if not isinstance(track_ids, (list, tuple)):
        raise ApplicationError(
            "trackIds must be a list.", code="validation_error", fields={"trackIds": ["not a list"]}
        )
    if len(track_ids) > MAX_IDS_PER_REQUEST:
        raise ApplicationError(
            f"At most {MAX_IDS_PER_REQUEST} track ids per request.", code="too_large", status=413
        )
    if not track_ids:
        raise ApplicationError(
            "trackIds is empty.", code="validation_error", fields={"trackIds": ["empty"]}
        )
    parsed: list[uuid.UUID] = []
    bad: list[str] = []
    for raw in track_ids:
        try:
            parsed.append(raw if isinstance(raw, uuid.UUID) else uuid.UUID(str(raw)))
        except (ValueError, AttributeError, TypeError):
            bad.append(str(raw)[:64])
    if bad:
        raise ApplicationError(
            "Malformed track ids.", code="validation_error", fields={"trackIds": bad[:20]}
        )
    seen: set[uuid.UUID] = set()
    repeated = [str(t) for t in parsed if t in seen or seen.add(t)]
    if repeated:
        raise ApplicationError(
            "A track id appears more than once in the request.",
            code="duplicate_ids",
            fields={"trackIds": sorted(set(repeated))},
        )
    return parsed


# ---------------------------------------------------------------------------- tracks


@transaction.atomic
def playlist_tracks_add(
    *,
    playlist: Playlist | uuid.UUID | str,
    user,
    track_ids: Sequence[Any],
    position: int | None = None,
    expected_version: int | None = None,
) -> PlaylistEvent:
    """Insert tracks, in the given order, at `position` (default and past the end: append)."""
    locked = _lock(playlist=playlist, user=user)
    _check_version(locked, expected_version)
    ids = _parse_ids(track_ids)
    if position is not None and (isinstance(position, bool) or not isinstance(position, int)
                                 or position < 0):
        raise ApplicationError(
            "position must be a non-negative integer.",
            code="validation_error",
            fields={"position": ["a non-negative integer"]},
        )
    # One query for both checks below (the common case: nothing present, room enough).
    sizes = PlaylistTrack.objects.filter(playlist=locked).aggregate(
        count=Count("pk"), present=Count("pk", filter=Q(track_id__in=ids)))
    count = sizes["count"]
    if count + len(ids) > MAX_TRACKS_PER_PLAYLIST:
        raise ApplicationError(
            f"A playlist holds at most {MAX_TRACKS_PER_PLAYLIST} tracks.",
            code="too_large",
            status=413,
        )
    tracks = {t.pk: t for t in Track.objects.filter(pk__in=ids)}
    unknown = [str(t) for t in ids if t not in tracks]
    if unknown:
        raise ApplicationError(
            "Unknown track ids.", code="unknown_tracks", fields={"trackIds": unknown}
        )
    if sizes["present"]:
        present = set(PlaylistTrack.objects.filter(playlist=locked, track_id__in=ids)
                      .values_list("track_id", flat=True))
        raise ApplicationError(
            "Some tracks are already in the playlist.",
            code="duplicate_track",
            status=409,
            fields={"trackIds": [str(t) for t in ids if t in present]},
        )
    at = count if position is None else min(position, count)
    _shift(locked, start=at, stop=None, delta=len(ids))
    created = PlaylistTrack.objects.bulk_create(
        [
            PlaylistTrack(playlist=locked, track=tracks[tid], position=at + i, added_by=user)
            for i, tid in enumerate(ids)
        ]
    )
    for entry in created:
        entry.added_by = user
    tracks_added.send(sender=Playlist, user_id=user.pk, track_ids=ids, context=locked.context)
    return _record(
        locked,
        user=user,
        type=Events.TRACK_ADDED,
        data={"position": at, "tracks": _entry_payload(created)},
    )


@transaction.atomic
def playlist_tracks_remove(
    *,
    playlist: Playlist | uuid.UUID | str,
    user,
    track_ids: Sequence[Any],
    expected_version: int | None = None,
) -> PlaylistEvent:
    """Remove tracks and close the gaps they leave."""
    locked = _lock(playlist=playlist, user=user)
    _check_version(locked, expected_version)
    ids = _parse_ids(track_ids)
    # Only the rows asked for: the cost of a removal does not grow with the playlist.
    found = dict(PlaylistTrack.objects.filter(playlist=locked, track_id__in=ids)
                 .values_list("track_id", "position"))
    missing = set(ids) - found.keys()
    if missing:
        raise ApplicationError(
            "Some tracks are not in the playlist.",
            code="not_in_playlist",
            status=409,
            fields={"trackIds": [str(t) for t in ids if t in missing]},
        )
    PlaylistTrack.objects.filter(playlist=locked, track_id__in=ids).delete()
    # Close the gaps: the rows between the k-th and the (k+1)-th removed position move up by
    # k+1, one range at a time (two UPDATEs each, touching only the rows after the first gap).
    gone = sorted(found.values())
    for k, start in enumerate(gone):
        stop = gone[k + 1] if k + 1 < len(gone) else None
        _shift(locked, start=start + 1, stop=stop, delta=-(k + 1))
    return _record(
        locked,
        user=user,
        type=Events.TRACK_REMOVED,
        data={"track_ids": [str(t) for t in ids]},
    )


@transaction.atomic
def playlist_track_move(
    *,
    playlist: Playlist | uuid.UUID | str,
    user,
    track_id: Any,
    position: int,
    expected_version: int | None = None,
) -> PlaylistEvent:
    """Move one track to `position` (past the end: last); the others close up around it."""
    locked = _lock(playlist=playlist, user=user)
    _check_version(locked, expected_version)
    (tid,) = _parse_ids([track_id])
    if isinstance(position, bool) or not isinstance(position, int) or position < 0:
        raise ApplicationError(
            "position must be a non-negative integer.",
            code="validation_error",
            fields={"position": ["a non-negative integer"]},
        )
    entry = PlaylistTrack.objects.filter(playlist=locked, track_id=tid).first()
    if entry is None:
        raise ApplicationError(
            "The track is not in the playlist.",
            code="not_in_playlist",
            status=409,
            fields={"trackId": [str(tid)]},
        )
    count = PlaylistTrack.objects.filter(playlist=locked).count()
    old, new = entry.position, min(position, count - 1)
    if old != new:
        # Park the moving row above every shifted row's temporary range, shift, then land it.
        PlaylistTrack.objects.filter(pk=entry.pk).update(position=2 * _OFFSET)
        if old < new:
            _shift(locked, start=old + 1, stop=new + 1, delta=-1)
        else:
            _shift(locked, start=new, stop=old, delta=1)
        PlaylistTrack.objects.filter(pk=entry.pk).update(position=new)
    return _record(
        locked,
        user=user,
        type=Events.TRACK_MOVED,
        data={"track_id": str(tid), "from_position": old, "to_position": new},
    )
