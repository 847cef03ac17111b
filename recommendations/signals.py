"""What the recommendations app tells the others (STYLE.md §10: events, not imports of services)."""
from django.dispatch import Signal

# Sent inside the transaction that stored interactions reported through the API, with `user_id`
# and `interactions` (the new Interaction rows; `context.source == "player"` for the Audotics
# player's plays and skips, which the listening app keeps as listens in History).
interactions_recorded = Signal()
