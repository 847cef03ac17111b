"""What the playlists app does when an account is exported or deleted (users.signals)."""
from __future__ import annotations

from django.dispatch import receiver

from users.signals import account_deleting, account_exporting

from . import exports
from .services import accounts


@receiver(account_exporting, dispatch_uid="playlists.account_export")
def account_export(sender, *, user, **kwargs) -> dict:
    """The user's playlists, each as a JSPF file."""
    return exports.playlists_export(user=user)


@receiver(account_deleting, dispatch_uid="playlists.account_delete")
def account_delete(sender, *, user, **kwargs) -> None:
    """Shared playlists pass to their longest-standing collaborator; the rest go."""
    accounts.playlists_owner_leave(user=user)
