"""Credential checks shared by token login and session (browser) login."""

from __future__ import annotations

import logging
import time

from django.contrib.auth import login as django_login
from django.contrib.auth import logout as django_logout
from django.views.decorators.debug import sensitive_variables

from audotics.exceptions import ApplicationError

from .. import crypto, ratelimit
from ..models import User
from .two_factor import two_factor_enabled, two_factor_verify

logger = logging.getLogger(__name__)


def _user_for_identifier(identifier: str) -> User | None:
    if "@" in identifier:
        user = User.objects.filter(email_hash=crypto.email_index(identifier)).first()
        if user is not None:
            return user
    return User.objects.filter(username__iexact=identifier).first()


@sensitive_variables("password")
def _password_check(*, request, identifier: str, password: str) -> tuple[User, str]:
    """Apply the login rate limits and check the password; return the user and its limit key."""
    identifier = identifier.strip()
    # A NUL can be in no username or email (PostgreSQL cannot even compare it): no such account.
    user = _user_for_identifier(identifier) if identifier and "\x00" not in identifier else None
    identity = f"user:{user.pk}" if user is not None else f"name:{identifier.lower()}"
    ratelimit.login_check(request, identity=identity)
    if user is None:
        # Spend the same hashing time as for a real account, so timing does not leak existence.
        User().set_password(password)
        valid = False
    else:
        valid = user.check_password(password) and user.is_active
    if not valid:
        ratelimit.login_failure_record(request, identity=identity)
        logger.info("Failed login (bad credentials) for %s", user.pk if user else "unknown user")
        raise ApplicationError(
            "Invalid username or password.", code="invalid_credentials", status=401
        )
    return user, identity


@sensitive_variables("password", "otp")
def auth_credentials_check(*, request, identifier: str, password: str, otp: str | None) -> User:
    """Apply the login rate limits, then password and (when enabled) TOTP; return the user."""
    user, identity = _password_check(request=request, identifier=identifier, password=password)
    if two_factor_enabled(user=user) and not (otp and two_factor_verify(user=user, otp=otp)):
        if otp:
            ratelimit.login_failure_record(request, identity=identity)
            logger.info("Failed login (bad one-time code) for %s", user.pk)
        raise ApplicationError(
            "A valid one-time code from your authenticator app is required.",
            code="otp_required",
            status=401,
        )
    return user


@sensitive_variables("password", "otp")
def session_login(request, username: str, password: str, otp: str | None = None) -> User:
    """Browser login: same rate limits and 2FA rule as token login, then a Django session."""
    user = auth_credentials_check(request=request, identifier=username, password=password, otp=otp)
    django_login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return user


def session_logout(request) -> None:
    """End the browser session (flushes the session data and rotates its key)."""
    django_logout(request)


# Browser sign-in asks for the password and the code on two pages: after a correct password
# the user's id waits in the session for a few minutes, and only a valid code logs them in.
PENDING_2FA_KEY = "users.pending_2fa"
PENDING_2FA_SECONDS = 300


@sensitive_variables("password")
def session_login_start(request, *, username: str, password: str) -> User | None:
    """Step one: the password (rate limited). Logs in, or returns None when a code is needed."""
    user, _ = _password_check(request=request, identifier=username, password=password)
    if not two_factor_enabled(user=user):
        django_login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return user
    request.session[PENDING_2FA_KEY] = {"user_id": str(user.pk), "at": time.time()}
    return None


def session_login_pending(request) -> bool:
    """A correct password was given a moment ago and the code is still awaited."""
    pending = request.session.get(PENDING_2FA_KEY)
    return bool(pending) and time.time() - pending.get("at", 0) < PENDING_2FA_SECONDS


@sensitive_variables("otp")
def session_login_finish(request, *, otp: str) -> User:
    """Step two: a valid TOTP code (or an unused recovery code) for the remembered user opens
    the session."""
    pending = request.session.pop(PENDING_2FA_KEY, None)
    if not pending or time.time() - pending.get("at", 0) >= PENDING_2FA_SECONDS:
        raise ApplicationError(
            "Your sign-in expired; enter your password again.", code="login_expired", status=400
        )
    user = User.objects.filter(pk=pending["user_id"], is_active=True).first()
    if user is None:
        raise ApplicationError("Sign in again.", code="login_expired", status=400)
    ratelimit.otp_check(request, user_id=str(user.pk))
    otp = "".join(otp.split())
    if not two_factor_verify(user=user, otp=otp):
        ratelimit.login_failure_record(request, identity=f"user:{user.pk}")
        request.session[PENDING_2FA_KEY] = pending  # the password step still holds
        raise ApplicationError(
            "That code is not valid. Check your authenticator app (or use a recovery code) "
            "and try again.",
            code="invalid_otp", status=400,
        )
    django_login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return user
