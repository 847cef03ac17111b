"""Accounts: the custom user model, refresh-token families and TOTP devices.

The user model is set from the first migration (it cannot change later). The email is stored
encrypted (users/fields.py); `email_hash` is its keyed blind index, unique, used for
case-insensitive uniqueness and login by email.
"""

import time
import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower
from django_otp.models import Device
from django_otp.oath import TOTP

from . import crypto
from .fields import EncryptedEmailField, EncryptedTextField


class User(AbstractUser):
    """A listener; `preferences` holds genres, moods, energy and explicit-content choice."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = EncryptedEmailField("email address", blank=True, default="")
    email_hash = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False)
    preferences = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["username"]
        indexes = [models.Index(fields=["created_at"], name="user_created_idx")]
        constraints = [
            models.UniqueConstraint(Lower("username"), name="user_username_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.username

    def save(self, *args, **kwargs):
        # The blind index follows the email on every save that writes the email.
        update_fields = kwargs.get("update_fields")
        if update_fields is None or "email" in update_fields:
            self.email_hash = crypto.email_index(self.email) if self.email else None
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "email_hash"}
        password_changed = self._password is not None and not self._state.adding
        super().save(*args, **kwargs)
        if password_changed:
            # Any password change (API, admin, shell) ends every login of this account.
            from .services import refresh_tokens_revoke_all

            refresh_tokens_revoke_all(user=self, reason="password_changed")


class TokenFamily(models.Model):
    """One login: every refresh token rotated from it carries `family=<id>`.

    Only `current_jti` is usable; presenting any other token of the family is reuse (theft) and
    revokes the whole family.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="token_families"
    )
    current_jti = models.CharField(max_length=255, blank=True)
    # The signing-in client's User-Agent, shortened: how /account names this sign-in.
    client = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    rotated_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=32, blank=True)

    class Meta:
        verbose_name_plural = "token families"
        indexes = [models.Index(fields=["user", "revoked_at"], name="tokenfamily_user_idx")]

    def __str__(self) -> str:
        return f"{self.user_id}/{self.id}"


class TOTPDevice(Device):
    """A TOTP authenticator whose secret is stored AES-GCM encrypted.

    Why not django_otp's own `otp_totp.TOTPDevice`: it keeps the secret as plaintext hex in a
    concrete model, and Django cannot override a concrete parent's field. So this model reuses
    django_otp's abstract `Device` (user, name, confirmed) and its RFC 6238 `oath.TOTP`
    implementation, with the same `last_t`/`drift` bookkeeping, and a UUID primary key so that
    the ciphertext's associated data (table, column, pk) is known before the first insert.
    `verify_token` must be called on a row locked with select_for_update (see services).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    key = EncryptedTextField(help_text="Hex-encoded secret, encrypted at rest.")
    step = models.PositiveSmallIntegerField(default=30)
    t0 = models.BigIntegerField(default=0)
    digits = models.PositiveSmallIntegerField(default=6)
    tolerance = models.PositiveSmallIntegerField(default=1)
    drift = models.SmallIntegerField(default=0)
    last_t = models.BigIntegerField(default=-1)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "TOTP device"

    @property
    def bin_key(self) -> bytes:
        return bytes.fromhex(self.key)

    def totp(self) -> TOTP:
        totp = TOTP(self.bin_key, self.step, self.t0, self.digits, self.drift)
        totp.time = time.time()
        return totp

    def verify_token(self, token) -> bool:
        """Accept a code once: t must exceed the last accepted t (replay), ±tolerance steps."""
        token = str(token).strip()
        if not token.isdigit() or len(token) != self.digits:
            return False
        totp = self.totp()
        if not totp.verify(int(token), self.tolerance, self.last_t + 1):
            return False
        self.last_t = totp.t()
        self.drift = totp.drift
        self.save(update_fields=["last_t", "drift"])
        return True


class RecoveryCode(models.Model):
    """A single-use 2FA recovery code, kept only as a keyed hash (users/services/recovery.py)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recovery_codes"
    )
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "code_hash"], name="recoverycode_once"),
        ]

    def __str__(self) -> str:
        return f"recovery code of {self.user_id}"


class BrowserSession(models.Model):
    """A signed-in browser: the Django session it holds, so /account can list and end it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="browser_sessions"
    )
    session_key = models.CharField(max_length=40, unique=True)
    client = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"browser session of {self.user_id}"
