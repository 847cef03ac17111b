"""Faults on real processes: Redis stopped, PostgreSQL restarted, a Celery worker and a web worker
SIGKILLed. Private Redis/PostgreSQL instances on free ports: the shared ones are never touched."""
import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import psycopg
import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.db import connection
from websockets.exceptions import ConnectionClosed

from playlists.models import Playlist, PlaylistEvent, PlaylistTrack
from tests.collaboration.live import ROOT, access_token, next_frame_of, ws_connect
from tests.factories import CollaboratorFactory, PlaylistFactory, TrackFactory, UserFactory
from tests.reliability.live import (
    PrivatePostgres,
    Server,
    http,
    private_redis,
    server_env,
)

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]
db = database_sync_to_async


def _assert_log_consistent(playlist_id) -> tuple[int, list]:
    """Positions 0..n-1, version == number of events, events 1..version, replay == rows."""
    playlist = Playlist.objects.get(pk=playlist_id)
    rows = list(PlaylistTrack.objects.filter(playlist=playlist).order_by("position")
                .values_list("track_id", "position"))
    assert [p for _, p in rows] == list(range(len(rows)))
    versions = list(PlaylistEvent.objects.filter(playlist=playlist).order_by("version")
                    .values_list("version", flat=True))
    assert versions == list(range(1, playlist.version + 1)), (versions, playlist.version)
    model: list[str] = []
    for event in PlaylistEvent.objects.filter(playlist=playlist).order_by("version"):
        assert event.type == "TRACK_ADDED"  # these tests only add
        at = event.data["position"]
        model[at:at] = [str(t["id"]) for t in event.data["tracks"]]
    assert model == [str(t) for t, _ in rows]
    return playlist.version, rows


# ---------------------------------------------------------------------------- Redis stopped


async def test_redis_stopped_during_traffic(services_db_url, tmp_path):
    owner = await db(UserFactory)()
    playlist = await db(PlaylistFactory)(owner=owner, is_collaborative=True)
    friend = (await db(CollaboratorFactory)(playlist=playlist)).user
    tracks = [str(t.pk) for t in await db(lambda: TrackFactory.create_batch(12))()]
    token, friend_token = await db(access_token)(owner), await db(access_token)(friend)
    with private_redis() as redis:
        env = server_env(database_url=services_db_url, redis_url=redis.url)
        server = Server(env, tmp_path / "server.log").start()
        base = f"{server.url}/api/playlists/{playlist.pk}"
        try:
            status, ticket, _ = await asyncio.to_thread(
                http, "POST", server.url + "/api/auth/ws-ticket", friend_token)
            assert status == 200, ticket
            ws = await ws_connect(server.url, playlist.pk, ticket["ticket"])
            assert (await next_frame_of(ws, {"SNAPSHOT"}))["version"] == 0
            status, _, _ = await asyncio.to_thread(http, "PUT", base + "/tracks", token,
                                                   {"trackIds": tracks[:2]})
            assert status == 200
            assert (await next_frame_of(ws, {"TRACK_ADDED"}))["version"] == 1

            redis.stop()
            outcomes = []
            for track in tracks[2:8]:
                status, body, took = await asyncio.to_thread(http, "GET", base, token,
                                                             timeout=10)
                assert status == 200, body  # reads keep answering
                assert took < 6
                status, body, took = await asyncio.to_thread(
                    http, "PUT", base + "/tracks", token, {"trackIds": [track]}, timeout=10)
                assert status in (200, 503), body  # never 500
                assert took < 6
                outcomes.append(status)
            # The socket is told: it closes, or it keeps working and receives what it can.
            told = False
            try:
                async with asyncio.timeout(8):
                    async for _ in ws:
                        pass
                told = True
            except ConnectionClosed:
                told = True  # e.g. 1011 from the server when its channel layer fails
            except TimeoutError:
                pass
            redis.start()
            # Clients reconnect with backoff (the first attempts may meet the server's stale
            # pooled Redis connections and close with 1011) and resync from a SNAPSHOT.
            deadline = time.monotonic() + 25
            attempts = 0
            while True:
                attempts += 1
                status, ticket, _ = await asyncio.to_thread(
                    http, "POST", server.url + "/api/auth/ws-ticket", friend_token)
                if status == 200:
                    try:
                        ws2 = await ws_connect(server.url, playlist.pk, ticket["ticket"])
                        snapshot = await next_frame_of(ws2, {"SNAPSHOT"})
                        break
                    except (ConnectionClosed, OSError):
                        pass
                else:
                    assert status == 503, ticket  # never 500
                assert time.monotonic() < deadline, server.log_tail()
                await asyncio.sleep(0.5)
            status, body, _ = await asyncio.to_thread(http, "PUT", base + "/tracks", token,
                                                      {"trackIds": [tracks[-1]]})
            assert status == 200, body
            event = await next_frame_of(ws2, {"TRACK_ADDED"})
            assert event["version"] == snapshot["version"] + 1
            await ws2.close()
            if not told:
                await ws.close()
        finally:
            server.stop()
    version, rows = await db(_assert_log_consistent)(playlist.pk)
    assert [t["id"] for t in snapshot["tracks"]] == [str(t) for t, _ in rows][:-1]
    assert snapshot["version"] == version - 1
    assert version == 1 + outcomes.count(200) + 1
    print(f"writes while Redis was down: {outcomes}; socket closed: {told} ({ws.close_code}); "
          f"reconnect attempts: {attempts}")


