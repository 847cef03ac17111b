"""The hourly batch as chunk tasks: a run, its chunks, its progress; idempotent chunks."""
import pytest

from recommendations.models import BatchChunk, BatchRun
from recommendations.services import batch
from tests.factories import InteractionFactory, UserFactory
from tests.recommendations.conftest import install_embedding_model, make_catalog
from tests.recommendations.test_training import _cache_keys, make_listeners

# Chunks run in this process, as without Redis (two real workers: test_celery.py).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager_celery")]


def _lists_of(user_id) -> list[str]:
    """The user's cached list keys (Redis or local memory)."""
    return [k for k in _cache_keys() if k.startswith(f"reco:u:{user_id}:")]


def test_a_run_splits_users_into_chunks_and_counts_its_progress(
        django_capture_on_commit_callbacks):
    tracks = make_catalog(per_genre=5)
    users = make_listeners(tracks, n_users=7, per_user=5)
    newcomer = UserFactory()  # active, unknown to the model: the per-user path in its chunk
    InteractionFactory(user=newcomer, track=tracks[0], type="play")
    install_embedding_model(tracks, users)
    with django_capture_on_commit_callbacks(execute=True):
        run = batch.batch_run_start(chunk=3)
    run.refresh_from_db()
    assert (run.users_total, run.chunks_total) == (8, 3)
    assert run.finished_at is not None and run.model_version
    assert (run.chunks_done, run.users_done) == (3, 8)
    chunks = list(BatchChunk.objects.filter(run=run))
    assert [c.index for c in chunks] == [0, 1, 2] and sum(c.users for c in chunks) == 8
    for user in [*users, newcomer]:
        assert _lists_of(user.pk), f"no list for {user.username}"


def test_a_chunk_that_runs_twice_is_recorded_once():
    tracks = make_catalog(per_genre=5)
    users = make_listeners(tracks, n_users=3, per_user=5)
    install_embedding_model(tracks, users)
    run = BatchRun.objects.create(users_total=3, chunks_total=1)
    ids = [str(u.pk) for u in users]
    for _ in range(2):  # a redelivered or retried task
        assert batch.batch_chunk_run(run_id=run.pk, index=0, user_ids=ids, limit=10,
                                     worker="w1") == 3
    chunk = BatchChunk.objects.get(run=run)
    assert chunk.attempts == 2 and chunk.users == 3
    run.refresh_from_db()
    assert (run.chunks_done, run.users_done) == (1, 3)


def test_an_empty_run_finishes_at_once(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run = batch.batch_run_start()
    run.refresh_from_db()
    assert run.chunks_total == 0 and run.finished_at is not None
