"""Credential checks shared by token login and session (browser) login."""

from __future__ import annotations

import logging

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


@sensitive_variables("password", "otp")
def auth_credentials_check(*, request, identifier: str, password: str, otp: str | None) -> User:
    """Apply the login rate limits, then password and (when enabled) TOTP; return the user."""
    identifier = identifier.strip()
    user = _user_for_identifier(identifier) if identifier else None
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
