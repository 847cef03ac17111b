"""Reads of the catalog and of playlists."""
import uuid
from typing import Any

from django.db import transaction
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404

from . import search
from .models import Collaborator, Playlist, PlaylistEvent, PlaylistShareLink, PlaylistTrack, Track
from .share_tokens import share_token_link_id


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
    """`{version, tracks, playlist}` that agree: the row lock keeps writers out between the
    reads. `playlist` is what a page shows besides the tracks (name, description, context,
    collaboration and collaborators), so a page that reconnects also catches up on those."""
    from .serializers import CollaboratorSerializer, PlaylistEntrySerializer

    with transaction.atomic():
        row = (
            Playlist.objects.select_for_update().filter(pk=playlist_id)
            .values("version", "name", "description", "context", "is_collaborative").first()
        )
        if row is None:
            return None
        entries = (
            PlaylistTrack.objects.filter(playlist_id=playlist_id)
            .select_related("track", "added_by")
            .order_by("position")
        )
        tracks = PlaylistEntrySerializer(entries, many=True).data
        collaborators = CollaboratorSerializer(
            Collaborator.objects.filter(playlist_id=playlist_id).select_related("user")
            .order_by("added_at"), many=True).data
    details = {k: row[k] for k in ("name", "description", "context", "is_collaborative")}
    return {"version": row["version"], "tracks": tracks,
            "playlist": {**details, "collaborators": collaborators}}


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


# A playlist's cover is a 2x2 mosaic of its first four distinct album covers: fewer than four
# and the first one stands alone (static/js/playlist-details.js draws the same for live edits).
COVER_TILES = 4


def playlist_cover_track_ids(*, tracks: list[Track]) -> list[str]:
    """Ids of the tracks whose covers make the playlist's cover, in playlist order: up to four
    with a cover, one per album (tracks of one album share its art); [] when none has one."""
    ids: list[str] = []
    albums: set[tuple[str, str]] = set()
    for track in tracks:
        if not track.has_cover:
            continue
        # Without an album name a track's art is its own.
        album = ((track.artist or "").casefold(), (track.album or "").casefold())
        if track.album and album in albums:
            continue
        albums.add(album)
        ids.append(str(track.pk))
        if len(ids) == COVER_TILES:
            break
    return ids if len(ids) == COVER_TILES else ids[:1]


def share_link_live(*, playlist: Playlist) -> PlaylistShareLink | None:
    """The playlist's live share link, if it has one (callers check that the user owns it)."""
    return PlaylistShareLink.objects.filter(playlist=playlist, revoked_at=None).first()


def share_link_preview(*, token: Any) -> PlaylistShareLink | None:
    """The live link a token belongs to, with its playlist and owner, while the playlist is
    collaborative (a private playlist's link is dormant); None for any other token."""
    link_id = share_token_link_id(token)
    if link_id is None:
        return None
    return (PlaylistShareLink.objects.select_related("playlist", "playlist__owner")
            .filter(pk=link_id, revoked_at=None, playlist__is_collaborative=True).first())
