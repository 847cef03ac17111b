"""2FA recovery codes: ten single-use codes, shown once when 2FA is turned on (or renewed), that
stand in for a TOTP code when the phone is lost. Only a keyed hash of each is stored."""
from __future__ import annotations

import secrets

from django.db import transaction
from django.utils.crypto import salted_hmac
from django.views.decorators.debug import sensitive_variables

from ..db import atomic_with_retry
from ..models import RecoveryCode, User

CODES = 10
# 10 characters of a 32-letter alphabet without look-alikes: 50 bits per code.
ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def _normalise(code: str) -> str:
    return "".join(c for c in code.lower() if c.isalnum())


def _digest(code: str) -> str:
    return salted_hmac("audotics.recovery-code", _normalise(code)).hexdigest()


@transaction.atomic
def recovery_codes_generate(*, user: User) -> list[str]:
    """Ten new codes (shown to the user this once); any earlier codes stop working."""
    RecoveryCode.objects.filter(user=user).delete()
    codes = ["".join(secrets.choice(ALPHABET) for _ in range(10)) for _ in range(CODES)]
    codes = [f"{c[:5]}-{c[5:]}" for c in codes]
    RecoveryCode.objects.bulk_create(
        [RecoveryCode(user=user, code_hash=_digest(code)) for code in codes])
    return codes


@sensitive_variables("code")
def recovery_code_use(*, user: User, code: str) -> bool:
    """Spend one code: True once per code, even for two requests racing with the same one (the
    DELETE decides which one counted)."""
    if not code or len(_normalise(code)) != 10:
        return False
    digest = _digest(code)

    def spend() -> bool:
        return RecoveryCode.objects.filter(user=user, code_hash=digest).delete()[0] == 1

    return atomic_with_retry(spend)


def recovery_codes_left(*, user: User) -> int:
    return RecoveryCode.objects.filter(user=user).count()
