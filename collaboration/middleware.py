"""WebSocket authentication: the session cookie for now (single-use tickets: issue #4)."""
from channels.auth import AuthMiddlewareStack


def WebSocketAuthMiddlewareStack(inner):  # noqa: N802 - mirrors channels' AuthMiddlewareStack
    return AuthMiddlewareStack(inner)
