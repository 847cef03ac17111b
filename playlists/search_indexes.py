"""The trigram GIN indexes behind catalog search (created by migration playlists.0003).

A big import into PostgreSQL builds them once at the end instead of updating them row by row:
building a GIN index in bulk is several times cheaper than a million incremental inserts.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection

TRIGRAM_INDEXES = {"track_title_trgm_idx": "title", "track_artist_trgm_idx": "artist"}


def trigram_indexes_create() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '256MB'")
        for name, column in TRIGRAM_INDEXES.items():
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS {name} ON playlists_track "
                f"USING gin ({column} gin_trgm_ops)"
            )
        cursor.execute("RESET maintenance_work_mem")


@contextmanager
def trigram_indexes_deferred(enabled: bool) -> Iterator[None]:
    """Drop the search indexes for the duration of a bulk load and rebuild them afterwards.

    They are rebuilt even when the load fails half-way, so search never stays unindexed.
    """
    if not enabled or connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        for name in TRIGRAM_INDEXES:
            cursor.execute(f"DROP INDEX IF EXISTS {name}")
    try:
        yield
    finally:
        trigram_indexes_create()
