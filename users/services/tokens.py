"""JWT refresh tokens with rotation, families and reuse detection (on top of simplejwt).

Every login creates a `TokenFamily`; its refresh tokens carry `family=<uuid>` and only the
family's `current_jti` may be exchanged. A refresh locks the family row (select_for_update; on
SQLite the IMMEDIATE transaction mode serializes writers), so of several simultaneous refreshes
with one token exactly one succeeds. Presenting any other token of the family means it leaked:
the family is revoked, so the thief's and the victim's newer tokens both die.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables
from rest_framework_simplejwt.exceptions import TokenBackendError, TokenBackendExpiredToken
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.state import token_backend
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import datetime_from_epoch

from audotics.exceptions import ApplicationError

from ..db import atomic_with_retry
from ..models import TokenFamily, User

logger = logging.getLogger(__name__)

FAMILY_CLAIM = "family"


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str


def _invalid(message: str = "The refresh token is invalid or expired.") -> ApplicationError:
    return ApplicationError(message, code="invalid_token", status=401)


def _issue(*, user: User, family: TokenFamily) -> TokenPair:
    refresh = RefreshToken()
    refresh[jwt_settings.USER_ID_CLAIM] = str(user.pk)
    refresh[FAMILY_CLAIM] = str(family.pk)
    OutstandingToken.objects.create(
        user=user,
        jti=refresh[jwt_settings.JTI_CLAIM],
        token=str(refresh),
        created_at=refresh.current_time,
        expires_at=datetime_from_epoch(refresh["exp"]),
    )
    family.current_jti = refresh[jwt_settings.JTI_CLAIM]
    return TokenPair(access=str(refresh.access_token), refresh=str(refresh))


def token_pair_issue(*, user: User, client: str = "") -> TokenPair:
    """Start a new token family (one login) and return its first access/refresh pair."""
    with transaction.atomic():
        family = TokenFamily.objects.create(user=user, client=client[:200])
        pair = _issue(user=user, family=family)
        family.save(update_fields=["current_jti"])
    return pair


@sensitive_variables("refresh")
def _decode(refresh: str) -> dict:
    try:
        payload = token_backend.decode(refresh, verify=True)
    except TokenBackendExpiredToken as exc:
        raise _invalid("The refresh token has expired.") from exc
    except (TokenBackendError, ValueError, TypeError, KeyError) as exc:
        raise _invalid() from exc
    if (
        not isinstance(payload, dict)
        or payload.get(jwt_settings.TOKEN_TYPE_CLAIM) != "refresh"
        or not isinstance(payload.get(jwt_settings.JTI_CLAIM), str)
        or not isinstance(payload.get(FAMILY_CLAIM), str)
    ):
        raise _invalid()
    return payload


def _blacklist(jtis) -> None:
    for token in OutstandingToken.objects.filter(jti__in=list(jtis)):
        BlacklistedToken.objects.get_or_create(token=token)


def family_revoke(family: TokenFamily, *, reason: str) -> None:
    if family.revoked_at is None:
        family.revoked_at = timezone.now()
        family.revoked_reason = reason
        family.save(update_fields=["revoked_at", "revoked_reason"])
    if family.current_jti:
        _blacklist([family.current_jti])


def _locked_family(payload: dict) -> TokenFamily | None:
    try:
        return (
            TokenFamily.objects.select_for_update()
            .select_related("user")
            .filter(pk=payload[FAMILY_CLAIM])
            .first()
        )
    except Exception:  # a malformed UUID in a correctly signed token
        return None


@sensitive_variables("refresh")
def token_refresh(*, refresh: str) -> TokenPair:
    """Rotate a refresh token; reuse of a rotated-away token revokes its whole family."""
    payload = _decode(refresh)
    jti = payload[jwt_settings.JTI_CLAIM]

    def rotate() -> tuple[TokenPair | None, TokenFamily]:
        family = _locked_family(payload)
        if family is None or family.revoked_at is not None:
            raise _invalid()
        user = family.user
        if str(user.pk) != str(payload.get(jwt_settings.USER_ID_CLAIM)) or not user.is_active:
            raise _invalid()
        if jti != family.current_jti:
            family_revoke(family, reason="reuse_detected")
            return None, family
        _blacklist([jti])
        pair = _issue(user=user, family=family)
        family.rotated_at = timezone.now()
        family.save(update_fields=["current_jti", "rotated_at"])
        return pair, family

    pair, family = atomic_with_retry(rotate)
    if pair is None:
        # The revocation is committed: it must survive the 401.
        logger.warning(
            "Refresh token reuse: family %s of user %s revoked", family.pk, family.user_id
        )
        raise _invalid("This refresh token was already used; this login has been revoked.")
    return pair


@sensitive_variables("refresh")
def refresh_token_revoke(*, refresh: str) -> None:
    """Logout: the presented refresh token and its whole family stop working."""
    payload = _decode(refresh)

    def revoke() -> None:
        family = _locked_family(payload)
        if family is None:
            raise _invalid()
        family_revoke(family, reason="logout")
        _blacklist([payload[jwt_settings.JTI_CLAIM]])

    atomic_with_retry(revoke)


def refresh_tokens_revoke_all(*, user: User, reason: str) -> int:
    """Revoke every token family and blacklist every outstanding refresh token of a user."""
    with transaction.atomic():
        revoked = TokenFamily.objects.filter(user=user, revoked_at__isnull=True).update(
            revoked_at=timezone.now(), revoked_reason=reason
        )
        live = OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True)
        BlacklistedToken.objects.bulk_create(
            [BlacklistedToken(token=t) for t in live], ignore_conflicts=True
        )
    return revoked


@sensitive_variables("password", "otp")
def token_obtain(*, request, identifier: str, password: str, otp: str | None) -> TokenPair:
    """Password (+ TOTP when 2FA is on) login through the rate limits; returns a token pair."""
    from .auth import auth_credentials_check

    user = auth_credentials_check(
        request=request, identifier=identifier, password=password, otp=otp
    )
    return token_pair_issue(user=user, client=request.headers.get("User-Agent", ""))
