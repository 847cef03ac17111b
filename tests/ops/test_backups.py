"""Backups: restore drill, refusal of corrupt or un-decryptable backups, retention, task."""

import hashlib
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from ops.services import backups
from tests.factories import (
    CollaboratorFactory,
    InteractionFactory,
    PlaylistFactory,
    PlaylistTrackFactory,
    TrackFactory,
    UserFactory,
)
from users import crypto

# Tables the drill must fill: every main table of the product.
MAIN_TABLES = [
    "users_user",
    "users_totpdevice",
    "playlists_track",
    "playlists_playlist",
    "playlists_playlisttrack",
    "playlists_collaborator",
    "recommendations_interaction",
]


def _tables() -> list[str]:
    with connection.cursor() as cursor:
        return sorted(connection.introspection.table_names(cursor))


def _table_fingerprints() -> dict[str, tuple[int, str]]:
    """(row count, checksum of every row ordered by primary key) per table."""
    result: dict[str, tuple[int, str]] = {}
    with connection.cursor() as cursor:
        for table in _tables():
            quoted = connection.ops.quote_name(table)
            pk = connection.introspection.get_primary_key_column(cursor, table)
            order = connection.ops.quote_name(pk) if pk else "1"
            cursor.execute(f"SELECT COUNT(*) FROM {quoted}")
            count = cursor.fetchone()[0]
            if connection.vendor == "postgresql":
                cursor.execute(
                    f"SELECT md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t.{order}), '')) "
                    f"FROM {quoted} t"
                )
                digest = cursor.fetchone()[0]
            else:
                cursor.execute(f"SELECT * FROM {quoted} ORDER BY {order}")
                digest = hashlib.md5(
                    "\n".join(repr(row) for row in cursor.fetchall()).encode()
                ).hexdigest()
            result[table] = (count, digest)
    return result


def _fill_every_main_table():
    from users.models import TOTPDevice

    owner = UserFactory(username="drill-owner", email="owner@drill.example")
    friend = UserFactory(username="drill-friend", email="friend@drill.example")
    TOTPDevice.objects.create(user=owner, name="phone", key="3132" * 10, confirmed=True)
    tracks = TrackFactory.create_batch(5)
    playlist = PlaylistFactory(owner=owner, is_collaborative=True)
    for position, track in enumerate(tracks[:3]):
        PlaylistTrackFactory(playlist=playlist, track=track, position=position, added_by=owner)
    CollaboratorFactory(playlist=playlist, user=friend)
    for track in tracks:
        InteractionFactory(user=friend, track=track)
    return owner


def _wipe():
    """Empty every table, as a lost or wrecked database would be."""
    tables = _tables()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "TRUNCATE " + ", ".join(connection.ops.quote_name(t) for t in tables) + " CASCADE"
            )
        else:
            cursor.execute("PRAGMA foreign_keys = OFF")
            for table in tables:
                cursor.execute(f"DELETE FROM {connection.ops.quote_name(table)}")
            cursor.execute("PRAGMA foreign_keys = ON")


@pytest.mark.django_db(transaction=True)
def test_restore_drill_brings_back_every_row_and_decrypts(tmp_path):
    """Backup, wipe, restore: identical counts and checksums; encrypted fields decrypt.

    Runs on PostgreSQL (pg_dump/pg_restore, what CI uses) and on SQLite (backup API).
    """
    from users.models import TOTPDevice, User

    owner = _fill_every_main_table()
    before = _table_fingerprints()
    for table in MAIN_TABLES:
        assert before[table][0] > 0, f"{table} is empty: the drill would prove nothing"

    out = io.StringIO()
    call_command("backup_db", "--dir", str(tmp_path), stdout=out)
    (dump,) = backups.backup_list(tmp_path)
    manifest = json.loads(backups.manifest_path(dump).read_text())
    assert manifest["encryption_key_ids"] == [crypto.keyring().newest_kid]
    assert manifest["tables"]["users_user"] == before["users_user"][0]
    assert manifest["vendor"] == connection.vendor
    assert "Backup complete" in out.getvalue()

    _wipe()
    assert _table_fingerprints()["users_user"][0] == 0

    call_command("restore_db", str(dump), "--yes", stdout=io.StringIO())

    after = _table_fingerprints()
    assert after == before
    restored = User.objects.get(pk=owner.pk)
    assert restored.email == "owner@drill.example"
    assert TOTPDevice.objects.get(user=restored).key == "3132" * 10


def _fake_backup(directory, *, key_ids=("k1",), vendor=None, stamp="20261126T161500Z"):
    """A backup file with consistent sidecars, without dumping anything."""
    directory.mkdir(parents=True, exist_ok=True)
    suffix = ".dump" if (vendor or connection.vendor) == "postgresql" else ".sqlite3"
    path = directory / f"audotics-{stamp}{suffix}"
    path.write_bytes(b"not really a database " * 10)
    digest = backups.sha256_file(path)
    backups.checksum_path(path).write_text(f"{digest}  {path.name}\n")
    backups.manifest_path(path).write_text(
        json.dumps(
            {
                "format": 1,
                "file": path.name,
                "created_at": "2026-11-26T16:15:00Z",
                "vendor": vendor or connection.vendor,
                "database": "x",
                "size": path.stat().st_size,
                "sha256": digest,
                "tables": {"users_user": 1},
                "encryption_key_ids": list(key_ids),
            }
        )
    )
    return path


