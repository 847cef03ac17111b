"""Celery tasks of the users app."""

from celery import shared_task


@shared_task(name="users.encryption_keys_rotate")
def encryption_keys_rotate(batch_size: int = 500) -> dict:
    """Re-encrypt rows still on older field-encryption keys (idempotent, resumable)."""
    from .services import encryption_keys_rotate as rotate

    result = rotate(batch_size=batch_size)
    return {
        "rotated": result.rotated,
        "skipped": result.skipped,
        "reindexed": result.reindexed,
        "failed": len(result.failed),
        "remaining_old": result.remaining_old,
    }
