"""Shared fixtures; the header says which database and channel layer the run uses."""

import os

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from tests.factories import UserFactory


def pytest_report_header(config):
    db = settings.DATABASES["default"]
    vendor = db["ENGINE"].rsplit(".", 1)[-1]
    redis = settings.REDIS_URL or "none (in-memory layer, local-memory cache, eager Celery)"
    return [f"audotics: database vendor={vendor} name={db['NAME']}", f"audotics: redis={redis}"]


@pytest.fixture(scope="session", autouse=True)
def _required_services(django_db_setup, django_db_blocker):
    """In CI the suite must run on PostgreSQL and Redis: fail loudly, never fall back."""
    if os.environ.get("AUDOTICS_REQUIRE_SERVICES") != "1":
        return
    from django.core.cache import cache
    from django.db import connection

    with django_db_blocker.unblock():
        assert connection.vendor == "postgresql", (
            f"AUDOTICS_REQUIRE_SERVICES=1 but the database is {connection.vendor}: set DATABASE_URL"
        )
        connection.ensure_connection()
    assert settings.REDIS_URL, "AUDOTICS_REQUIRE_SERVICES=1 but REDIS_URL is not set"
    cache.set("audotics-ci-probe", "1", 5)
    assert cache.get("audotics-ci-probe") == "1", "Redis did not answer"


@pytest.fixture(scope="session", autouse=True)
def _database_pools_closed(django_db_setup):
    """Close the PostgreSQL connection pools (settings: DB_POOL_MAX) before the test database
    is dropped: a pooled connection left open would keep it from being destroyed."""
    yield
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        if getattr(connection, "pool", None) is not None:
            connection.close_pool()


@pytest.fixture(scope="session", autouse=True)
def _collected_static():
    """Production storage serves hashed files from STATIC_ROOT: collect once, as deploys do."""
    from django.contrib.staticfiles.storage import ManifestFilesMixin
    from django.core.management import call_command
    from django.utils.module_loading import import_string

    backend = import_string(settings.STORAGES["staticfiles"]["BACKEND"])
    if issubclass(backend, ManifestFilesMixin):
        call_command("collectstatic", "--noinput", verbosity=0)


@pytest.fixture(autouse=True)
def _clear_cache():
    """Rate-limit counters and cached results must not leak from one test into the next."""
    from django.core.cache import cache

    if hasattr(cache, "delete_pattern"):
        cache.delete_pattern("*")
    else:
        cache.clear()
    # ... nor this process's copies of shared data.
    from playlists import rendering
    from recommendations.services import fallback

    fallback.pools_forget()
    rendering.fragments_forget()
    yield


@pytest.fixture(autouse=True)
def _fast_hashers(request, settings):
    """Argon2 costs ~50 ms a hash; tests that are not about hashing use MD5 instead.

    Not for `services` tests: their users sign in to server processes that run the project's
    own hashers, which (rightly) cannot verify an MD5 hash.
    """
    if request.node.get_closest_marker("services") is None:
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _staff_two_factor_relaxed(settings):
    """Production requires 2FA of staff before staff pages open; the tests of those pages are
    about other things. tests/users/test_admin_sign_in.py turns the rule on and tests it."""
    settings.STAFF_REQUIRE_TWO_FACTOR = False


@pytest.fixture(autouse=True)
def _one_reranking_head(settings):
    """Models trained through the service learn one head, not three: a third of the training
    time for tests about other things. tests/mlcore trains and serves several."""
    settings.RECO_TRAIN_HEADS = 1


@pytest.fixture
def eager_celery():
    """Tasks run in this process, as without Redis (real workers: tests/recommendations/
    test_celery.py)."""
    from audotics.celery import app

    before = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = before


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def logged_in_api_client(user):
    client = APIClient()
    client.force_authenticate(user=user)
    client.user = user
    return client


@pytest.fixture
def datasets_dir():
    path = settings.AUDOTICS_DATASETS
    if not path.is_dir():
        pytest.skip(f"datasets not found at {path}: set AUDOTICS_DATASETS")
    return path
