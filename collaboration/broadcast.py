"""The one way out to WebSocket clients: `group_send` to `playlist.<id>`, after commit.

Payloads are JSON round-tripped and camelCased here, so what a consumer forwards is exactly what
a client receives and nothing unserialisable (UUIDs, datetimes) can reach the channel layer.
The write that caused a broadcast has already committed: if the channel layer (Redis) is down,
the failure is logged and swallowed. Consumers recover any lost event from the PlaylistEvent log.
"""
from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from djangorestframework_camel_case.util import camelize

logger = logging.getLogger(__name__)

# A broadcast must never hold up (or fail) the request that triggered it for long.
SEND_TIMEOUT = 2.0

_CAMEL_OPTIONS = getattr(settings, "JSON_CAMEL_CASE", {}).get("JSON_UNDERSCOREIZE", {})


def group_name(playlist_id: str) -> str:
    return f"playlist.{playlist_id}"


def to_wire(payload: dict[str, Any]) -> dict[str, Any]:
    """camelCase keys and JSON-safe values, as the client sees them."""
    return json.loads(json.dumps(camelize(payload, **_CAMEL_OPTIONS), cls=DjangoJSONEncoder))


async def agroup_send(group: str, message: dict[str, Any]) -> bool:
    """group_send with a timeout; False (and a log line) when the channel layer fails."""
    layer = get_channel_layer()
    if layer is None:
        return False
    try:
        await asyncio.wait_for(layer.group_send(group, message), SEND_TIMEOUT)
        return True
    except Exception:
        logger.exception("Broadcast to %s failed; clients will resync from the event log", group)
        return False


def _send(group: str, message: dict[str, Any]) -> bool:
    try:
        return async_to_sync(agroup_send)(group, message)
    except Exception:  # e.g. no usable event loop: still never fail the caller
        logger.exception("Broadcast to %s failed", group)
        return False


def playlist_event(playlist_id: str, event: dict[str, Any]) -> bool:
    """Fan a versioned change (TRACK_ADDED, ...) out to every socket on the playlist.

    The frame is encoded once here, not once per member: consumers forward `text` as it is.
    """
    text = json.dumps(camelize(event, **_CAMEL_OPTIONS), cls=DjangoJSONEncoder)
    message = {"type": "playlist.event", "version": int(event["version"]), "text": text}
    return _send(group_name(playlist_id), message)


def playlist_deleted(playlist_id: str, event: dict[str, Any]) -> bool:
    """Tell members the playlist is gone; their sockets close with 4404."""
    return _send(group_name(playlist_id), {"type": "playlist.deleted", "event": to_wire(event)})


def playlist_member_removed(playlist_id: str, user_id: str) -> bool:
    """Close the removed member's sockets on this playlist with 4403."""
    return _send(
        group_name(playlist_id), {"type": "playlist.member_removed", "user_id": str(user_id)}
    )


async def apresence(playlist_id: str, event: dict[str, Any]) -> bool:
    """PRESENCE events, sent from consumers (already in an event loop)."""
    return await agroup_send(
        group_name(playlist_id), {"type": "playlist.presence", "event": to_wire(event)}
    )
