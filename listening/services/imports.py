"""History imports: an uploaded file is kept with its import (in the database, so a worker on any
machine can read it) until listening.listen_import_run has stored its listens. One transaction
per file: a failure leaves nothing half-imported, and running the same file again adds nothing
(Listen is unique)."""
from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from audotics.exceptions import ApplicationError

from ..models import Listen, ListenImport
from . import formats
from .listens import listens_record

logger = logging.getLogger(__name__)
# Rejected rows kept on the import (the rest are counted in rejected_total).
KEPT_REJECTS = 200
SOURCES = {"spotify": Listen.Source.SPOTIFY, "lastfm": Listen.Source.LASTFM,
           "listenbrainz": Listen.Source.LISTENBRAINZ}
PROGRESS_KEY = "listening.import.{}.progress"


def _job_create(*, user, fmt: str, file_name: str, content: bytes) -> ListenImport:
    if fmt not in SOURCES:
        raise ApplicationError("Unknown format.", code="validation_error",
                               fields={"format": [f"one of {', '.join(SOURCES)}"]})
    return ListenImport.objects.create(
        user=user, format=fmt, file_name=Path(file_name or "").name[:255], content=content,
        file_sha256=hashlib.sha256(content).hexdigest())


def listen_import_create(*, user, fmt: str, file_name: str, chunks) -> ListenImport:
    """Keep the uploaded file (an iterable of byte chunks) and queue its import."""
    job = _job_create(user=user, fmt=fmt, file_name=file_name, content=b"".join(chunks))
    from ..tasks import listen_import_run as task  # noqa: PLC0415 - tasks import services

    transaction.on_commit(lambda: task.delay(str(job.pk)))
    return job


def listen_import_from_path(*, user, fmt: str, path: Path) -> ListenImport:
    """An import of a file on this machine (the import_listens command), run by the caller."""
    return _job_create(user=user, fmt=fmt, file_name=path.name, content=path.read_bytes())


def listen_import_list(*, user, limit: int = 50) -> list[ListenImport]:
    """The user's latest imports, newest first."""
    return list(ListenImport.objects.filter(user=user).defer("content")[:limit])


def listen_import_get(*, user, import_id: str) -> ListenImport:
    """One of the user's imports (404 for anyone else's), with live progress while running."""
    try:
        key = uuid.UUID(str(import_id))
    except ValueError:
        key = None
    job = (ListenImport.objects.filter(user=user, pk=key).defer("content").first()
           if key else None)
    if job is None:
        raise ApplicationError("No such import.", code="not_found", status=404)
    if job.status == ListenImport.Status.RUNNING:
        job.progress = cache.get(PROGRESS_KEY.format(job.pk)) or job.progress
    return job


def listen_import_run(*, import_id: str,
                      on_progress: Callable[[str, int, int], None] | None = None) -> ListenImport:
    """Read, match and store one import's file; idempotent, and all or nothing."""
    job = ListenImport.objects.select_related("user").get(pk=import_id)
    if job.status == ListenImport.Status.DONE:
        return job
    started = time.monotonic()
    ListenImport.objects.filter(pk=job.pk).update(status=ListenImport.Status.RUNNING)
    try:
        parsed = formats.READERS[job.format](bytes(job.content or b""), timezone.now())
        total = len(parsed.heard)
        done = 0

        def stored(count: int) -> None:
            nonlocal done
            done += count
            cache.set(PROGRESS_KEY.format(job.pk), {"done": done, "total": total}, 3600)
            if on_progress:
                on_progress("stored", done, total)

        if on_progress:
            on_progress("read", parsed.rows, parsed.rows)
        result = listens_record(user=job.user, heard=parsed.heard, source=SOURCES[job.format],
                                import_job=job, on_progress=stored)
    except formats.FileFormatError as exc:
        job.status, job.error = ListenImport.Status.FAILED, str(exc)[:2000]
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "error", "finished_at"])
        return job
    except Exception:
        # The transaction rolled back: nothing of this file is stored. Say so, keep the file.
        logger.exception("import %s failed", job.pk)
        job.status, job.finished_at = ListenImport.Status.FAILED, timezone.now()
        job.error = "The import failed and stored nothing; try again later."
        job.save(update_fields=["status", "error", "finished_at"])
        return job
    job.status = ListenImport.Status.DONE
    job.rows, job.ignored = parsed.rows, parsed.ignored + result.ignored
    job.listens, job.skips, job.duplicates = result.listens, result.skips, result.duplicates
    job.matched, job.created = result.matched, result.tracks_created
    job.rejected = [{"line": r.line, "reason": r.reason} for r in parsed.rejected[:KEPT_REJECTS]]
    job.rejected_total = len(parsed.rejected)
    job.progress = {"done": len(result.new), "total": len(parsed.heard)}
    job.finished_at = timezone.now()
    job.content = None
    job.save()
    logger.info("import %s: %d rows, %d listens, %d skips, match rate %.3f in %.1f s", job.pk,
                job.rows, job.listens, job.skips, job.match_rate or 0.0,
                time.monotonic() - started)
    return job
