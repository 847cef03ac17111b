"""Playlists when their owner's account goes (users.signals.account_deleting)."""
from __future__ import annotations

from django.db import transaction

from ..models import Collaborator, Playlist, PlaylistEvent
from .playlists import _record


@transaction.atomic
def playlists_owner_leave(*, user) -> int:
    """Hand each collaborative playlist `user` owns to its longest-standing collaborator, who
    keeps editing it with the others; returns how many were handed over. The user's other
    playlists are deleted with the account, and the tracks they added to playlists that stay
    remain there, added by "a deleted user" (added_by becomes empty)."""
    handed = 0
    owned = Playlist.objects.select_for_update().filter(owner=user, is_collaborative=True)
    for playlist in owned.order_by("created_at"):
        heir = (Collaborator.objects.filter(playlist=playlist).exclude(user=user)
                .select_related("user").order_by("added_at", "id").first())
        if heir is None:
            continue
        Playlist.objects.filter(pk=playlist.pk).update(owner=heir.user)
        heir.delete()  # the owner is not also a collaborator
        _record(playlist, user=None, type=PlaylistEvent.Type.PLAYLIST_UPDATED,
                data={"owner_changed": {"id": str(heir.user_id),
                                        "username": heir.user.username}})
        handed += 1
    return handed
