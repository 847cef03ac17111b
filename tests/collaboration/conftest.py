"""Helpers for consumer tests: an ASGI app without the origin check, tickets, frames."""
import pytest
from channels.db import database_sync_to_async
from channels.layers import channel_layers
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator

from collaboration.middleware import WebSocketAuthMiddlewareStack
from collaboration.routing import websocket_urlpatterns


@pytest.fixture(autouse=True)
def _fresh_channel_layer():
    """Every test starts with an empty in-memory layer (no groups left from the last one)."""
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


def ws_app():
    return WebSocketAuthMiddlewareStack(URLRouter(websocket_urlpatterns))


def _ticket(user):
    from users.services import ws_ticket_create

    return ws_ticket_create(user=user)


async def ticket_for(user) -> str:
    return await database_sync_to_async(_ticket)(user)


async def connect(user, playlist_id, *, app=None, ticket=None, headers=None):
    """Connect as `user` through a fresh ticket; returns (communicator, first frame)."""
    if ticket is None and user is not None:
        ticket = await ticket_for(user)
    path = f"/ws/playlists/{playlist_id}/"
    if ticket is not None:
        path += f"?ticket={ticket}"
    communicator = WebsocketCommunicator(app or ws_app(), path, headers=headers or [])
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    return communicator


async def receive_until(communicator, type_, timeout=3):
    """Frames up to and including the first of `type_` (PRESENCE frames are skipped)."""
    while True:
        frame = await communicator.receive_json_from(timeout=timeout)
        if frame["type"] == type_:
            return frame


async def closed_with(communicator, timeout=3) -> int:
    while True:
        message = await communicator.receive_output(timeout=timeout)
        if message["type"] == "websocket.close":
            return message.get("code")