# ---------------------------------------------------------------------------- PostgreSQL down


@pytest.fixture
def private_postgres(services_db_url):
    cluster = PrivatePostgres().init()
    try:
        yield cluster
    finally:
        cluster.destroy()


def test_postgresql_restart_fails_fast_and_recovers(private_postgres, tmp_path):
    env = server_env(database_url=private_postgres.url, redis_url=os.environ["REDIS_URL"])
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT,
                   env=env, check=True, timeout=180)
    subprocess.run([sys.executable, "manage.py", "shell", "-c",
                    "from django.contrib.auth import get_user_model;"
                    "get_user_model().objects.create_user('pgfault', 'pg@x.invalid', "
                    "'Pg-fault-2026!')"], cwd=ROOT, env=env, check=True, timeout=120)
    server = Server(env, tmp_path / "server.log").start()
    try:
        status, body, _ = http("POST", server.url + "/api/auth/token",
                               body={"username": "pgfault", "password": "Pg-fault-2026!"})
        assert status == 200, body
        token = body["access"]
        assert http("GET", server.url + "/api/playlists", token)[0] == 200
        private_postgres.stop()
        for path in ("/api/playlists", "/api/tracks?q=x", "/readyz"):
            status, body, took = http("GET", server.url + path, token, timeout=15)
            assert status == 503, (path, status, body, server.log_tail())
            assert took < 6, (path, took)
        status, body, took = http("POST", server.url + "/api/playlists", token,
                                  {"name": "while down"}, timeout=15)
        assert status == 503 and body["error"]["code"] == "service_unavailable", body
        assert took < 6
        private_postgres.start()
        deadline = time.monotonic() + 15
        while (status := http("GET", server.url + "/api/playlists", token)[0]) != 200:
            assert time.monotonic() < deadline, status
            time.sleep(0.2)
        assert http("POST", server.url + "/api/playlists", token, {"name": "after"})[0] == 201
        assert server.proc.poll() is None
    finally:
        server.stop()


# ---------------------------------------------------------------------------- web worker killed


