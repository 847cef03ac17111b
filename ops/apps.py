from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "ops"
    verbose_name = "Operations: backups, metrics, logging"

    def ready(self) -> None:
        # Celery task durations are observed from signals, so every worker that loads Django
        # (celery -A audotics worker) reports them without touching the tasks themselves.
        from . import metrics

        metrics.connect_celery_signals()
