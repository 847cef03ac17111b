import csv
import gzip
import json

import pytest
from django.core.management import call_command
from django.db import connection  # noqa: F401 - used by skipif strings

from playlists.models import Track
from playlists.services import catalog

pytestmark = pytest.mark.django_db

HEADER = (
    "track_id,track_name,track_artist,track_popularity,track_album_id,track_album_name,"
    "track_album_release_date,playlist_name,playlist_id,playlist_genre,playlist_subgenre,"
    "danceability,energy,key,loudness,mode,speechiness,acousticness,instrumentalness,liveness,"
    "valence,tempo,duration_ms"
)


def _row(
    track_id,
    name="Song",
    artist="Band",
    genre="pop",
    playlist="p1",
    energy="0.8",
    tempo="120.5",
    key="5",
):
    return (
        f"{track_id},{name},{artist},55,alb1,Album,2019-06-14,Mix {playlist},{playlist},"
        f"{genre},dance {genre},0.7,{energy},{key},-5.2,1,0.05,0.1,0,0.1,0.5,{tempo},200000"
    )


def _write(path, rows, gz=False):
    text = "\n".join([HEADER, *rows]) + "\n"
    if gz:
        with gzip.open(path, "wt", encoding="utf-8") as handle:
            handle.write(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_import_merges_repeated_rows_into_one_track_with_all_memberships(tmp_path):
    path = _write(
        tmp_path / "songs.csv",
        [
            _row("t1", genre="pop", playlist="p1"),
            _row("t2", name="Other", genre="rock", playlist="p1"),
            _row("t1", genre="edm", playlist="p2"),
        ],
    )
    result = catalog.tracks_import(path=path)
    assert (result.created, result.updated, result.skipped) == (2, 0, 0)
    track = Track.objects.get(external_id="t1")
    assert track.genre == "pop"
    assert track.metadata["genres"] == ["pop", "edm"]
    assert [p["id"] for p in track.metadata["playlists"]] == ["p1", "p2"]
    assert track.features["energy"] == 0.8 and track.features["key"] == 5
    assert track.metadata["release_year"] == 2019 and track.metadata["popularity"] == 55


def test_import_splits_across_batches_without_double_counting(tmp_path):
    path = _write(
        tmp_path / "songs.csv",
        [
            _row("t1", playlist="p1"),
            _row("t2"),
            _row("t1", genre="rock", playlist="p2"),
        ],
    )
    result = catalog.tracks_import(path=path, batch_size=1)
    assert (result.created, result.updated) == (2, 0)
    assert Track.objects.get(external_id="t1").metadata["genres"] == ["pop", "rock"]


def test_import_is_idempotent_and_updates_changed_rows(tmp_path):
    path = _write(tmp_path / "songs.csv", [_row("t1"), _row("t2", name="B")])
    catalog.tracks_import(path=path)
    again = catalog.tracks_import(path=path)
    assert (again.created, again.updated) == (0, 0)
    _write(path, [_row("t1", energy="0.3"), _row("t2", name="B")])
    changed = catalog.tracks_import(path=path)
    assert (changed.created, changed.updated) == (0, 1)
    assert Track.objects.get(external_id="t1").features["energy"] == 0.3
    assert Track.objects.count() == 2


def test_import_reports_bad_rows_by_line_and_keeps_good_ones(tmp_path):
    path = _write(
        tmp_path / "songs.csv.gz",
        [
            _row("good1"),  # line 2
            _row("bad1", name="NA"),  # line 3: missing title
            _row("bad2", energy="1.5"),  # line 4: out of range
            _row("bad3", tempo="fast"),  # line 5: not a number
            _row("bad4") + ",extra",  # line 6: too many cells
            _row("bad5", key="2.5"),  # line 7: key not whole
            _row("good2"),  # line 8
        ],
        gz=True,
    )
    result = catalog.tracks_import(path=path)
    assert result.created == 2 and result.skipped == 5
    reasons = {r.line: r.reason for r in result.rejected}
    assert reasons[3] == "missing title"
    assert reasons[4].startswith("energy out of range")
    assert reasons[5].startswith("tempo is not a number")
    assert reasons[6] == "more columns than the header"
    assert reasons[7].startswith("key must be a whole number")
    assert set(Track.objects.values_list("external_id", flat=True)) == {"good1", "good2"}


def test_import_jsonl_with_nested_features(tmp_path):
    path = tmp_path / "tracks.jsonl"
    lines = [
        {
            "external_id": "j1",
            "title": "Night",
            "artist": "Owl",
            "genre": "Jazz",
            "features": {"energy": 0.2, "tempo": 90},
            "metadata": {"explicit": False},
        },
        "not json",
        {"external_id": "j2", "artist": "No Title"},
        [1, 2],
    ]
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines))
    result = catalog.tracks_import(path=path)
    assert result.created == 1
    assert {r.line: r.reason for r in result.rejected} == {
        2: "invalid JSON: Expecting value",
        3: "missing title",
        4: "not a JSON object",
    }
    track = Track.objects.get(external_id="j1")
    assert track.genre == "jazz" and track.features == {"energy": 0.2, "tempo": 90.0}


