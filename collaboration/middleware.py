"""WebSocket authentication: a single-use ticket (`?ticket=`, SPEC.md §5) or the session cookie.

A connection that presents a ticket is authenticated by that ticket alone: a bad, used or
expired ticket leaves the user anonymous (the consumer then closes with 4401) even when a
session cookie is present, so a client always learns that its ticket failed.
"""
from urllib.parse import parse_qs, urlsplit

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http.request import split_domain_port, validate_host

DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin_key(url: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an origin, the default port filled in; None if malformed."""
    try:
        parts = urlsplit(url.strip().lower())
        port = parts.port or DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname or port is None:
        return None
    return parts.scheme, parts.hostname, port


def same_origin_allowed(scope) -> bool:
    """The browser's Origin is this site's own: the scheme, host and port the WebSocket request
    itself came to (ws -> http, wss -> https), with the host in ALLOWED_HOSTS; or an origin
    listed in CSRF_TRUSTED_ORIGINS. Channels' AllowedHostsOriginValidator compared the host
    alone, so http://127.0.0.1:6666 or https://127.0.0.1 passed for a site on :8000."""
    headers = {k.lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
    origin = _origin_key(headers.get(b"origin", ""))
    host = headers.get(b"host", "")
    if origin is None or not host:
        return False
    domain, _ = split_domain_port(host)
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return False
    secure = scope.get("scheme") in ("wss", "https")
    if getattr(settings, "TRUST_X_FORWARDED_PROTO", False) and b"x-forwarded-proto" in headers:
        secure = headers[b"x-forwarded-proto"].split(",")[0].strip().lower() == "https"
    own = _origin_key(f"{'https' if secure else 'http'}://{host}")
    trusted = {_origin_key(o) for o in settings.CSRF_TRUSTED_ORIGINS}
    return origin == own or origin in trusted


class SameOriginValidator:
    """Refuses (HTTP 403 at the handshake) WebSockets whose Origin is not this site's own."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket" and not same_origin_allowed(scope):
            return await WebsocketDenier()(scope, receive, send)
        return await self.app(scope, receive, send)


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
