"""Reliability tests run real servers on PostgreSQL and Redis; skipped only without both."""
import pytest
from django.conf import settings
from django.db import connection

from tests.collaboration.live import database_url


@pytest.fixture
def services_db_url():
    """DATABASE_URL of the pytest-django test database (servers see committed rows)."""
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL")
    if connection.vendor != "postgresql":
        pytest.skip("needs a PostgreSQL DATABASE_URL")
    return database_url(connection.settings_dict)
