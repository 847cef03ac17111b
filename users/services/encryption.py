"""Re-encrypt every encrypted field under the newest key, in resumable batches."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import models, transaction

from .. import crypto
from ..fields import Ciphertext, EncryptedTextField
from ..models import TOTPDevice, User

logger = logging.getLogger(__name__)

ENCRYPTED_MODELS: tuple[type[models.Model], ...] = (User, TOTPDevice)


@dataclass
class RotationResult:
    rotated: int = 0
    skipped: int = 0
    reindexed: int = 0
    failed: list[str] = field(default_factory=list)
    remaining_old: int = 0


def _encrypted_fields(model: type[models.Model]) -> list[EncryptedTextField]:
    return [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]


def encrypted_row_count() -> int:
    return sum(m._default_manager.count() for m in ENCRYPTED_MODELS)


def _rotate_row(model, obj, fields, newest: str, result: RotationResult) -> None:
    updates: dict[str, object] = {}
    for f in fields:
        raw = f.raw_value(obj)
        if raw is None or crypto.key_id(raw) == newest:
            continue
        updates[f.attname] = f.encrypt_for(obj, getattr(obj, f.attname))
    if model is User and obj.email:
        # Keep the blind index current (e.g. after FIELD_HMAC_KEY/SECRET_KEY rotation).
        index = crypto.email_index(obj.email)
        if index != obj.email_hash:
            updates["email_hash"] = index
            result.reindexed += 1
    if any(isinstance(v, Ciphertext) for v in updates.values()):
        result.rotated += 1
    else:
        result.skipped += 1
    if updates:
        model._default_manager.filter(pk=obj.pk).update(**updates)


def encryption_keys_rotate(
    *, batch_size: int = 500, progress: Callable[[int], None] | None = None
) -> RotationResult:
    """Rewrite rows still on an older key; rows already on the newest key are skipped."""
    newest = crypto.keyring().newest_kid
    result = RotationResult()
    for model in ENCRYPTED_MODELS:
        fields = _encrypted_fields(model)
        names = [model._meta.pk.attname, *[f.attname for f in fields]]
        if model is User:
            names.append("email_hash")
        last_pk = None
        while True:
            qs = model._default_manager.order_by("pk").only(*names)
            if last_pk is not None:
                qs = qs.filter(pk__gt=last_pk)
            batch = list(qs[:batch_size])
            if not batch:
                break
            with transaction.atomic():
                for obj in batch:
                    try:
                        _rotate_row(model, obj, fields, newest, result)
                    except crypto.DecryptionError as exc:
                        logger.error("Cannot re-encrypt %s %s: %s", model.__name__, obj.pk, exc)
                        result.failed.append(f"{model._meta.label}:{obj.pk}")
            last_pk = batch[-1].pk
            if progress is not None:
                progress(len(batch))
    result.remaining_old = rows_on_old_keys()
    return result


def rows_on_old_keys() -> int:
    """How many rows hold at least one value encrypted under a key other than the newest."""
    newest = crypto.keyring().newest_kid
    count = 0
    for model in ENCRYPTED_MODELS:
        fields = _encrypted_fields(model)
        for row in model._default_manager.values_list(*[f.attname for f in fields]).iterator():
            if any(v and _kid_or_none(v) != newest for v in row):
                count += 1
    return count


def _kid_or_none(value: str) -> str | None:
    try:
        return crypto.key_id(value)
    except crypto.DecryptionError:
        return None
