"""WebSocket authentication: a single-use ticket (`?ticket=`, SPEC.md §5) or the session cookie.

A connection that presents a ticket is authenticated by that ticket alone: a bad, used or
expired ticket leaves the user anonymous (the consumer then closes with 4401) even when a
session cookie is present, so a client always learns that its ticket failed.
"""
from urllib.parse import parse_qs

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from django.contrib.auth.models import AnonymousUser


def _redeem(ticket: str):
    # Imported lazily: users/ is owned elsewhere and must not load before Django is ready.
    from users.services import ws_ticket_redeem

    return ws_ticket_redeem(ticket)


class TicketAuthMiddleware(BaseMiddleware):
    """Replace scope["user"] with the ticket's user when the query string carries a ticket."""

    async def __call__(self, scope, receive, send):
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        tickets = query.get("ticket")
        if tickets is not None:
            scope = dict(scope)
            user = None
            if len(tickets) == 1:
                user = await database_sync_to_async(_redeem)(tickets[0])
            scope["user"] = user or AnonymousUser()
            scope["auth"] = "ticket"
        return await super().__call__(scope, receive, send)


def WebSocketAuthMiddlewareStack(inner):  # noqa: N802 - mirrors channels' AuthMiddlewareStack
    return AuthMiddlewareStack(TicketAuthMiddleware(inner))