@pytest.mark.django_db
def test_restore_refuses_checksum_mismatch(tmp_path):
    path = _fake_backup(tmp_path, key_ids=[])
    data = bytearray(path.read_bytes())
    data[3] ^= 0xFF  # one flipped byte
    path.write_bytes(bytes(data))
    with pytest.raises(backups.BackupError, match="Checksum mismatch"):
        backups.backup_verify(path=path)
    with pytest.raises(CommandError, match="Checksum mismatch"):
        call_command("restore_db", str(path), "--yes", stdout=io.StringIO())


@pytest.mark.django_db
def test_restore_refuses_missing_checksum_file(tmp_path):
    path = _fake_backup(tmp_path, key_ids=[])
    backups.checksum_path(path).unlink()
    with pytest.raises(CommandError, match="sha256 is missing"):
        call_command("restore_db", str(path), "--yes", stdout=io.StringIO())


@pytest.mark.django_db
def test_restore_refuses_backup_needing_a_removed_key(tmp_path, settings):
    settings.FIELD_ENCRYPTION_KEYS = crypto.generate_key_spec("k9")
    path = _fake_backup(tmp_path, key_ids=["k9", "k-retired"])
    with pytest.raises(CommandError) as excinfo:
        call_command("restore_db", str(path), "--yes", stdout=io.StringIO())
    message = str(excinfo.value)
    assert "'k-retired'" in message and "'k9'" not in message
    assert "FIELD_ENCRYPTION_KEYS" in message


@pytest.mark.django_db
def test_restore_refuses_another_vendors_backup(tmp_path):
    other = "sqlite" if connection.vendor == "postgresql" else "postgresql"
    path = _fake_backup(tmp_path, key_ids=[], vendor=other)
    with pytest.raises(CommandError, match="backup; the configured database is"):
        call_command("restore_db", str(path), "--yes", stdout=io.StringIO())


@pytest.mark.django_db
def test_restore_without_yes_refuses_when_not_a_terminal(tmp_path, monkeypatch):
    path = _fake_backup(tmp_path, key_ids=[])
    monkeypatch.setattr("sys.stdin", io.StringIO("yes\n"))
    with pytest.raises(CommandError, match="without --yes"):
        call_command("restore_db", str(path), stdout=io.StringIO())


def test_retention_keeps_last_n_and_one_per_day():
    now = datetime(2026, 11, 26, 16, 30, tzinfo=UTC)
    # Every 6 hours for 30 days, newest first: 00:30, 06:30, 12:30, 18:30 each day.
    start = datetime(2026, 10, 28, 0, 30, tzinfo=UTC)
    stamps = [
        start + timedelta(hours=6 * i)
        for i in range(4 * 30)
        if start + timedelta(hours=6 * i) <= now
    ]
    keep = backups.retention_keep(stamps, keep_last=8, keep_daily_days=14, now=now)

    newest_eight = sorted(stamps, reverse=True)[:8]
    assert set(newest_eight) <= keep
    daily = {s for s in keep if s not in newest_eight}
    # One per day (its newest, 18:30) for the 14 days from Nov 13 to Nov 26, minus the days
    # already covered by the newest eight (Nov 24, 25, 26).
    assert sorted(s.date().day for s in daily) == list(range(13, 24))
    assert all(s.hour == 18 for s in daily)
    assert len(keep) == 8 + 11
    # Nothing older than the daily window survives.
    assert min(keep).date() == datetime(2026, 11, 13).date()


def test_retention_with_zero_daily_days_keeps_only_last_n():
    now = datetime(2026, 11, 26, tzinfo=UTC)
    stamps = [now - timedelta(hours=h) for h in range(0, 100, 6)]
    keep = backups.retention_keep(stamps, keep_last=3, keep_daily_days=0, now=now)
    assert keep == set(sorted(stamps, reverse=True)[:3])


def test_prune_deletes_backups_and_sidecars(tmp_path):
    now = datetime(2026, 11, 26, 16, 30, tzinfo=UTC)
    paths = []
    for days_ago in range(5):
        stamp = (now - timedelta(days=days_ago)).strftime(backups.STAMP_FORMAT)
        paths.append(_fake_backup(tmp_path, key_ids=[], vendor="sqlite", stamp=stamp))
    (tmp_path / "unrelated.txt").write_text("keep me")
    removed = backups.backups_prune(directory=tmp_path, keep_last=2, keep_daily_days=3, now=now)
    assert removed == paths[3:]
    for path in paths[3:]:
        assert not path.exists()
        assert not backups.checksum_path(path).exists()
        assert not backups.manifest_path(path).exists()
    for path in paths[:3]:
        assert path.exists() and backups.manifest_path(path).exists()
    assert (tmp_path / "unrelated.txt").exists()


@pytest.mark.django_db(transaction=True)
def test_backup_task_writes_a_verified_backup(tmp_path, settings):
    from ops.tasks import backup_db

    settings.BACKUP_DIR = tmp_path / "backups"
    UserFactory(username="task-user")
    result = backup_db.apply().get()
    (path,) = backups.backup_list(settings.BACKUP_DIR)
    assert result["path"] == str(path)
    assert backups.backup_verify(path=path)["sha256"] == result["sha256"]
    assert (path.stat().st_mode & 0o077) == 0  # owner-only


def test_backups_are_scheduled_every_six_hours():
    entry = settings.CELERY_BEAT_SCHEDULE["ops-backup-db"]
    assert entry["task"] == "ops.backup_db"
    assert entry["schedule"].hour == {0, 6, 12, 18}
    assert entry["schedule"].minute == {30}
