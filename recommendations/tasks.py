"""Celery tasks: thin shells around the training and batch services (STYLE.md §5)."""
from celery import shared_task


@shared_task(bind=True, name="recommendations.model_train")
def model_train(self, epochs: int | None = None, refit: bool | None = None) -> str | None:
    """Nightly: train, evaluate, store and (if not worse) activate a new model version."""
    from audotics.exceptions import ApplicationError

    from .services import training

    def progress(stage: str, done: int, total: int) -> None:
        if self.request.id and not self.request.is_eager:
            self.update_state(state="PROGRESS",
                              meta={"stage": stage, "done": done, "total": total})

    try:
        return str(training.model_train(epochs=epochs, refit=refit, on_progress=progress).pk)
    except ApplicationError:
        return None  # not enough data yet: nothing to retry


@shared_task(name="recommendations.recommend_batch")
def recommend_batch(days: int | None = None) -> str:
    """Hourly: start a batch run, its chunks shared by every worker (recommend_batch_chunk)."""
    from .services import batch

    return str(batch.batch_run_start(days=days).pk)


@shared_task(bind=True, name="recommendations.recommend_batch_chunk", max_retries=3,
             acks_late=True)
def recommend_batch_chunk(self, run_id: str, index: int, user_ids: list[str],
                          limit: int = 20) -> int:
    """One chunk of a batch run: idempotent, retried when the database or Redis blinks."""
    from django.db import OperationalError, connection
    from redis.exceptions import ConnectionError as RedisConnectionError

    from .services import batch

    try:
        return batch.batch_chunk_run(run_id=run_id, index=index, user_ids=user_ids,
                                     limit=limit, worker=self.request.hostname or "local")
    except (OperationalError, RedisConnectionError) as exc:
        connection.close()
        raise self.retry(exc=exc, countdown=5) from exc


@shared_task(name="recommendations.recommend_batch_finish")
def recommend_batch_finish(run_id: str) -> str:
    """The batch chord's last step: mark the run finished."""
    from .services import batch

    return str(batch.batch_run_finish(run_id=run_id).pk)


@shared_task(name="recommendations.model_evaluate")
def model_evaluate() -> dict | None:
    """Metrics of the active version on current data."""
    from audotics.exceptions import ApplicationError

    from .services import training

    try:
        return training.model_evaluate()
    except ApplicationError:
        return None
