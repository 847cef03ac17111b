"""Password reset by email: a link valid one hour and only once (Django's token is bound to the
password hash and the time), the same answer whether or not the address exists, and every
sign-in of the account ended when the new password is set."""
from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from django.views.decorators.debug import sensitive_variables

from audotics.exceptions import ApplicationError

from .. import crypto
from ..models import User

logger = logging.getLogger(__name__)

MESSAGE = """Hello {username},

someone (hopefully you) asked to reset the password of your Audotics account.
Choose a new password here within the next hour:

{link}

If it was not you, ignore this email: your password stays as it is.
"""


def password_reset_request(*, email: str, site_url: str) -> None:
    """Email a reset link if an active account has this address; silent otherwise."""
    if "@" not in email or "\x00" in email:
        return
    user = User.objects.filter(email_hash=crypto.email_index(email.strip()),
                               is_active=True).first()
    if user is None or not user.has_usable_password():
        logger.info("Password reset asked for an address with no account")
        return
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    link = f"{site_url.rstrip('/')}/password-reset/{uid}/{token}"
    send_mail("Reset your Audotics password", MESSAGE.format(username=user.username, link=link),
              settings.DEFAULT_FROM_EMAIL, [user.email])


def _invalid_link() -> ApplicationError:
    return ApplicationError("This reset link is invalid, used or expired; ask for a new one.",
                            code="invalid_reset_link", status=400)


def password_reset_user(*, uid: str, token: str) -> User:
    """The account a still-valid link is for (400 invalid_reset_link otherwise)."""
    try:
        pk = force_str(urlsafe_base64_decode(uid))
        user = User.objects.filter(pk=pk, is_active=True).first()
    except (ValueError, ValidationError, OverflowError):
        user = None
    if user is None or not default_token_generator.check_token(user, token):
        raise _invalid_link()
    return user


@sensitive_variables("password")
def password_reset_confirm(*, uid: str, token: str, password: str) -> User:
    """Set the new password through a valid link; the link dies with the old password and
    every refresh token of the account is revoked (User.save)."""
    user = password_reset_user(uid=uid, token=token)
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ApplicationError("Choose a stronger password.", code="validation_error",
                               fields={"password": list(exc.messages)}) from exc
    user.set_password(password)
    user.save()
    return user
