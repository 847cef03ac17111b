"""Writes to the catalog and to playlists. Submodules: `catalog` (imports), `playlists` (track
edits, and the lock and event log every playlist write goes through), `metadata` (create,
rename, describe, delete), `sharing` (collaborators and share links)."""
from .metadata import (
    context_clean,
    playlist_create,
    playlist_delete,
    playlist_update,
)
from .playlists import (
    MAX_IDS_PER_REQUEST,
    MAX_TRACKS_PER_PLAYLIST,
    playlist_track_move,
    playlist_tracks_add,
    playlist_tracks_remove,
)
from .sharing import (
    playlist_collaborator_add,
    playlist_collaborator_remove,
    share_link_create,
    share_link_join,
    share_link_revoke,
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
    "share_link_create",
    "share_link_join",
    "share_link_revoke",
]