def test_web_worker_killed_mid_write_leaves_no_partial_playlist(services_db_url, tmp_path):
    """Hold a lock the write needs half-way through, SIGKILL the server, then release it."""
    owner = UserFactory()
    playlist = PlaylistFactory(owner=owner)
    first = TrackFactory.create_batch(3)
    tracks = TrackFactory.create_batch(500)
    token = access_token(owner)
    server = Server(server_env(database_url=services_db_url, redis_url=os.environ["REDIS_URL"]),
                    tmp_path / "server.log").start()
    url = f"{server.url}/api/playlists/{playlist.pk}/tracks"
    try:
        assert http("PUT", url, token, {"trackIds": [str(t.pk) for t in first]})[0] == 200
        dsn = services_db_url.replace("postgres://", "postgresql://")
        with psycopg.connect(dsn, autocommit=False) as blocker:
            # The write inserts the 500 playlist rows, then blocks on the interaction log.
            blocker.execute("LOCK TABLE recommendations_interaction IN EXCLUSIVE MODE")
            result = {}
            thread = threading.Thread(target=lambda: result.update(
                answer=http("PUT", url, token, {"trackIds": [str(t.pk) for t in tracks]},
                            timeout=20)))
            thread.start()
            deadline = time.monotonic() + 15
            while not blocker.execute(
                    "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = "
                    "'recommendations_interaction'::regclass").fetchone()[0]:
                assert time.monotonic() < deadline, "the write never reached the lock"
                time.sleep(0.02)
            server.kill(signal.SIGKILL)  # mid-transaction: rows inserted, not committed
            blocker.rollback()
        thread.join(25)
        assert result["answer"][0] == 0  # the client saw the connection drop
        # The orphaned backend notices its client is gone and rolls back.
        deadline = time.monotonic() + 10
        while Playlist.objects.get(pk=playlist.pk).version == 1 and time.monotonic() < deadline:
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = "
                               "current_database() AND state = 'active' AND pid <> "
                               "pg_backend_pid() AND query LIKE '%%interaction%%'")
                if cursor.fetchone()[0] == 0:
                    break
            time.sleep(0.1)
        version, rows = _assert_log_consistent(playlist.pk)
        assert version == 1 and len(rows) == 3
        # And the restarted worker serves the same write in full.
        server.start()
        status, body, _ = http("PUT", url, token, {"trackIds": [str(t.pk) for t in tracks]})
        assert status == 200 and body["version"] == 2, body
        version, rows = _assert_log_consistent(playlist.pk)
        assert version == 2 and len(rows) == 503
    finally:
        server.stop()


# ---------------------------------------------------------------------------- Celery worker


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs REDIS_URL")
def test_celery_worker_sigkilled_mid_training_keeps_the_active_model(services_db_url, tmp_path):
    from recommendations import tasks
    from recommendations.models import ModelVersion
    from tests.recommendations.conftest import install_embedding_model, make_catalog
    from tests.recommendations.test_training import make_listeners

    settings.MODEL_DIR = tmp_path / "models"
    catalog = make_catalog(per_genre=6)
    users = make_listeners(catalog, n_users=8, per_user=6)
    active = install_embedding_model(catalog, users)
    artifact = Path(active.artifact_path)
    before = {p: p.read_bytes() for p in sorted(artifact.rglob("*")) if p.is_file()}
    queue = f"reco-kill-{uuid.uuid4().hex[:8]}"
    env = server_env(database_url=services_db_url, redis_url=os.environ["REDIS_URL"],
                     AUDOTICS_HOME=str(tmp_path), RECO_TRAIN_EPOCHS="1")
    log_path = tmp_path / "worker.log"

    def start_worker():
        # prefork with one child: SIGKILL of the child is a lost worker the parent sees, and
        # acks_late + reject_on_worker_lost put the task back on the queue.
        with open(log_path, "a") as log:  # the worker keeps its own descriptor
            return subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "audotics", "worker", "--pool=prefork",
                 "--concurrency=1", "-Q", queue, "--loglevel=INFO", "--without-gossip",
                 "--without-mingle", "--without-heartbeat"],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)

    worker = start_worker()
    try:
        result = tasks.model_train.apply_async(kwargs={"epochs": 40}, queue=queue)
        deadline = time.monotonic() + 90
        # Training has started once the new version row exists.
        while not ModelVersion.objects.exclude(pk=active.pk).exists():
            assert time.monotonic() < deadline, log_path.read_text()[-3000:]
            assert worker.poll() is None, log_path.read_text()[-3000:]
            time.sleep(0.1)
        children = subprocess.run(["pgrep", "-P", str(worker.pid)], capture_output=True,
                                  text=True).stdout.split()
        assert children, "no pool process"
        for child in children:
            os.kill(int(child), signal.SIGKILL)
        # The parent notices the lost child; the active model is untouched.
        deadline = time.monotonic() + 30
        while "WorkerLostError" not in log_path.read_text() and "SIGKILL" not in (
                log_path.read_text()):
            assert time.monotonic() < deadline, log_path.read_text()[-3000:]
            time.sleep(0.2)
        active.refresh_from_db()
        assert active.is_active
        assert ModelVersion.objects.filter(is_active=True).count() == 1
        assert {p: p.read_bytes() for p in sorted(artifact.rglob("*")) if p.is_file()} == before
        # Requeued (reject_on_worker_lost): the new pool child receives it again.
        deadline = time.monotonic() + 60
        while log_path.read_text().count(f"Task recommendations.model_train[{result.id}] "
                                         "received") < 2:
            assert time.monotonic() < deadline, log_path.read_text()[-4000:]
            time.sleep(0.2)
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
