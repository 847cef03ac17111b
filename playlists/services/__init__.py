"""Writes to the catalog and to playlists. Submodules: `catalog` (imports)."""
