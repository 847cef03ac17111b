"""The indexes behind catalog search, one per database, over `Track.search_text`.

PostgreSQL: a pg_trgm GIN index, which serves `LIKE '%word%'`; and the catalog's vocabulary
(`playlists_search_word`: every word of four letters or more of a title, artist or album, kept
by statement-level triggers) with a trigram index of its own, where a mistyped word finds its
correction in a millisecond — instead of trigram similarity over a million search texts, each
read from a wide table row to be checked. Words of deleted tracks stay: a correction to a word
no track has any more simply finds nothing.
SQLite (the embedded default): an FTS5 table with the trigram tokenizer (SQLite >= 3.34), kept
in step with the tracks by triggers. FTS5 rows are numbered by an integer of their own in
`playlists_track_fts_key`, because the tracks' implicit rowids may change when SQLite vacuums.
Django's SQLite schema editor rebuilds a table to alter it, which drops its triggers: after
every `migrate` (`post_migrate`) the triggers are put back and the FTS table refilled if they
were gone, so a later migration of Track cannot leave search silently stale.

A big import builds the index once at the end instead of row by row (a bulk GIN build is several
times cheaper than a million incremental inserts; FTS5 likewise).
"""
from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connection, connections

TRIGRAM_INDEXES = {"track_search_trgm_idx": "search_text"}
# Where search lived before migration 0010: dropped by it.
OLD_TRIGRAM_INDEXES = ("track_title_trgm_idx", "track_artist_trgm_idx")

WORDS_TABLE = "playlists_search_word"
# The words of the search texts of the rows in `source` (the trigger's transition table).
_WORDS_OF = """
    SELECT DISTINCT word FROM {source}, regexp_split_to_table(search_text, '[^[:alnum:]]+') word
    WHERE length(word) BETWEEN 4 AND 40"""
_WORDS_TRIGGERS = ("playlists_search_word_insert", "playlists_search_word_update")

FTS_TABLE = "playlists_track_fts"
FTS_KEYS = "playlists_track_fts_key"
_TRIGGERS = {
    "playlists_track_fts_insert": f"""
        AFTER INSERT ON playlists_track BEGIN
          INSERT INTO {FTS_KEYS} (track_id) VALUES (new.id);
          INSERT INTO {FTS_TABLE} (rowid, search_text)
          VALUES (last_insert_rowid(), new.search_text);
        END""",
    "playlists_track_fts_delete": f"""
        AFTER DELETE ON playlists_track BEGIN
          DELETE FROM {FTS_TABLE} WHERE rowid = (SELECT id FROM {FTS_KEYS} WHERE track_id = old.id);
          DELETE FROM {FTS_KEYS} WHERE track_id = old.id;
        END""",
    "playlists_track_fts_update": f"""
        AFTER UPDATE OF title, artist, album ON playlists_track BEGIN
          UPDATE {FTS_TABLE} SET search_text = new.search_text
          WHERE rowid = (SELECT id FROM {FTS_KEYS} WHERE track_id = old.id);
        END""",
}
# The trigram tokenizer arrived in SQLite 3.34.0.
FTS_MIN_SQLITE = (3, 34, 0)


# ---------------------------------------------------------------------------- PostgreSQL


def trigram_indexes_create() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '256MB'")
        for name, column in TRIGRAM_INDEXES.items():
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS {name} ON playlists_track "
                f"USING gin ({column} gin_trgm_ops)"
            )
        cursor.execute("RESET maintenance_work_mem")


def pg_words_install(cursor) -> None:
    """Create the vocabulary, its index and its triggers, and fill it from every track."""
    cursor.execute(f"CREATE TABLE IF NOT EXISTS {WORDS_TABLE} (word text PRIMARY KEY)")
    cursor.execute(f"CREATE INDEX IF NOT EXISTS {WORDS_TABLE}_trgm_idx ON {WORDS_TABLE} "
                   "USING gin (word gin_trgm_ops)")
    cursor.execute(f"""
        CREATE OR REPLACE FUNCTION {WORDS_TABLE}_add() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          INSERT INTO {WORDS_TABLE} (word) {_WORDS_OF.format(source="new_rows")}
          ON CONFLICT DO NOTHING;
          RETURN NULL;
        END $$""")
    for name, event in zip(_WORDS_TRIGGERS, ("INSERT", "UPDATE"), strict=True):
        cursor.execute(f"DROP TRIGGER IF EXISTS {name} ON playlists_track")
        cursor.execute(f"CREATE TRIGGER {name} AFTER {event} ON playlists_track "
                       "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
                       f"EXECUTE FUNCTION {WORDS_TABLE}_add()")
    cursor.execute(f"INSERT INTO {WORDS_TABLE} (word) "
                   f"{_WORDS_OF.format(source='playlists_track')} ON CONFLICT DO NOTHING")


