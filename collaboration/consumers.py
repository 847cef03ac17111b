"""The playlist room at /ws/playlists/{id}/ (SPEC.md §5).

Each connection sends a SNAPSHOT, then every change once and in version order: events from the
channel layer may arrive out of order (two workers committing back to back) or not at all
(Redis hiccup), so the consumer holds early ones back and, if a gap stays open, reads the
missing versions from the PlaylistEvent log. Members write over the socket with ADD_TRACKS,
REMOVE_TRACKS and MOVE_TRACK, which call the same services as REST.
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from djangorestframework_camel_case.util import underscoreize
from rest_framework import serializers

from audotics.exceptions import ApplicationError
from ops import metrics
from playlists import selectors as playlist_selectors
from playlists import services as playlist_services

from . import broadcast, presence

logger = logging.getLogger(__name__)

MAX_FRAME = 64 * 1024
# Token bucket per connection: bursts of RATE_BURST frames, RATE_PER_SECOND sustained.
RATE_BURST = 20
RATE_PER_SECOND = 20.0
# How long an out-of-order event may wait for its predecessors before we read the log.
GAP_WAIT = 0.5

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404


class _Frame(serializers.Serializer):
    request_id = serializers.CharField(max_length=100, required=False, allow_blank=True,
                                       allow_null=True)
    expected_version = serializers.IntegerField(min_value=0, required=False, allow_null=True)


class AddTracksFrame(_Frame):
    track_ids = serializers.ListField(child=serializers.UUIDField(), allow_empty=False,
                                      max_length=playlist_services.MAX_IDS_PER_REQUEST)
    position = serializers.IntegerField(min_value=0, required=False, allow_null=True)


class RemoveTracksFrame(_Frame):
    track_ids = serializers.ListField(child=serializers.UUIDField(), allow_empty=False,
                                      max_length=playlist_services.MAX_IDS_PER_REQUEST)


class MoveTrackFrame(_Frame):
    track_id = serializers.UUIDField()
    position = serializers.IntegerField(min_value=0)


def _event_from_log(playlist_id: str, event) -> dict[str, Any]:
    return broadcast.to_wire({
        "type": event.type,
        "playlist_id": playlist_id,
        "user_id": str(event.user_id) if event.user_id else None,
        "timestamp": int(event.created_at.timestamp() * 1000),
        "version": event.version,
        "data": event.data,
    })


class PlaylistConsumer(AsyncJsonWebsocketConsumer):
    """One member's live connection to one playlist."""

    playlist_id: str | None = None
    joined = False

    # ------------------------------------------------------------------ lifecycle

    async def connect(self) -> None:
        """Accept, then authenticate and authorise (closing with 4401/4403/4404), then SNAPSHOT."""
        self.groups = []
        self.last_version = -1
        self.pending: dict[int, str] = {}  # version -> encoded frame, held until its turn
        self.deliver_lock = asyncio.Lock()
        self.gap_task: asyncio.Task | None = None
        self.heartbeat_task: asyncio.Task | None = None
        self.tokens = float(RATE_BURST)
        self.tokens_at = time.monotonic()
        await self.accept()
        metrics.websocket_connected()
        self.counted = True

        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.user = user
        raw_id = self.scope["url_route"]["kwargs"]["playlist_id"]
        access = await database_sync_to_async(self._access)(raw_id)
        if access != "ok":
            await self.close(code=CLOSE_NOT_FOUND if access == "missing" else CLOSE_FORBIDDEN)
            return
        self.playlist_id = access_id = str(self._uuid)
        group = broadcast.group_name(access_id)
        # Join before reading the snapshot: events committed after it are then never missed,
        # and the ones already in it are dropped by version.
        await self.channel_layer.group_add(group, self.channel_name)
        self.groups.append(group)
        self.joined = True
        people = await presence.apresence_join(
            playlist_id=access_id, channel_name=self.channel_name,
            user_id=str(user.pk), username=user.username,
        )
        await self._send_snapshot(people)
        await broadcast.apresence(access_id, self._presence_event("join", people))
        self.heartbeat_task = asyncio.ensure_future(self._heartbeat())

    def _access(self, raw_id: str) -> str:
        import uuid

        try:
            self._uuid = uuid.UUID(raw_id)
        except ValueError:
            return "missing"
        if not playlist_selectors.playlist_exists(playlist_id=self._uuid):
            return "missing"
        if not playlist_selectors.playlist_is_member(playlist_id=self._uuid, user=self.user):
            return "forbidden"
        return "ok"

    async def disconnect(self, code: int) -> None:
        """Leave presence and tell the others."""
        if self.__dict__.pop("counted", False):
            metrics.websocket_disconnected()
        for task in (self.__dict__.get("gap_task"), self.__dict__.get("heartbeat_task")):
            if task:
                task.cancel()
        if self.joined:
            self.joined = False
            people = await presence.apresence_leave(
                playlist_id=self.playlist_id, channel_name=self.channel_name
            )
            await broadcast.apresence(self.playlist_id, self._presence_event("leave", people))

    async def _heartbeat(self) -> None:
        try:
            while True:
                await asyncio.sleep(presence.HEARTBEAT)
                await presence.apresence_heartbeat(channel_name=self.channel_name)
        except asyncio.CancelledError:
            pass

    async def _send_snapshot(self, people: list | None = None) -> None:
        snapshot = await database_sync_to_async(playlist_selectors.playlist_snapshot)(
            playlist_id=self.playlist_id
        )
        if snapshot is None:
            await self.close(code=CLOSE_NOT_FOUND)
            return
        if people is None:
            people = await presence.apresence_list(
                playlist_id=self.playlist_id
            )
        async with self.deliver_lock:
            self.last_version = snapshot["version"]
            self.pending = {v: e for v, e in self.pending.items() if v > self.last_version}
            await self.send_json(broadcast.to_wire({
                "type": "SNAPSHOT",
                "playlist_id": self.playlist_id,
                "version": snapshot["version"],
                "tracks": snapshot["tracks"],
                "playlist": snapshot["playlist"],
                "presence": people,
            }))
            await self._flush()

    def _presence_event(self, action: str, people: list) -> dict[str, Any]:
        return {
            "type": "PRESENCE",
            "playlist_id": self.playlist_id,
            "user_id": str(self.user.pk),
            "timestamp": int(time.time() * 1000),
            "version": None,
            "data": {"action": action, "presence": people},
        }

    # ------------------------------------------------------------------ channel layer

    async def playlist_event(self, message: dict) -> None:
        """A versioned change: deliver once, in order."""
        text = message.get("text") or json.dumps(message["event"])
        version = message.get("version", message.get("event", {}).get("version"))
        async with self.deliver_lock:
            if not isinstance(version, int) or version <= self.last_version:
                return
            self.pending[version] = text
            await self._flush()
            if self.pending and (self.gap_task is None or self.gap_task.done()):
                self.gap_task = asyncio.ensure_future(self._fill_gap())

    async def _flush(self) -> None:
        # Caller holds deliver_lock.
        while self.last_version + 1 in self.pending:
            text = self.pending.pop(self.last_version + 1)
            self.last_version += 1
            await self.send(text_data=text)

    async def _fill_gap(self) -> None:
        """A version is missing: wait briefly for it, then read it from the event log."""
        try:
            await asyncio.sleep(GAP_WAIT)
            async with self.deliver_lock:
                if not self.pending:
                    return
                events = await database_sync_to_async(playlist_selectors.playlist_events_since)(
                    playlist_id=self.playlist_id, version=self.last_version
                )
                for event in events:
                    if event.version > self.last_version:
                        self.pending.setdefault(
                            event.version, json.dumps(_event_from_log(self.playlist_id, event))
                        )
                await self._flush()
                if self.pending:
                    # The log itself has a hole (should not happen): start over from a snapshot.
                    self.pending.clear()
                    needs_snapshot = True
                else:
                    needs_snapshot = False
            if needs_snapshot:
                await self._send_snapshot()
        except asyncio.CancelledError:
            pass
        except Exception:
            logger.exception("Gap fill on playlist %s failed", self.playlist_id)

    async def playlist_presence(self, message: dict) -> None:
        event = dict(message["event"])
        event["version"] = self.last_version
        await self.send_json(event)

    async def playlist_deleted(self, message: dict) -> None:
        """The playlist is gone: say so, then close with 4404."""
        await self.send_json(message["event"])
        await self._leave()
        await self.close(code=CLOSE_NOT_FOUND)

    async def playlist_member_removed(self, message: dict) -> None:
        """Close this socket with 4403 if its user is the removed member."""
        if message.get("user_id") == str(self.user.pk):
            await self._leave()
            await self.close(code=CLOSE_FORBIDDEN)

    async def _leave(self) -> None:
        for group in self.groups:
            await self.channel_layer.group_discard(group, self.channel_name)
        self.groups = []
        await self.disconnect(CLOSE_FORBIDDEN)

    # ------------------------------------------------------------------ client frames

    async def receive(self, text_data=None, bytes_data=None, **kwargs) -> None:
        """Parse, rate-limit and dispatch one client frame; never let bad input escape."""
        if not self.joined:
            return
        if not self._take_token():
            await self._error(None, "rate_limited", "Too many messages; slow down.")
            return
        if text_data is None:
            await self._error(None, "unsupported_frame", "Binary frames are not supported.")
            return
        if len(text_data) > MAX_FRAME or len(text_data.encode("utf-8", "replace")) > MAX_FRAME:
            await self._error(None, "too_large", f"Frames are limited to {MAX_FRAME} bytes.")
            return
        try:
            frame = json.loads(text_data)
        except (ValueError, RecursionError):
            await self._error(None, "parse_error", "The frame is not valid JSON.")
            return
        if not isinstance(frame, dict):
            await self._error(None, "validation_error", "A frame must be a JSON object.")
            return
        request_id = frame.get("requestId")
        if not isinstance(request_id, (str, int)) or isinstance(request_id, bool):
            request_id = None
        kind = frame.get("type")
        try:
            if kind == "RESYNC":
                await self._send_snapshot()
            elif kind == "ADD_TRACKS":
                await self._write(request_id, AddTracksFrame, frame, self._add)
            elif kind == "REMOVE_TRACKS":
                await self._write(request_id, RemoveTracksFrame, frame, self._remove)
            elif kind == "MOVE_TRACK":
                await self._write(request_id, MoveTrackFrame, frame, self._move)
            elif kind == "PING":
                await self.send_json({"type": "PONG", "requestId": request_id})
            else:
                await self._error(request_id, "unknown_type", "Unknown frame type.")
        except Exception:
            logger.exception("Frame %r on playlist %s failed", kind, self.playlist_id)
            await self._error(request_id, "server_error", "Internal server error.")

    def _take_token(self) -> bool:
        now = time.monotonic()
        self.tokens = min(RATE_BURST, self.tokens + (now - self.tokens_at) * RATE_PER_SECOND)
        self.tokens_at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True

    async def _write(self, request_id, serializer_class, frame: dict, operation) -> None:
        if isinstance(frame.get("trackIds"), list) and (
            len(frame["trackIds"]) > playlist_services.MAX_IDS_PER_REQUEST
        ):
            await self._error(request_id, "too_large", "At most "
                              f"{playlist_services.MAX_IDS_PER_REQUEST} track ids per request.")
            return
        data = serializer_class(data=underscoreize(frame))
        if not data.is_valid():
            await self._error(request_id, "validation_error",
                              "Validation error: check the listed fields.",
                              fields=broadcast.to_wire(dict(data.errors)))
            return
        try:
            version = await database_sync_to_async(operation)(data.validated_data)
        except ApplicationError as exc:
            await self._error(request_id, exc.code, exc.message,
                              fields=broadcast.to_wire(exc.fields) if exc.fields else None)
            if exc.status == 404:
                await self._leave()
                await self.close(code=CLOSE_NOT_FOUND)
            return
        await self.send_json({"type": "ACK", "requestId": request_id, "version": version})

    def _add(self, values: dict) -> int:
        return playlist_services.playlist_tracks_add(
            playlist=self.playlist_id, user=self.user, track_ids=values["track_ids"],
            position=values.get("position"), expected_version=values.get("expected_version"),
        ).version

    def _remove(self, values: dict) -> int:
        return playlist_services.playlist_tracks_remove(
            playlist=self.playlist_id, user=self.user, track_ids=values["track_ids"],
            expected_version=values.get("expected_version"),
        ).version

    def _move(self, values: dict) -> int:
        return playlist_services.playlist_track_move(
            playlist=self.playlist_id, user=self.user, track_id=values["track_id"],
            position=values["position"], expected_version=values.get("expected_version"),
        ).version

    async def _error(self, request_id, code: str, message: str, fields=None) -> None:
        error: dict[str, Any] = {"code": code, "message": message}
        if fields:
            error["fields"] = fields
        await self.send_json({"type": "ERROR", "requestId": request_id, "error": error})
