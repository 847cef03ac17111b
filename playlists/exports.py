"""Playlists as files: JSPF (https://xspf.org/jspf) and extended M3U, for one playlist's download
and for the account's data export."""
from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils.text import slugify

from .models import Playlist
from .selectors import playlist_export_entries


def _m3u_text(value: str) -> str:
    # A newline in a title would start a new M3U directive.
    return " ".join(str(value or "").split())


def playlist_file_stem(playlist: Playlist) -> str:
    return slugify(playlist.name) or "playlist"


def playlist_jspf(*, playlist: Playlist) -> dict[str, Any]:
    """The playlist as a JSPF document; tracks are identified by `urn:uuid:<track id>`."""
    tracks = []
    for entry in playlist_export_entries(playlist=playlist):
        track = entry.track
        item = {"title": track.title, "creator": track.artist,
                "identifier": [f"urn:uuid:{track.pk}"]}
        if track.album:
            item["album"] = track.album
        if track.duration_ms is not None:
            item["duration"] = track.duration_ms
        tracks.append(item)
    document = {"title": playlist.name, "creator": playlist.owner.username,
                "date": playlist.updated_at.isoformat(),
                "identifier": f"urn:uuid:{playlist.pk}", "track": tracks}
    if playlist.description:
        document["annotation"] = playlist.description  # JSPF's "comment on the playlist"
    return {"playlist": document}


def playlist_m3u(*, playlist: Playlist) -> str:
    """The playlist as extended M3U text."""
    lines = ["#EXTM3U", f"#PLAYLIST:{_m3u_text(playlist.name)}"]
    for entry in playlist_export_entries(playlist=playlist):
        track = entry.track
        seconds = round(track.duration_ms / 1000) if track.duration_ms else -1
        lines.append(f"#EXTINF:{seconds},{_m3u_text(track.artist)} - {_m3u_text(track.title)}")
        lines.append(f"urn:uuid:{track.pk}")
    return "\n".join(lines) + "\n"


def playlists_export(*, user) -> dict[str, Any]:
    """{"playlists/<name>-<id>.jspf": JSPF} for every playlist the user owns or edits."""
    playlists = (Playlist.objects.filter(Q(owner=user) | Q(collaborators__user=user))
                 .select_related("owner").distinct())
    return {f"playlists/{playlist_file_stem(p)}-{str(p.pk)[:8]}.jspf": playlist_jspf(playlist=p)
            for p in playlists}
