"""Writes to the catalog and to playlists. Submodules: `catalog` (imports), `playlists` (edits)."""
from .playlists import (
    MAX_IDS_PER_REQUEST,
    MAX_TRACKS_PER_PLAYLIST,
    context_clean,
    playlist_collaborator_add,
    playlist_collaborator_remove,
    playlist_create,
    playlist_delete,
    playlist_track_move,
    playlist_tracks_add,
    playlist_tracks_remove,
    playlist_update,
)

__all__ = [
    "MAX_IDS_PER_REQUEST",
    "MAX_TRACKS_PER_PLAYLIST",
    "context_clean",
    "playlist_collaborator_add",
    "playlist_collaborator_remove",
    "playlist_create",
    "playlist_delete",
    "playlist_track_move",
    "playlist_tracks_add",
    "playlist_tracks_remove",
    "playlist_update",
]