def test_import_command_prints_rejects_and_summary(tmp_path, capsys):
    path = _write(tmp_path / "songs.csv", [_row("a"), _row("b", energy="-1")])
    call_command("import_tracks", str(path), "--batch-size", "10")
    out, err = capsys.readouterr()
    assert "songs.csv:3: skipped: energy out of range" in err
    assert "created 1, updated 0, skipped 1 in" in out


def test_import_real_spotify_catalog(datasets_dir):
    path = datasets_dir / "spotify-30k-songs" / "spotify_songs.csv.gz"
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    valid = {r["track_id"] for r in rows if r["track_name"] != "NA" and r["track_artist"] != "NA"}
    genres_of = {}
    for r in rows:
        genres_of.setdefault(r["track_id"], set()).add(r["playlist_genre"])

    first = catalog.tracks_import(path=path)
    assert first.created == len(valid) == Track.objects.count()
    assert first.skipped == len(rows) - sum(1 for r in rows if r["track_id"] in valid)
    multi = next(t for t, g in genres_of.items() if len(g) > 1 and t in valid)
    track = Track.objects.get(external_id=multi)
    assert set(track.metadata["genres"]) == genres_of[multi]
    assert set(track.features) >= {"danceability", "energy", "valence", "tempo", "key", "mode"}

    second = catalog.tracks_import(path=path)
    assert (second.created, second.updated) == (0, 0)


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_big_import_rebuilds_search_indexes_even_after_a_failure(tmp_path, monkeypatch):
    from playlists import search, search_indexes

    def index_names():
        with connection.cursor() as cursor:
            cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'playlists_track'")
            return {row[0] for row in cursor.fetchall()}

    monkeypatch.setattr(catalog, "DEFER_INDEXES_ABOVE_BYTES", 0)
    path = _write(tmp_path / "songs.csv", [_row("t1"), _row("t2")])
    assert catalog.tracks_import(path=path).created == 2
    assert set(search_indexes.TRIGRAM_INDEXES) <= index_names()
    assert search.track_search(q=Track.objects.first().title).count() >= 1

    monkeypatch.setattr(catalog, "_write_batch", lambda *a: (_ for _ in ()).throw(RuntimeError))
    with pytest.raises(RuntimeError):
        catalog.tracks_import(path=path)
    assert set(search_indexes.TRIGRAM_INDEXES) <= index_names()


@pytest.mark.skipif("connection.vendor != 'sqlite'", reason="SQLite's FTS5 table")
def test_big_import_into_sqlite_indexes_once_at_the_end_even_after_a_failure(tmp_path,
                                                                            monkeypatch):
    from playlists import search, search_indexes

    monkeypatch.setattr(catalog, "DEFER_INDEXES_ABOVE_BYTES", 0)
    path = _write(tmp_path / "songs.csv", [_row("t1"), _row("t2")])
    assert catalog.tracks_import(path=path).created == 2
    assert search_indexes.sqlite_fts_ready()
    title = Track.objects.first().title
    assert search.track_search(q=title).count() >= 1

    monkeypatch.setattr(catalog, "_write_batch", lambda *a: (_ for _ in ()).throw(RuntimeError))
    with pytest.raises(RuntimeError):
        catalog.tracks_import(path=path)
    assert search_indexes.sqlite_fts_ready()


def test_import_command_caps_printed_rejects_and_points_to_the_full_list(tmp_path, capsys):
    path = _write(tmp_path / "songs.csv", [_row(f"bad{i}", energy="9") for i in range(52)])
    call_command("import_tracks", str(path))
    err = capsys.readouterr().err
    assert err.count("skipped: energy out of range") == catalog.SHOWN_REJECTS
    assert "... and 2 more rejected rows (use --rejects FILE to list them all)" in err


def _planner_row_count(table):
    """How many rows the database's query planner believes the table holds (None: unknown)."""
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [table])
            value = cur.fetchone()[0]
            return None if value < 0 else int(value)
        cur.execute("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")
        if not cur.fetchone()[0]:
            return None
        cur.execute("SELECT stat FROM sqlite_stat1 WHERE tbl = %s", [table])
        row = cur.fetchone()
        return int(row[0].split()[0]) if row else None


def test_import_leaves_the_planner_statistics_current(tmp_path):
    """A bulk load ends with ANALYZE: planning a million tracks as the empty table they were
    made a generate request scan 750,000 rows for 80 ids."""
    path = _write(tmp_path / "tracks.csv", [_row(f"st{i}") for i in range(300)])
    catalog.tracks_import(path=path)
    assert _planner_row_count(Track._meta.db_table) == Track.objects.count() == 300
