"""The batch: every active user's default list precomputed into the result cache.

Two ways to run it. `recommend_batch` works through the users in this process (the command, a
benchmark): chunks of users through the model's vectorised ranking on two threads. The hourly
job, `batch_run_start`, splits the users into chunk tasks (a Celery chord) so that any number of
workers on any number of machines share one run: each chunk is idempotent (it overwrites the
same cache entries and records itself once under (run, index)), is retried on a transient
failure, and the run's progress is counted from the chunks done.
"""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Count, Sum
from django.utils import timezone

from ..models import BatchChunk, BatchRun, Interaction
from . import serving
from .training import Progress, progress_step


def active_user_ids(*, days: int) -> list[str]:
    """Ids of active users with an interaction in the last `days` days."""
    since = timezone.now() - timedelta(days=days)
    ids = (Interaction.objects.filter(created_at__gte=since)
           .values_list("user_id", flat=True).distinct())
    return [str(u) for u in get_user_model().objects.filter(pk__in=ids, is_active=True)
            .values_list("id", flat=True)]


def recommend_batch(*, days: int | None = None, limit: int = 20, chunk: int = 2000,
                    on_progress: Progress = None) -> int:
    """Precompute the default list of every active user into the result cache, here."""
    from mlcore import search_threads  # noqa: PLC0415

    from .recommend import (  # noqa: PLC0415
        disliked_by_user,
        recommendations_precompute_model,
        recommendations_precompute_per_user,
    )

    users = active_user_ids(days=days or settings.RECO_BATCH_ACTIVE_DAYS)
    # Once per run rather than per chunk: the model catches up on everything since its cutoff,
    # and every dislike is read (both through indexes on created_at / dislikes).
    served = serving.served_model()
    if served is not None:
        serving.users_catch_up(served, user_ids=None)
    disliked = disliked_by_user()
    threads = max(1, settings.RECO_BATCH_THREADS)

    def from_model(part: list[str]) -> tuple[int, list[str]]:
        if threads > 1:
            search_threads(1)  # the threads share the cores; one search each
        try:
            return recommendations_precompute_model(user_ids=part, limit=limit,
                                                    disliked=disliked)
        finally:
            # The active-version check reads the database if the cache has lost its copy.
            connection.close()

    # Two chunks in flight: while one thread is in the index search (faiss releases the GIL)
    # or waits on Redis, the other turns its results into lists. The threads touch only the
    # model and the cache; users the model cannot serve take the per-user path (database,
    # fallback) here in the calling thread.
    done = 0
    parts = [users[start:start + chunk] for start in range(0, len(users), chunk)]
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for stored, rest in pool.map(from_model, parts):
            done += stored + recommendations_precompute_per_user(user_ids=rest, limit=limit)
            progress_step(on_progress, "users", done, len(users))
    return done




def batch_run_start(*, days: int | None = None, limit: int = 20, chunk: int | None = None,
                    queue: str | None = None, user_ids: list[str] | None = None) -> BatchRun:
    """Record a run and send its chunk tasks (after the commit, so workers see the run);
    `user_ids` instead of the users active in the last `days` days."""
    from celery import chord  # noqa: PLC0415

    from .. import tasks  # noqa: PLC0415

    users = (user_ids if user_ids is not None
             else active_user_ids(days=days or settings.RECO_BATCH_ACTIVE_DAYS))
    size = chunk or settings.RECO_BATCH_CHUNK_USERS
    parts = [users[s : s + size] for s in range(0, len(users), size)]
    active = serving.active_version()
    run = BatchRun.objects.create(users_total=len(users), chunks_total=len(parts),
                                  list_length=limit,
                                  model_version=active["id"] if active else "")
    options = {"queue": queue} if queue else {}
    work = chord([tasks.recommend_batch_chunk.si(str(run.pk), n, part, limit).set(**options)
                  for n, part in enumerate(parts)],
                 tasks.recommend_batch_finish.si(str(run.pk)).set(**options))
    transaction.on_commit(work.apply_async if parts else lambda: batch_run_finish(
        run_id=run.pk))
    return run


def batch_chunk_run(*, run_id: Any, index: int, user_ids: list[str], limit: int,
                    worker: str) -> int:
    """One chunk of a run: catch the model up on these users, store their lists, record the
    chunk (once, however often it ran) and the run's progress."""
    from threadpoolctl import threadpool_limits  # noqa: PLC0415

    from .recommend import recommendations_precompute  # noqa: PLC0415

    started = time.monotonic()
    with threadpool_limits(settings.RECO_BATCH_TASK_THREADS or None):
        lists = recommendations_precompute(user_ids=user_ids, limit=limit)
    with transaction.atomic():
        # The run's row is locked first: chunks finishing at once on other workers count one
        # after another, each seeing the others' committed chunks (under READ COMMITTED two
        # unlocked counts would each miss the other's chunk, and the later write would win).
        BatchRun.objects.select_for_update().filter(pk=run_id).first()
        chunk, created = BatchChunk.objects.select_for_update().get_or_create(
            run_id=run_id, index=index,
            defaults={"worker": worker, "users": len(user_ids), "lists": lists,
                      "seconds": time.monotonic() - started})
        if not created:
            BatchChunk.objects.filter(pk=chunk.pk).update(
                worker=worker, lists=lists, attempts=chunk.attempts + 1,
                seconds=time.monotonic() - started, finished_at=timezone.now())
        _progress_count(run_id)
    return lists


def _progress_count(run_id: Any, **fields: Any) -> None:
    done = BatchChunk.objects.filter(run_id=run_id).aggregate(
        chunks=Count("id"), users=Sum("users"))
    BatchRun.objects.filter(pk=run_id).update(chunks_done=done["chunks"],
                                              users_done=done["users"] or 0, **fields)


def batch_run_finish(*, run_id: Any) -> BatchRun:
    """Mark a run finished (the chord's last step), its progress counted once more from the
    chunks, all of them committed by now."""
    _progress_count(run_id, finished_at=timezone.now())
    return BatchRun.objects.get(pk=run_id)
