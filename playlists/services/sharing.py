"""Who may edit a playlist: collaborators invited by username, and share links that let a
signed-in person join a collaborative playlist by opening them.

Joining is recorded like an invitation (a PLAYLIST_UPDATED event with `collaborator_added`), so
members see the newcomer live and the event log says who let them in.
"""
from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from audotics.exceptions import ApplicationError
from collaboration import broadcast

from ..models import Collaborator, Playlist, PlaylistEvent, PlaylistShareLink
from ..share_tokens import share_token_link_id
from .playlists import _lock, _record

Events = PlaylistEvent.Type


def _not_collaborative() -> ApplicationError:
    return ApplicationError(
        "Make the playlist collaborative before inviting people.",
        code="not_collaborative",
        status=400,
    )


def _collaborator_added(playlist: Playlist, collaborator: Collaborator, *, by) -> None:
    """Log and broadcast a new member; `by` is who invited them (or the joiner, by link)."""
    _record(
        playlist,
        user=by,
        type=Events.PLAYLIST_UPDATED,
        data={
            "collaborator_added": {
                "id": str(collaborator.user.pk),
                "username": collaborator.user.username,
                "role": collaborator.role,
                "added_at": collaborator.added_at.isoformat(),
            }
        },
    )


# ---------------------------------------------------------------------------- collaborators


@transaction.atomic
def playlist_collaborator_add(
    *, playlist: Playlist | uuid.UUID | str, user, username: str
) -> Collaborator:
    """Invite a user by username (owner only, collaborative playlists only)."""
    locked = _lock(playlist=playlist, user=user, owner_only=True)
    if not locked.is_collaborative:
        raise _not_collaborative()
    users = get_user_model().objects.filter(is_active=True)
    invitee = (
        users.filter(username__iexact=username.strip()).first()
        if isinstance(username, str)
        else None
    )
    if invitee is None:
        raise ApplicationError(
            "No such user.", code="unknown_user", status=400, fields={"username": ["no such user"]}
        )
    if invitee.pk == locked.owner_id:
        raise ApplicationError(
            "The owner is already a member.", code="already_member", status=409
        )
    if Collaborator.objects.filter(playlist=locked, user=invitee).exists():
        raise ApplicationError(
            "This user is already a collaborator.", code="already_member", status=409
        )
    collaborator = Collaborator.objects.create(playlist=locked, user=invitee)
    _collaborator_added(locked, collaborator, by=user)
    return collaborator


@transaction.atomic
def playlist_collaborator_remove(
    *, playlist: Playlist | uuid.UUID | str, user, collaborator_id: Any
) -> None:
    """Remove a collaborator (owner only, or the collaborator leaving); their sockets close."""
    playlist_id = playlist.pk if isinstance(playlist, Playlist) else playlist
    try:
        target_id = uuid.UUID(str(collaborator_id))
    except ValueError:
        raise ApplicationError("No such collaborator.", code="not_found", status=404) from None
    leaving = target_id == user.pk
    locked = _lock(playlist=playlist_id, user=user, owner_only=not leaving)
    deleted, _ = Collaborator.objects.filter(playlist=locked, user_id=target_id).delete()
    if not deleted:
        raise ApplicationError("No such collaborator.", code="not_found", status=404)
    _record(
        locked,
        user=user,
        type=Events.PLAYLIST_UPDATED,
        data={"collaborator_removed": {"id": str(target_id)}},
    )
    pid = str(locked.pk)
    transaction.on_commit(lambda: broadcast.playlist_member_removed(pid, str(target_id)))


# ---------------------------------------------------------------------------- share links


def _invalid_link() -> ApplicationError:
    # One answer for a forged, revoked or dormant link: none of them says more than the others.
    return ApplicationError(
        "This invite link is not valid (any more). Ask the owner for a new one.",
        code="invalid_share_link",
        status=404,
    )


@transaction.atomic
def share_link_create(
    *, playlist: Playlist | uuid.UUID | str, user
) -> tuple[PlaylistShareLink, bool]:
    """The playlist's live share link, made if there is none: (link, created). Owner only."""
    locked = _lock(playlist=playlist, user=user, owner_only=True)
    if not locked.is_collaborative:
        raise _not_collaborative()
    # The playlist row lock serialises creators: no two live links (a constraint backs this).
    live = PlaylistShareLink.objects.filter(playlist=locked, revoked_at=None).first()
    if live is not None:
        return live, False
    link = PlaylistShareLink(playlist=locked, created_by=user)
    link.full_clean()
    link.save()
    return link, True


@transaction.atomic
def share_link_revoke(*, playlist: Playlist | uuid.UUID | str, user) -> None:
    """Kill the playlist's live share link (owner only); 404 when there is none."""
    locked = _lock(playlist=playlist, user=user, owner_only=True)
    revoked = PlaylistShareLink.objects.filter(playlist=locked, revoked_at=None).update(
        revoked_at=timezone.now()
    )
    if not revoked:
        raise ApplicationError("This playlist has no share link.", code="not_found", status=404)


@transaction.atomic
def share_link_join(*, token: Any, user) -> tuple[Playlist, bool]:
    """Join the playlist a share link invites to: (playlist, joined); joined is False for
    someone already a member. The link works while it is live and the playlist collaborative."""
    link_id = share_token_link_id(token)
    link = (PlaylistShareLink.objects.filter(pk=link_id, revoked_at=None).first()
            if link_id else None)
    if link is None:
        raise _invalid_link()
    locked = Playlist.objects.select_for_update().filter(pk=link.playlist_id).first()
    # Revoking takes the same row lock: a link turned off meanwhile is seen as off here.
    if (locked is None or not locked.is_collaborative
            or not PlaylistShareLink.objects.filter(pk=link.pk, revoked_at=None).exists()):
        raise _invalid_link()
    if locked.owner_id == user.pk or Collaborator.objects.filter(playlist=locked,
                                                                 user_id=user.pk).exists():
        return locked, False
    collaborator = Collaborator.objects.create(playlist=locked, user=user)
    PlaylistShareLink.objects.filter(pk=link.pk).update(joined_count=F("joined_count") + 1)
    _collaborator_added(locked, collaborator, by=user)
    return locked, True
