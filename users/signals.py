"""What the users app tells the others about an account (STYLE.md §10: events, not imports)."""
from django.dispatch import Signal

# Sent with `user` when the account's data is exported; each receiver returns the files it
# owns as {"name.json": JSON-able data}, gathered into the export's zip.
account_exporting = Signal()

# Sent with `user` inside the deletion's transaction, before the account row goes: receivers
# hand over or tidy what cascading deletes would get wrong (a shared playlist's new owner).
account_deleting = Signal()
