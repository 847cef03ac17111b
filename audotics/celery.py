"""The Celery app `audotics`: configuration comes from Django settings (CELERY_*)."""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "audotics.settings")

app = Celery("audotics")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
