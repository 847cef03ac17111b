"""Celery tasks of the listening app (STYLE.md §5)."""
from celery import shared_task


@shared_task(name="listening.listen_import_run", acks_late=True)
def listen_import_run(import_id: str) -> str:
    """Import one uploaded listening history (idempotent: a re-run adds nothing)."""
    from .services import imports

    return imports.listen_import_run(import_id=import_id).status
