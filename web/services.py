"""Browser sign-in in two steps: password first, then (when 2FA is on) the 6-digit code.

The accounts services check password and code together (`session_login`); a browser asks for
them one after the other, so after a correct password the user's id waits in the session for a
few minutes and only a valid code turns it into a login.
"""
from __future__ import annotations

import time

from django.contrib.auth import get_user_model
from django.contrib.auth import login as django_login
from django.views.decorators.debug import sensitive_variables

from audotics.exceptions import ApplicationError
from users import ratelimit
from users import services as user_services

PENDING_KEY = "web.pending_2fa"
PENDING_TTL = 300


@sensitive_variables("password")
def web_login_start(request, *, username: str, password: str):
    """Check the password; log in, or return None and remember the user when a code is needed."""
    try:
        return user_services.session_login(request, username, password)
    except ApplicationError as exc:
        if exc.code != "otp_required":
            raise
    # `otp_required` is raised only after the password was accepted.
    # TODO(issue 7): ask accounts for a public lookup (or a two-step login service).
    from users.services.auth import _user_for_identifier

    user = _user_for_identifier(username.strip())
    request.session[PENDING_KEY] = {"user_id": str(user.pk), "at": time.time()}
    return None


def web_login_pending(request) -> bool:
    pending = request.session.get(PENDING_KEY)
    return bool(pending) and time.time() - pending.get("at", 0) < PENDING_TTL


@sensitive_variables("otp")
def web_login_finish(request, *, otp: str):
    """Second step: a valid TOTP code for the remembered user opens the session."""
    if not web_login_pending(request):
        request.session.pop(PENDING_KEY, None)
        raise ApplicationError(
            "Your sign-in expired; enter your password again.", code="login_expired", status=400
        )
    user = get_user_model().objects.filter(
        pk=request.session[PENDING_KEY]["user_id"], is_active=True
    ).first()
    if user is None:
        request.session.pop(PENDING_KEY, None)
        raise ApplicationError("Sign in again.", code="login_expired", status=400)
    ratelimit.otp_check(request, user_id=str(user.pk))
    otp = "".join(otp.split())
    if not (otp.isdigit() and user_services.two_factor_verify(user=user, otp=otp)):
        ratelimit.login_failure_record(request, identity=f"user:{user.pk}")
        raise ApplicationError(
            "That code is not valid. Check your authenticator app and try again.",
            code="invalid_otp", status=400,
        )
    request.session.pop(PENDING_KEY, None)
    django_login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return user
