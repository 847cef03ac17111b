"""Playlist metadata writes (SPEC.md §4): create, rename, describe, set the context or
collaboration, delete. Each change is one PLAYLIST_UPDATED event through the same lock and log
as track edits (services/playlists.py), so members see it live and in version order.
"""
from __future__ import annotations

import time
import uuid
from typing import Any

from django.db import transaction

from audotics.exceptions import ApplicationError
from collaboration import broadcast

from ..models import DESCRIPTION_MAX_LENGTH, Collaborator, Playlist, PlaylistEvent
from .playlists import _check_version, _lock, _record

Events = PlaylistEvent.Type

CONTEXT_KEYS = {"mood", "activity", "time_of_day", "energy", "tempo", "genres"}


def context_clean(context: Any) -> dict[str, Any]:
    """Lenient check of a `PlaylistContext`; unknown keys are refused, values kept as given."""
    if context is None:
        return {}
    if not isinstance(context, dict):
        raise ApplicationError(
            "context must be an object.",
            code="validation_error",
            fields={"context": ["not an object"]},
        )
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    for key, value in context.items():
        if key not in CONTEXT_KEYS:
            errors[str(key)[:50]] = ["unknown context key"]
        elif key in ("mood", "activity", "time_of_day"):
            if value is None:
                continue
            if not isinstance(value, str) or len(value.strip()) > 50:
                errors[key] = ["a string of at most 50 characters"]
            elif value.strip():
                clean[key] = value.strip()
        elif key in ("energy", "tempo"):
            if value is None:
                continue
            top = 1.0 if key == "energy" else 300.0
            ok = (
                isinstance(value, (list, tuple))
                and len(value) == 2
                and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
                and 0 <= value[0] <= value[1] <= top
            )
            if not ok:
                errors[key] = [f"a range [lo, hi] with 0 <= lo <= hi <= {top:g}"]
            else:
                clean[key] = [float(value[0]), float(value[1])]
        elif key == "genres":
            if value is None:
                continue
            ok = (
                isinstance(value, (list, tuple))
                and len(value) <= 20
                and all(isinstance(g, str) and 0 < len(g) <= 50 for g in value)
            )
            if not ok:
                errors[key] = ["a list of at most 20 genre names (each at most 50 characters)"]
            else:
                clean[key] = [g.strip().lower() for g in value]
    if errors:
        raise ApplicationError(
            "Invalid playlist context.", code="validation_error", fields={"context": errors}
        )
    return clean


def _clean_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > 200:
        raise ApplicationError(
            "A name of 1 to 200 characters is required.",
            code="validation_error",
            fields={"name": ["1 to 200 characters"]},
        )
    return name.strip()


def _clean_description(description: Any) -> str:
    if not isinstance(description, str) or len(description.strip()) > DESCRIPTION_MAX_LENGTH:
        raise ApplicationError(
            f"A description of at most {DESCRIPTION_MAX_LENGTH} characters.",
            code="validation_error",
            fields={"description": [f"at most {DESCRIPTION_MAX_LENGTH} characters"]},
        )
    # One newline convention, whatever the client's platform sent.
    return description.replace("\r\n", "\n").replace("\r", "\n").strip()


# ---------------------------------------------------------------------------- playlists


@transaction.atomic
def playlist_create(
    *, owner, name: str, is_collaborative: bool = False, context: dict[str, Any] | None = None,
    description: str = "",
) -> Playlist:
    """Create an empty playlist at version 0."""
    playlist = Playlist(
        owner=owner,
        name=_clean_name(name),
        description=_clean_description(description),
        is_collaborative=bool(is_collaborative),
        context=context_clean(context),
    )
    playlist.full_clean()
    playlist.save()
    return playlist


@transaction.atomic
def playlist_update(
    *,
    playlist: Playlist | uuid.UUID | str,
    user,
    name: str | None = None,
    description: str | None = None,
    is_collaborative: bool | None = None,
    context: dict[str, Any] | None = None,
    expected_version: int | None = None,
) -> Playlist:
    """Rename, describe, switch collaboration or change the context (owner only)."""
    locked = _lock(playlist=playlist, user=user, owner_only=True)
    _check_version(locked, expected_version)
    changes: dict[str, Any] = {}
    if name is not None and _clean_name(name) != locked.name:
        changes["name"] = _clean_name(name)
    if description is not None and _clean_description(description) != locked.description:
        changes["description"] = _clean_description(description)
    if is_collaborative is not None and bool(is_collaborative) != locked.is_collaborative:
        if not is_collaborative and Collaborator.objects.filter(playlist=locked).exists():
            raise ApplicationError(
                "Remove the collaborators before making the playlist private.",
                code="has_collaborators",
                status=409,
            )
        changes["is_collaborative"] = bool(is_collaborative)
    if context is not None:
        cleaned = context_clean(context)
        if cleaned != locked.context:
            changes["context"] = cleaned
    if not changes:
        return locked
    for field, value in changes.items():
        setattr(locked, field, value)
    Playlist.objects.filter(pk=locked.pk).update(**changes)
    _record(locked, user=user, type=Events.PLAYLIST_UPDATED, data=dict(changes))
    return locked


@transaction.atomic
def playlist_delete(*, playlist: Playlist | uuid.UUID | str, user) -> None:
    """Delete a playlist (owner only); connected members are told and disconnected."""
    locked = _lock(playlist=playlist, user=user, owner_only=True)
    playlist_id = str(locked.pk)
    message = {
        "type": Events.PLAYLIST_UPDATED,
        "playlist_id": playlist_id,
        "user_id": str(user.pk),
        "version": locked.version + 1,
        "data": {"deleted": True},
    }
    locked.delete()
    transaction.on_commit(
        lambda: broadcast.playlist_deleted(
            playlist_id, {**message, "timestamp": int(time.time() * 1000)}
        )
    )
