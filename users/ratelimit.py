"""Rate limits on the shared cache (django-ratelimit's counters; Redis in production).

Login fails closed (a cache outage answers 503) and the general API quota fails open (requests are
served without counting). The client IP is REMOTE_ADDR unless TRUSTED_PROXY_COUNT says how many
proxies append to X-Forwarded-For, so a forged header cannot reset a limit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest
from django_ratelimit.core import _split_rate, get_usage
from rest_framework.throttling import BaseThrottle

from audotics.exceptions import ApplicationError, ServiceUnavailable

logger = logging.getLogger(__name__)



def _rate(name: str) -> str:
    """A limit as "count/period" from settings.RATE_LIMITS (the environment's RATE_* values)."""
    return settings.RATE_LIMITS[name]


def client_ip(request: HttpRequest) -> str:
    """REMOTE_ADDR, or the Nth entry from the right of X-Forwarded-For behind N trusted proxies."""
    remote = request.META.get("REMOTE_ADDR") or "0.0.0.0"
    count = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0)
    if count <= 0:
        return remote
    forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [p for p in forwarded if p]
    if len(forwarded) < count:
        return remote
    candidate = forwarded[-count]
    try:
        import ipaddress

        ipaddress.ip_address(candidate)
    except ValueError:
        return remote
    return candidate


class CacheUnavailableError(Exception):
    """The rate-limit cache did not answer."""


@dataclass
class Usage:
    limited: bool
    retry_after: int
    count: int = 0
    limit: int = 0


# Count and read a fixed window in one round trip: django-ratelimit's counter takes two
# (SET NX, then INCR), and under load on the API's hottest read those two were a third of a
# worker's time.
_COUNT = """
local n = redis.call('INCRBY', KEYS[1], ARGV[1])
if redis.call('TTL', KEYS[1]) < 0 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return {n, redis.call('TTL', KEYS[1])}
"""


def _redis_client():
    """The raw client of the rate-limit cache when it is django-redis, else None."""
    cache = caches[getattr(settings, "RATELIMIT_USE_CACHE", "default")]
    client = getattr(cache, "client", None)
    return client if client is not None and hasattr(client, "get_client") else None


def _redis_usage(client, *, group: str, key: str, rate: str, increment: bool) -> Usage:
    """The window's count on Redis in one script call (INCRBY, EXPIRE when new, TTL)."""
    limit, period = _split_rate(rate)
    script = client.get_client(write=True).register_script(_COUNT)  # EVALSHA, loads if absent
    name = client.make_key(f"rl:{group}:{key}:{limit}/{period}")
    count, ttl = script(keys=[name], args=[1 if increment else 0, period])
    return Usage(count > limit, max(int(ttl), 1), int(count), limit)


def _usage(request, *, group: str, key: str, rate: str, increment: bool) -> Usage:
    if not getattr(settings, "RATELIMIT_ENABLE", True):
        return Usage(False, 0, 0, 2**31)
    client = _redis_client()
    if client is not None:
        try:
            return _redis_usage(client, group=group, key=key, rate=rate, increment=increment)
        except Exception as exc:  # redis ConnectionError, TimeoutError ...
            raise CacheUnavailableError(str(exc.__class__.__name__)) from exc
    try:
        usage = get_usage(
            request, group=group, key=lambda _g, _r: key, rate=rate, increment=increment
        )
    except Exception as exc:  # django-redis ConnectionInterrupted, redis ConnectionError ...
        raise CacheUnavailableError(str(exc.__class__.__name__)) from exc
    if usage["limit"] == 0 and usage["time_left"] == -1:
        # django-ratelimit's fail-closed answer: the cache could not count.
        raise CacheUnavailableError("rate-limit counter unavailable")
    return Usage(
        usage["should_limit"], max(int(usage["time_left"]), 1), usage["count"], usage["limit"]
    )


