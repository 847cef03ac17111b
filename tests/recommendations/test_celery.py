"""A real Celery worker trains on a small catalog; the API then serves the new modelVersion."""
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from rest_framework.test import APIClient

from recommendations import tasks
from recommendations.models import ModelVersion
from tests.recommendations.conftest import make_catalog
from tests.recommendations.test_training import make_listeners

pytestmark = [
    pytest.mark.services,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL (Celery broker)"),
]
ROOT = Path(__file__).resolve().parents[2]


def _database_url() -> str:
    """DATABASE_URL of the pytest-django test database (the worker must see committed rows)."""
    import environ

    db = connection.settings_dict
    base = environ.Env.db_url_config(os.environ["DATABASE_URL"]) if os.environ.get(
        "DATABASE_URL") else {}
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or base.get("USER", "")
    password = db.get("PASSWORD") or ""
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    return f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


@pytest.fixture
def worker(tmp_path):
    """`celery -A audotics worker --pool=solo` on a queue of its own, same DB, Redis and home."""
    queue = f"reco-test-{uuid.uuid4().hex[:8]}"
    env = dict(os.environ, DATABASE_URL=_database_url(), AUDOTICS_HOME=str(tmp_path),
               RECO_TRAIN_EPOCHS="1", PYTHONPATH=str(ROOT))
    env.pop("AUDOTICS_REQUIRE_SERVICES", None)
    with open(tmp_path / "worker.log", "w") as log:  # the worker keeps its own descriptor
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "audotics", "worker", "--pool=solo",
             "--concurrency=1", "-Q", queue, "--loglevel=INFO", "--without-gossip",
             "--without-mingle", "--without-heartbeat"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield queue, tmp_path
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def test_worker_trains_and_api_serves_the_new_version(worker):
    queue, home = worker
    settings.MODEL_DIR = home / "models"
    started = time.monotonic()
    tracks = make_catalog(per_genre=6)
    users = make_listeners(tracks, n_users=8, per_user=6)
    client = APIClient()
    client.force_authenticate(user=users[0])
    before = client.get(f"/api/users/{users[0].pk}/recommendations").json()
    assert before["modelVersion"] is None  # no model yet: the fallback answers

    result = tasks.model_train.apply_async(kwargs={"epochs": 1}, queue=queue)
    try:
        version_id = result.get(timeout=85)
    except Exception:
        print((home / "worker.log").read_text()[-5000:])
        raise
    version = ModelVersion.objects.get(pk=version_id)
    assert version.is_active and version.metrics
    assert Path(version.artifact_path).is_relative_to(home / "models")

    body = client.get(f"/api/users/{users[0].pk}/recommendations?limit=10").json()
    assert body["modelVersion"] == version_id
    assert len(body["tracks"]) == 10
    assert time.monotonic() - started < 90
