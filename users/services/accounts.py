"""Sign-up, preferences and password changes."""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.views.decorators.debug import sensitive_variables

from .. import crypto
from ..models import User

USERNAME_RE = re.compile(r"^[A-Za-z0-9._-]{3,50}$")
PREFERENCE_KEYS = frozenset({"genres", "moods", "energy", "explicit_content"})


def _normalize_email(email: str) -> str:
    email = email.strip()
    local, at, domain = email.rpartition("@")
    return f"{local}{at}{domain.lower()}" if at else email


@sensitive_variables("password")
def user_create(*, username: str, email: str, password: str) -> User:
    """Create an account after checking username, email and password rules; no token issued."""
    errors: dict[str, list[str]] = {}
    username = username.strip()
    email = _normalize_email(email)
    if not USERNAME_RE.fullmatch(username):
        errors["username"] = ["Use 3–50 letters, digits, '.', '_' or '-'."]
    elif User.objects.filter(username__iexact=username).exists():
        errors["username"] = ["This username is already taken."]
    try:
        validate_email(email)
    except ValidationError:
        errors["email"] = ["Enter a valid email address."]
    else:
        if User.objects.filter(email_hash=crypto.email_index(email)).exists():
            errors["email"] = ["An account with this email already exists."]
    user = User(username=username, email=email)
    try:
        password_validation.validate_password(password, user=user)
    except ValidationError as exc:
        errors["password"] = list(exc.messages)
    if "\x00" in password:
        # The API refuses NUL in any string; an account made here could never sign in there.
        errors["password"] = ["The password cannot contain NUL characters."]
    if errors:
        raise ValidationError(errors)
    user.set_password(password)
    try:
        with transaction.atomic():
            user.full_clean(exclude=["password", "username", "email"])
            user.save()
    except IntegrityError as exc:
        # Lost a race with a concurrent sign-up for the same name or email.
        raise ValidationError({"username": ["This username or email is already taken."]}) from exc
    return user


def user_preferences_update(*, user: User, data: dict[str, Any]) -> User:
    """Merge a partial, already validated preferences document into the user's preferences."""
    unknown = set(data) - PREFERENCE_KEYS
    if unknown:
        raise ValidationError({key: ["Unknown preference."] for key in sorted(unknown)})
    user.preferences = {**(user.preferences or {}), **data}
    user.save(update_fields=["preferences", "updated_at"])
    return user


@sensitive_variables("current_password", "new_password")
def user_password_change(*, user: User, current_password: str, new_password: str) -> User:
    """Change the password; User.save revokes every refresh token of the account."""
    if not user.check_password(current_password):
        raise ValidationError({"current_password": ["The current password is not correct."]})
    try:
        password_validation.validate_password(new_password, user=user)
    except ValidationError as exc:
        raise ValidationError({"new_password": list(exc.messages)}) from exc
    user.set_password(new_password)
    user.save(update_fields=["password", "updated_at"])
    return user