def rate_limited(retry_after: int) -> ApplicationError:
    return ApplicationError(
        "Too many requests; retry later.",
        code="rate_limited",
        status=429,
        headers={"Retry-After": str(retry_after)},
    )


def login_check(request, *, identity: str) -> None:
    """Count one login attempt per IP and per account/username; raise 429 or 503 (fail closed)."""
    try:
        for group, key, rate in (
            ("auth.login.ip", client_ip(request), _rate("login_per_ip")),
            ("auth.login.user", identity, _rate("login_per_account")),
        ):
            usage = _usage(request, group=group, key=key, rate=rate, increment=True)
            if usage.limited:
                raise rate_limited(usage.retry_after)
        usage = _usage(
            request,
            group="auth.login.failures",
            key=identity,
            rate=_rate("login_failures_per_account"),
            increment=False,
        )
    except CacheUnavailableError as exc:
        logger.error("Login refused: rate-limit cache unavailable (%s)", exc)
        raise ServiceUnavailable() from exc
    if usage.count >= usage.limit:
        # Peeked without counting: the budget is spent once `limit` failures happened.
        raise rate_limited(usage.retry_after)


def login_failure_record(request, *, identity: str) -> None:
    """Count a failed login against the account's hourly failure budget."""
    try:
        _usage(
            request,
            group="auth.login.failures",
            key=identity,
            rate=_rate("login_failures_per_account"),
            increment=True,
        )
    except CacheUnavailableError:
        logger.error("Could not record a failed login: rate-limit cache unavailable")


def otp_check(request, *, user_id: str) -> None:
    """Limit TOTP guesses on the 2FA confirm/disable endpoints (fails closed)."""
    try:
        usage = _usage(request, group="auth.otp", key=user_id, rate=_rate("otp_per_user"),
                       increment=True)
    except CacheUnavailableError as exc:
        raise ServiceUnavailable() from exc
    if usage.limited:
        raise rate_limited(usage.retry_after)


def signup_check(request) -> None:
    """Count one sign-up attempt per IP (API and web form alike); 429 when spent, 503 without
    the cache (fails closed, like the sign-in that follows a sign-up)."""
    try:
        usage = _usage(request, group="auth.signup.ip", key=client_ip(request),
                       rate=_rate("signup_per_ip"), increment=True)
    except CacheUnavailableError as exc:
        raise ServiceUnavailable() from exc
    if usage.limited:
        raise rate_limited(usage.retry_after)


def password_reset_check(request) -> None:
    """Count one password-reset request per IP (API and page); fails closed like sign-up."""
    try:
        usage = _usage(request, group="auth.reset.ip", key=client_ip(request),
                       rate=_rate("password_reset_per_ip"), increment=True)
    except CacheUnavailableError as exc:
        raise ServiceUnavailable() from exc
    if usage.limited:
        raise rate_limited(usage.retry_after)


def user_search_check(request, *, user_id: str) -> None:
    """Count one username search per user: an invite box's autocomplete, generous for typing
    but not for walking the user list. Fails closed: without the cache nobody lists accounts."""
    try:
        usage = _usage(request, group="users.search", key=user_id,
                       rate=_rate("user_search_per_user"), increment=True)
    except CacheUnavailableError as exc:
        raise ServiceUnavailable() from exc
    if usage.limited:
        raise rate_limited(usage.retry_after)


class ApiQuotaThrottle(BaseThrottle):
    """RATE_API_PER_USER (1,000 an hour) per user, per IP when anonymous; fails open without a
    cache."""

    def allow_request(self, request, view) -> bool:
        self._wait = None
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            key = f"user:{user.pk}"
        else:
            key = f"ip:{client_ip(request)}"
        try:
            usage = _usage(request, group="api.quota", key=key, rate=_rate("api_per_user"),
                           increment=True)
        except CacheUnavailableError:
            logger.warning("API quota not enforced: rate-limit cache unavailable")
            return True
        if usage.limited:
            self._wait = usage.retry_after
            return False
        return True

    def wait(self):
        return self._wait
