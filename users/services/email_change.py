"""Changing the account's email: the new address must confirm a signed link (valid a day) before
it replaces the old one, and the old address is told when it happens."""
from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.views.decorators.debug import sensitive_variables

from audotics.exceptions import ApplicationError

from .. import crypto
from ..models import User
from .two_factor import password_confirm

SALT = "audotics.email-change"
MAX_AGE = 24 * 3600


def _taken(email: str, user: User) -> bool:
    return User.objects.filter(email_hash=crypto.email_index(email)).exclude(pk=user.pk).exists()


@sensitive_variables("password")
def email_change_request(*, user: User, email: str, password: str, site_url: str) -> None:
    """After the password: email a confirmation link to the new address."""
    password_confirm(user=user, password=password)
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise ApplicationError("Enter a valid email address.", code="validation_error",
                               fields={"email": ["Enter a valid email address."]}) from exc
    if _taken(email, user):
        raise ApplicationError("Another account uses this email.", code="email_taken",
                               status=409, fields={"email": ["Another account uses it."]})
    token = signing.dumps({"u": str(user.pk), "e": email, "h": user.email_hash or ""}, salt=SALT)
    link = f"{site_url.rstrip('/')}/account/email/confirm?token={token}"
    send_mail("Confirm your new Audotics email address",
              f"Hello {user.username},\n\nconfirm that this is your new address within a day:\n\n"
              f"{link}\n\nIf you did not ask for this, ignore this email.\n",
              settings.DEFAULT_FROM_EMAIL, [email])


def email_change_confirm(*, token: str) -> User:
    """Apply a confirmed change (once: the link names the address it replaces)."""
    try:
        data = signing.loads(token, salt=SALT, max_age=MAX_AGE)
    except signing.BadSignature as exc:
        raise ApplicationError("This confirmation link is invalid or expired; ask again.",
                               code="invalid_link", status=400) from exc
    user = User.objects.filter(pk=data.get("u"), is_active=True).first()
    if user is None or (user.email_hash or "") != data.get("h"):
        raise ApplicationError("This confirmation link was already used or is stale.",
                               code="invalid_link", status=400)
    old = user.email
    if _taken(data["e"], user):
        raise ApplicationError("Another account uses this email.", code="email_taken",
                               status=409)
    user.email = data["e"]
    try:
        with transaction.atomic():
            user.save(update_fields=["email"])
    except IntegrityError as exc:
        raise ApplicationError("Another account uses this email.", code="email_taken",
                               status=409) from exc
    if old:
        send_mail("Your Audotics email address changed",
                  f"Hello {user.username},\n\nyour account's email is now {user.email}. If you "
                  "did not do this, reset your password and contact the site's operator.\n",
                  settings.DEFAULT_FROM_EMAIL, [old])
    return user
