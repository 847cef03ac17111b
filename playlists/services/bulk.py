"""Fast insertion of many new tracks: COPY on PostgreSQL, bulk_create elsewhere."""

import json
import uuid
from collections.abc import Iterable
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from ..matching import match_key
from ..models import Track

_COLUMNS = [
    "id",
    "external_id",
    "title",
    "artist",
    "album",
    "duration_ms",
    "genre",
    "features",
    "metadata",
    "match_key",
    "created_at",
    "updated_at",
]


@transaction.atomic
def tracks_bulk_insert(rows: Iterable[dict[str, Any]]) -> int:
    """Insert new tracks (dicts of Track fields, `external_id` required); returns the count.

    The caller guarantees the external ids are new. COPY is several times faster than
    multi-row INSERT for the million-track imports the service level asks for.
    """
    now = timezone.now()
    if connection.vendor != "postgresql":
        tracks = [Track(**row, created_at=now, updated_at=now,
                        match_key=match_key(row["artist"], row["title"])) for row in rows]
        Track.objects.bulk_create(tracks, batch_size=2000)
        return len(tracks)
    count = 0
    raw = connection.connection  # the psycopg connection inside Django's transaction
    copy_sql = f"COPY playlists_track ({', '.join(_COLUMNS)}) FROM STDIN"
    with raw.cursor() as cursor, cursor.copy(copy_sql) as copy:
        for row in rows:
            copy.write_row(
                (
                    row.get("id") or uuid.uuid4(),
                    row["external_id"],
                    row["title"],
                    row["artist"],
                    row.get("album", ""),
                    row.get("duration_ms"),
                    row.get("genre", ""),
                    json.dumps(row.get("features") or {}),
                    json.dumps(row.get("metadata") or {}),
                    match_key(row["artist"], row["title"]),
                    now,
                    now,
                )
            )
            count += 1
    return count


def tables_analyze(*models: Any) -> None:
    """Refresh the query planner's statistics of the given models' tables after a bulk load.

    Until then PostgreSQL plans with the table as it was (a million tracks planned as a few
    thousand: generating a playlist bitmap-scanned 750,000 rows for 80 ids, 0.9 s instead of
    milliseconds), and autovacuum, where it is on, gets there only a minute or more later.
    """
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
