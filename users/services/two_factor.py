"""TOTP two-factor authentication: setup, confirmation, verification at login, disabling."""

from __future__ import annotations

import base64
import secrets
from urllib.parse import quote, urlencode

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.db import transaction
from django.views.decorators.debug import sensitive_variables

from audotics.exceptions import ApplicationError

from ..db import atomic_with_retry
from ..models import RecoveryCode, TOTPDevice, User
from .recovery import recovery_code_use, recovery_codes_generate


def two_factor_enabled(*, user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def staff_two_factor_missing(*, user) -> bool:
    """A staff account that must turn 2FA on before its staff pages open (admin, model page,
    /metrics): STAFF_REQUIRE_TWO_FACTOR is on in production unless relaxed for a first install."""
    return bool(getattr(user, "is_staff", False) and settings.STAFF_REQUIRE_TWO_FACTOR
                and not two_factor_enabled(user=user))


@sensitive_variables("otp")
def two_factor_verify(*, user: User, otp: str) -> bool:
    """Check a code against the confirmed device, or spend a recovery code; the device's row
    lock makes each TOTP code single-use, the recovery code's DELETE makes it single-use."""

    def verify() -> bool:
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
        return device is not None and device.verify_token(otp)

    if atomic_with_retry(verify):
        return True
    return recovery_code_use(user=user, code=otp)


def _otpauth_uri(*, user: User, device: TOTPDevice) -> str:
    issuer = getattr(settings, "OTP_TOTP_ISSUER", "Audotics")
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    label = quote(f"{issuer}:{user.get_username()}")
    params = urlencode(
        {
            "secret": secret,
            "issuer": issuer,
            "algorithm": "SHA1",
            "digits": device.digits,
            "period": device.step,
        }
    )
    return f"otpauth://totp/{label}?{params}"


@sensitive_variables("password")
def password_confirm(*, user: User, password: str) -> None:
    """The account's password again, for changes to how it signs in (a borrowed session must
    not be able to tie the account to someone else's authenticator, or untie it)."""
    if not user.check_password(password):
        raise ApplicationError(
            "The password is not correct.",
            code="invalid_credentials",
            status=400,
            fields={"password": ["The password is not correct."]},
        )


@sensitive_variables("device", "password")
def two_factor_setup(*, user: User, password: str) -> dict[str, str]:
    """After the password again: a new, not yet active TOTP secret, as its otpauth URI and a QR
    code (SVG)."""
    password_confirm(user=user, password=password)
    if two_factor_enabled(user=user):
        raise ApplicationError(
            "Two-factor authentication is already enabled.", code="two_factor_enabled", status=409
        )
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        device = TOTPDevice(user=user, name="authenticator", confirmed=False)
        device.key = secrets.token_hex(20)
        device.save()
    uri = _otpauth_uri(user=user, device=device)
    svg = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage).to_string(
        encoding="unicode"
    )
    return {"otpauth_uri": uri, "qr_svg": svg}


@sensitive_variables("otp")
def _code_check(*, device: TOTPDevice, otp: str) -> None:
    """A current, not yet used code for this device, or a 400 naming the `otp` field."""
    if not device.verify_token(otp):
        raise ApplicationError(
            "The one-time code is not valid.",
            code="invalid_otp",
            status=400,
            fields={"otp": ["The one-time code is not valid."]},
        )


@sensitive_variables("otp")
def two_factor_confirm(*, user: User, otp: str) -> list[str]:
    """Activate the pending device once the user proves it works with a current code; returns
    the account's ten recovery codes (shown this once)."""
    with transaction.atomic():
        device = (
            TOTPDevice.objects.select_for_update()
            .filter(user=user, confirmed=False)
            .order_by("-created_at")
            .first()
        )
        if device is None:
            raise ApplicationError(
                "Start two-factor setup first.", code="two_factor_not_set_up", status=400
            )
        _code_check(device=device, otp=otp)
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        return recovery_codes_generate(user=user)


@sensitive_variables("password", "otp")
def recovery_codes_renew(*, user: User, password: str, otp: str) -> list[str]:
    """New recovery codes after the password and a current code (or an unused recovery code);
    the old ones die."""
    password_confirm(user=user, password=password)
    if not two_factor_enabled(user=user):
        raise ApplicationError("Turn on two-factor authentication first.",
                               code="two_factor_not_enabled", status=400)
    if not two_factor_verify(user=user, otp=otp):
        raise ApplicationError("The one-time code is not valid.", code="invalid_otp",
                               status=400, fields={"otp": ["The one-time code is not valid."]})
    return recovery_codes_generate(user=user)


@sensitive_variables("password", "otp")
def two_factor_disable(*, user: User, password: str, otp: str) -> None:
    """Turn 2FA off; needs both the password and a current code."""
    password_confirm(user=user, password=password)
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
        if device is None:
            raise ApplicationError(
                "Two-factor authentication is not enabled.",
                code="two_factor_not_enabled",
                status=400,
            )
        _code_check(device=device, otp=otp)
        TOTPDevice.objects.filter(user=user).delete()
        RecoveryCode.objects.filter(user=user).delete()
