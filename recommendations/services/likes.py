"""A person's likes (and dislikes): the tracks with a `like` interaction of theirs, until they
unlike them; a dislike can be taken back the same way.

A like is an interaction like any other (the model learns from it); unliking deletes the user's
`like` rows for that track, so it no longer counts at the next training, and drops the cached
lists. The model in this process keeps the folded-in like until its next reload.
"""
from __future__ import annotations

import uuid
from collections.abc import Iterable

from django.db.models import Max, QuerySet

from playlists.models import Track

from ..models import Interaction
from . import results_cache


def likes_list(*, user, track_ids: Iterable[str] | None = None) -> QuerySet:
    """`{track_id, liked_at}` rows of the user's liked tracks, the latest like first; only
    among `track_ids` when given (a page asking which of its tracks are liked)."""
    likes = Interaction.objects.filter(user=user, type=Interaction.Type.LIKE)
    if track_ids is not None:
        likes = likes.filter(track_id__in=_uuids(track_ids))
    return (likes.values("track_id").annotate(liked_at=Max("created_at"))
            .order_by("-liked_at", "track_id"))


def likes_tracks(rows: Iterable[dict]) -> list[Track]:
    """The Track rows of a page of `likes_list`, in its order."""
    ids = [row["track_id"] for row in rows]
    tracks = Track.objects.in_bulk(ids)
    return [tracks[i] for i in ids if i in tracks]


def like_remove(*, user, track_id: str) -> int:
    """Unlike a track (idempotent); returns the number of like rows removed."""
    return _feedback_remove(user=user, track_id=track_id, kind=Interaction.Type.LIKE)


def dislike_remove(*, user, track_id: str) -> int:
    """Take back a dislike (Discover's undo; idempotent): the track may be offered again."""
    return _feedback_remove(user=user, track_id=track_id, kind=Interaction.Type.DISLIKE)


def _feedback_remove(*, user, track_id: str, kind: str) -> int:
    ids = _uuids([track_id])
    if not ids:
        return 0
    removed, _ = Interaction.objects.filter(user=user, track_id=ids[0], type=kind).delete()
    if removed:
        results_cache.user_cache_invalidate(user_id=str(user.pk))
    return removed


def _uuids(values: Iterable[str]) -> list[uuid.UUID]:
    out = []
    for value in values:
        try:
            out.append(uuid.UUID(str(value).strip()))
        except ValueError:
            continue  # not a track id: it cannot be liked
    return out
