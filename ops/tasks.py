"""Celery tasks of the ops app."""

from celery import shared_task


# Acked on receipt: a long dump redelivered after a broker visibility timeout would only
# start a second, concurrent dump; the next 6-hourly run covers a lost one.
@shared_task(name="ops.backup_db", acks_late=False)
def backup_db() -> dict:
    """Take a database backup and apply the retention policy (beat: every 6 hours)."""
    from .services.backups import backup_create

    result = backup_create()
    return {
        "path": str(result.path),
        "size": result.size,
        "sha256": result.sha256,
        "removed": [p.name for p in result.removed],
    }
