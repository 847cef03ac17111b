"""Single-use WebSocket tickets (SPEC.md §5): random, bound to a user, valid 30 seconds.

Only a SHA-256 of the ticket is stored (as the cache key), so a cache dump reveals no ticket.
Single use is atomic on any backend: of several concurrent redeemers only the one whose
`cache.delete` actually removed the key (returns truthy) wins.
"""

from __future__ import annotations

import hashlib
import logging
import secrets

from django.core.cache import cache

from audotics.exceptions import ServiceUnavailable

from ..models import User

logger = logging.getLogger(__name__)

WS_TICKET_TTL = 30


def _key(ticket: str) -> str:
    return "ws-ticket:" + hashlib.sha256(ticket.encode()).hexdigest()


def ws_ticket_create(*, user: User) -> str:
    """Issue a ticket for `user`; 503 when the cache is unreachable."""
    ticket = secrets.token_urlsafe(32)
    try:
        cache.set(_key(ticket), str(user.pk), WS_TICKET_TTL)
    except Exception as exc:
        logger.error("Cannot store a WebSocket ticket: cache unavailable")
        raise ServiceUnavailable() from exc
    return ticket


def ws_ticket_redeem(ticket) -> User | None:
    """Consume a ticket once: its active user, or None (unknown, used, expired, cache down)."""
    if not isinstance(ticket, str) or not ticket or len(ticket) > 256:
        return None
    key = _key(ticket)
    try:
        user_id = cache.get(key)
        if user_id is None or not cache.delete(key):
            return None
    except Exception:
        logger.error("Cannot redeem a WebSocket ticket: cache unavailable")
        return None
    return User.objects.filter(pk=user_id, is_active=True).first()
