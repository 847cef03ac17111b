"""What the playlists app tells the others (STYLE.md §10: events, not imports of services)."""
from django.dispatch import Signal

# Sent inside the transaction that added tracks to a playlist, with `user_id`, `track_ids` and
# `context` (the playlist's): an add is a taste signal the recommender learns from.
tracks_added = Signal()
