"""What the library app tells the others (STYLE.md §10: events, not imports of services)."""
from django.dispatch import Signal

# Sent after the commit that stored a track's features from its audio, with `track_id`: the
# recommender's content path can offer the track at once.
track_analysed = Signal()
