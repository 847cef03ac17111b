"""Reads of the catalog and of playlists."""
import uuid
from typing import Any

from django.db import transaction
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404

from . import search
from .models import Collaborator, Playlist, PlaylistEvent, PlaylistTrack, Track


def track_list(*, q: str = "", artist: str = "", genre: str = "",
               playable: bool = False) -> search.TrackResults:
    """Tracks matching a free-text query on title, artist or album, and exact artist/genre
    filters, ranked by relevance then popularity; `playable`: only tracks with audio on this
    server. Ranking, counting and typo tolerance: playlists/search.py."""
    return search.track_search(q=q, artist=artist, genre=genre, playable=playable)


def track_get(*, track_id: str) -> Track:
    """One track by id; a malformed id is simply not found."""
    try:
        key = uuid.UUID(str(track_id))
    except ValueError:
        raise Http404("No such track.") from None
    try:
        return Track.objects.get(pk=key)
    except Track.DoesNotExist:
        raise Http404("No such track.") from None


def _uuid_or_404(value: Any) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise Http404("No such playlist.") from None


def _with_details(playlists: QuerySet[Playlist]) -> QuerySet[Playlist]:
    entries = PlaylistTrack.objects.select_related("track", "added_by").order_by("position")
    collaborators = Collaborator.objects.select_related("user").order_by("added_at")
    return playlists.select_related("owner").prefetch_related(
        Prefetch("entries", queryset=entries),
        Prefetch("collaborators", queryset=collaborators),
    )


def _visible_to(user) -> Q:
    shared = Collaborator.objects.filter(user_id=user.pk).values("playlist_id")
    return Q(owner_id=user.pk) | Q(pk__in=shared)


def playlist_list(*, user, details: bool = True) -> QuerySet[Playlist]:
    """The user's own playlists and those they collaborate on, most recently changed first.

    `details=False`: playlists and owners only; `playlist_entry_rows` and
    `playlist_collaborator_rows` then read a page's entries and collaborators as plain rows.
    """
    playlists = Playlist.objects.filter(_visible_to(user)).order_by("-updated_at", "id")
    return _with_details(playlists) if details else playlists.select_related("owner")


def playlist_entry_rows(playlist_ids: list[Any]) -> list[tuple]:
    """(playlist id, track id, track updated_at, added_by id, added_by username, added_at,
    position) of the playlists' entries, in position order: no model instances, no JSON."""
    return list(PlaylistTrack.objects.filter(playlist_id__in=playlist_ids)
                .order_by("playlist_id", "position")
                .values_list("playlist_id", "track_id", "track__updated_at", "added_by_id",
                             "added_by__username", "added_at", "position"))


def playlist_collaborator_rows(playlist_ids: list[Any]) -> list[tuple]:
    """(playlist id, user id, username, role, added_at) of the playlists' collaborators."""
    return list(Collaborator.objects.filter(playlist_id__in=playlist_ids)
                .order_by("playlist_id", "added_at")
                .values_list("playlist_id", "user_id", "user__username", "role", "added_at"))


def playlist_get(*, playlist_id: Any, user) -> Playlist:
    """One playlist the user may read; malformed ids and other people's playlists are 404."""
    key = _uuid_or_404(playlist_id)
    playlist = _with_details(Playlist.objects.filter(_visible_to(user), pk=key)).first()
    if playlist is None:
        raise Http404("No such playlist.")
    return playlist


def playlist_is_member(*, playlist_id: Any, user) -> bool:
    """Whether the user owns or collaborates on the playlist."""
    if not getattr(user, "is_authenticated", False):
        return False
    try:
        key = uuid.UUID(str(playlist_id))
    except ValueError:
        return False
    return Playlist.objects.filter(_visible_to(user), pk=key).exists()


def playlist_exists(*, playlist_id: Any) -> bool:
    try:
        key = uuid.UUID(str(playlist_id))
    except ValueError:
        return False
    return Playlist.objects.filter(pk=key).exists()


def playlist_snapshot(*, playlist_id: Any) -> dict[str, Any] | None:
    """`{version, tracks}` that agree: the row lock keeps writers out between the two reads."""
    from .serializers import PlaylistEntrySerializer

    with transaction.atomic():
        row = (
            Playlist.objects.select_for_update().filter(pk=playlist_id).values("version").first()
        )
        if row is None:
            return None
        entries = (
            PlaylistTrack.objects.filter(playlist_id=playlist_id)
            .select_related("track", "added_by")
            .order_by("position")
        )
        tracks = PlaylistEntrySerializer(entries, many=True).data
    return {"version": row["version"], "tracks": tracks}


def playlist_events_since(
    *, playlist_id: Any, version: int, limit: int = 1000
) -> list[PlaylistEvent]:
    """Logged events after `version`, in order: what a socket missed."""
    return list(
        PlaylistEvent.objects.filter(playlist_id=playlist_id, version__gt=version)
        .order_by("version")[:limit]
    )


def playlist_export_entries(*, playlist: Playlist) -> list[PlaylistTrack]:
    """The playlist's entries in order with their tracks, for JSPF/M3U export."""
    return list(playlist.entries.all())
