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


def _start_worker(queue: str, home: Path, name: str) -> subprocess.Popen:
    """`celery -A audotics worker --pool=solo` named `name`, on `queue`, same DB and Redis."""
    env = dict(os.environ, DATABASE_URL=_database_url(), AUDOTICS_HOME=str(home),
               RECO_TRAIN_EPOCHS="1", PYTHONPATH=str(ROOT))
    env.pop("AUDOTICS_REQUIRE_SERVICES", None)
    with open(home / f"{name}.log", "w") as log:  # the worker keeps its own descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "audotics", "worker", "--pool=solo",
             "--concurrency=1", "-Q", queue, "-n", f"{name}@%h", "--loglevel=INFO",
             "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def _stop(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=3)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@pytest.fixture
def worker(tmp_path):
    """One worker on a queue of its own."""
    queue = f"reco-test-{uuid.uuid4().hex[:8]}"
    proc = _start_worker(queue, tmp_path, "worker")
    try:
        yield queue, tmp_path
    finally:
        _stop(proc)


@pytest.fixture
def two_workers(tmp_path):
    """Two worker processes sharing one queue, ready before the test sends anything."""
    from audotics.celery import app

    queue = f"reco-test-{uuid.uuid4().hex[:8]}"
    procs = [_start_worker(queue, tmp_path, name) for name in ("w1", "w2")]
    try:
        deadline = time.monotonic() + 60
        names: set[str] = set()
        while len(names) < 2 and time.monotonic() < deadline:
            replies = app.control.ping(timeout=1.0) or []
            names = {n.split("@")[0] for r in replies for n in r} & {"w1", "w2"}
        assert names == {"w1", "w2"}, "workers did not start"
        yield queue, tmp_path
    finally:
        for proc in procs:
            _stop(proc)


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


def test_two_workers_share_one_batch_run_and_every_user_gets_one_list(two_workers):
    """The hourly batch as chunk tasks: both workers take chunks, every active user is in
    exactly one chunk and gets a list, the run counts its progress and finishes."""
    from django.core.cache import cache

    from recommendations.models import BatchChunk, BatchRun
    from recommendations.services import batch
    from tests.recommendations.conftest import install_embedding_model

    queue, home = two_workers
    settings.MODEL_DIR = home / "models"
    tracks = make_catalog(per_genre=6)
    users = make_listeners(tracks, n_users=24, per_user=5)
    install_embedding_model(tracks, users)
    run = batch.batch_run_start(chunk=2, queue=queue)  # no transaction here: sent at once
    deadline = time.monotonic() + 80
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.finished_at:
            break
        time.sleep(0.2)
    if not run.finished_at:
        print((home / "w1.log").read_text()[-3000:], (home / "w2.log").read_text()[-3000:])
    assert run.finished_at is not None
    chunks = list(BatchChunk.objects.filter(run=run))
    assert len(chunks) == run.chunks_total == 12
    assert {c.worker.split("@")[0] for c in chunks} == {"w1", "w2"}
    assert (run.users_done, run.chunks_done) == (24, 12) == (run.users_total, run.chunks_total)
    keys = [k for k in cache.keys("reco:u:*")]
    per_user = {str(u.pk): [k for k in keys if k.startswith(f"reco:u:{u.pk}:")] for u in users}
    assert all(len(v) == 1 for v in per_user.values()), per_user
    assert BatchRun.objects.count() == 1