def pg_words_uninstall(cursor) -> None:
    for name in _WORDS_TRIGGERS:
        cursor.execute(f"DROP TRIGGER IF EXISTS {name} ON playlists_track")
    cursor.execute(f"DROP FUNCTION IF EXISTS {WORDS_TABLE}_add()")
    cursor.execute(f"DROP TABLE IF EXISTS {WORDS_TABLE}")


# ---------------------------------------------------------------------------- SQLite FTS5


def sqlite_fts_supported() -> bool:
    """Whether this SQLite has FTS5 and its trigram tokenizer."""
    if sqlite3.sqlite_version_info < FTS_MIN_SQLITE:
        return False
    try:
        probe = sqlite3.connect(":memory:")
        probe.execute("CREATE VIRTUAL TABLE probe USING fts5(x, tokenize='trigram')")
        probe.close()
    except sqlite3.DatabaseError:
        return False
    return True


def _sqlite_names(cursor, kind: str) -> set[str]:
    cursor.execute("SELECT name FROM sqlite_master WHERE type = %s", [kind])
    return {row[0] for row in cursor.fetchall()}


def sqlite_fts_ready() -> bool:
    """Whether the FTS5 table exists and is kept in step (every trigger in place)."""
    if connection.vendor != "sqlite":
        return False
    with connection.cursor() as cursor:
        return (FTS_TABLE in _sqlite_names(cursor, "table")
                and set(_TRIGGERS) <= _sqlite_names(cursor, "trigger"))


def sqlite_fts_refill(cursor) -> None:
    """Index every track again, from scratch."""
    cursor.execute(f"DELETE FROM {FTS_TABLE}")
    cursor.execute(f"DELETE FROM {FTS_KEYS}")
    cursor.execute(f"INSERT INTO {FTS_KEYS} (track_id) SELECT id FROM playlists_track")
    cursor.execute(
        f"INSERT INTO {FTS_TABLE} (rowid, search_text) SELECT k.id, t.search_text "
        f"FROM {FTS_KEYS} k JOIN playlists_track t ON t.id = k.track_id")


def sqlite_fts_install(cursor) -> bool:
    """Create the FTS5 table and its triggers where missing; refill it when any trigger was
    missing (writes may have gone unindexed). False when this SQLite cannot have it."""
    if not sqlite_fts_supported():
        return False
    tables = _sqlite_names(cursor, "table")
    if "playlists_track" not in tables:
        return False
    cursor.execute(f"CREATE TABLE IF NOT EXISTS {FTS_KEYS} "
                   "(id INTEGER PRIMARY KEY, track_id char(32) NOT NULL UNIQUE)")
    cursor.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} "
                   "USING fts5(search_text, tokenize = 'trigram')")
    missing = set(_TRIGGERS) - _sqlite_names(cursor, "trigger")
    for name in missing:
        cursor.execute(f"CREATE TRIGGER {name} {_TRIGGERS[name]}")
    if missing:
        sqlite_fts_refill(cursor)
    return True


def sqlite_fts_uninstall(cursor) -> None:
    for name in _TRIGGERS:
        cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
    cursor.execute(f"DROP TABLE IF EXISTS {FTS_TABLE}")
    cursor.execute(f"DROP TABLE IF EXISTS {FTS_KEYS}")


def search_index_ensure(using: str = DEFAULT_DB_ALIAS, **kwargs) -> None:
    """post_migrate: the SQLite search table and triggers exist and are complete."""
    db = connections[using]
    if db.vendor == "sqlite":
        with db.cursor() as cursor:
            sqlite_fts_install(cursor)


# ---------------------------------------------------------------------------- bulk loads


@contextmanager
def trigram_indexes_deferred(enabled: bool) -> Iterator[None]:
    """Drop the search index for the duration of a bulk load and build it again afterwards.

    It is rebuilt even when the load fails half-way, so search never stays unindexed.
    """
    if not enabled or connection.vendor not in ("postgresql", "sqlite"):
        yield
        return
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            if not sqlite_fts_install(cursor):
                yield
                return
            for name in _TRIGGERS:
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                sqlite_fts_install(cursor)  # the triggers were missing: refills the table
        return
    with connection.cursor() as cursor:
        for name in TRIGRAM_INDEXES:
            cursor.execute(f"DROP INDEX IF EXISTS {name}")
    try:
        yield
    finally:
        trigram_indexes_create()
