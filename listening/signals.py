"""What the listening app tells the others (STYLE.md §10: events, not imports of services)."""
from django.dispatch import Signal

# Sent inside the transaction that stored new listens, with `user_id` and `listens` (the new
# rows as dicts of Listen attnames: track_id, kind, ms_played, source, listened_at, ...):
# receivers write what they derive from them atomically with the listens.
listens_recorded = Signal()
