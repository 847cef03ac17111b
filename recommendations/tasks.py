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
def recommend_batch(days: int | None = None) -> int:
    """Hourly: precompute the default list of recently active users into the cache."""
    from .services import training

    return training.recommend_batch(days=days)


@shared_task(name="recommendations.model_evaluate")
def model_evaluate() -> dict | None:
    """Metrics of the active version on current data."""
    from audotics.exceptions import ApplicationError

    from .services import training

    try:
        return training.model_evaluate()
    except ApplicationError:
        return None
