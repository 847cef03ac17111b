"""Database backups and restores: PostgreSQL via pg_dump/pg_restore, SQLite via its backup API.

A backup is three files in the backup directory, written atomically (`.partial`, then rename):

    audotics-20261126T161500Z.dump                 (PostgreSQL, pg_dump -Fc) or .sqlite3
    audotics-20261126T161500Z.dump.sha256          `sha256sum -c` compatible
    audotics-20261126T161500Z.dump.manifest.json   time, database, size, checksum, row counts,
                                                   encryption key ids the data needs

The dump is renamed into place last, so a dump file under its final name always has both
sidecars. Restores verify the checksum and that every encryption key id the data was encrypted
under is still configured: a restored row whose key is gone can never be decrypted again, which
is why old keys are kept in FIELD_ENCRYPTION_KEYS as long as backups that need them are kept.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db import connection, connections

PREFIX = "audotics-"
STAMP_FORMAT = "%Y%m%dT%H%M%SZ"
SUFFIXES = {"postgresql": ".dump", "sqlite": ".sqlite3"}
NAME_RE = re.compile(r"^audotics-(\d{8}T\d{6}Z)\.(dump|sqlite3)$")
MANIFEST_FORMAT = 1

Progress = Callable[[str], None]


class BackupError(Exception):
    """A backup or restore cannot proceed; the message says why and what to do."""


@dataclass
class BackupResult:
    path: Path
    sha256: str
    size: int
    manifest: dict
    removed: list[Path] = field(default_factory=list)


@dataclass
class RestoreResult:
    path: Path
    manifest: dict
    tables: dict[str, int]


def _noop(message: str) -> None:
    pass


# ---------------------------------------------------------------------------------------------
# Helpers shared by backup and restore
# ---------------------------------------------------------------------------------------------


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def checksum_path(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def manifest_path(path: Path) -> Path:
    return path.with_name(path.name + ".manifest.json")


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".partial")
    tmp.write_text(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def _vendor(alias: str = "default") -> str:
    vendor = connections[alias].vendor
    if vendor not in SUFFIXES:
        raise BackupError(f"Backups support PostgreSQL and SQLite, not {vendor}.")
    return vendor


def table_row_counts(alias: str = "default") -> dict[str, int]:
    """Rows per table of the live database, for the manifest and the restore summary."""
    conn = connections[alias]
    counts: dict[str, int] = {}
    with conn.cursor() as cursor:
        for table in sorted(conn.introspection.table_names(cursor)):
            cursor.execute(f"SELECT COUNT(*) FROM {conn.ops.quote_name(table)}")
            counts[table] = cursor.fetchone()[0]
    return counts


def encryption_key_ids_in_use(tables: Iterable[str] | None = None) -> list[str]:
    """Key ids referenced by stored ciphertext: the keys a restore of this data will need."""
    from users import crypto
    from users.fields import EncryptedTextField

    existing = set(tables if tables is not None else table_row_counts())
    kids: set[str] = set()
    for model in apps.get_models():
        fields = [
            f.attname for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)
        ]
        if not fields or model._meta.db_table not in existing:
            continue  # not migrated yet: no ciphertext there
        for row in model._default_manager.values_list(*fields).iterator():
            for value in row:
                if not value:
                    continue
                try:
                    kids.add(crypto.key_id(value))
                except crypto.DecryptionError:
                    continue  # not ciphertext at all: no key can help, nothing to require
    return sorted(kids)


def configured_key_ids() -> list[str]:
    from users import crypto

    return [kid for kid, _ in crypto.keyring().keys]


def _pg_args(settings_dict: dict) -> tuple[list[str], dict[str, str]]:
    """libpq connection flags and environment (password via PGPASSWORD, never argv)."""
    args: list[str] = []
    if settings_dict.get("HOST"):
        args += ["-h", str(settings_dict["HOST"])]
    if settings_dict.get("PORT"):
        args += ["-p", str(settings_dict["PORT"])]
    if settings_dict.get("USER"):
        args += ["-U", str(settings_dict["USER"])]
    env = dict(os.environ)
    if settings_dict.get("PASSWORD"):
        env["PGPASSWORD"] = str(settings_dict["PASSWORD"])
    sslmode = (settings_dict.get("OPTIONS") or {}).get("sslmode")
    if sslmode:
        env["PGSSLMODE"] = str(sslmode)
    return args, env


def _run(cmd: list[str], env: dict[str, str]) -> None:
    try:
        result = subprocess.run(cmd, env=env, capture_output=True, text=True)
    except FileNotFoundError as exc:
        raise BackupError(f"{cmd[0]} not found: install the PostgreSQL client tools.") from exc
    if result.returncode != 0:
        raise BackupError(f"{cmd[0]} failed ({result.returncode}): {result.stderr.strip()}")


def _sqlite_raw_connection(alias: str = "default") -> sqlite3.Connection:
    conn = connections[alias]
    conn.ensure_connection()
    return conn.connection


# ---------------------------------------------------------------------------------------------
# Backup
# ---------------------------------------------------------------------------------------------


def backup_create(
    *,
    directory: Path | None = None,
    now: datetime | None = None,
    prune: bool = True,
    progress: Progress = _noop,
) -> BackupResult:
    """Dump the default database with checksum and manifest, then apply the retention policy."""
    vendor = _vendor()
    directory = Path(directory or settings.BACKUP_DIR)
    # Backups hold password hashes and ciphertext: owner-only, like the keys themselves.
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    now = (now or datetime.now(UTC)).astimezone(UTC)
    final = directory / f"{PREFIX}{now.strftime(STAMP_FORMAT)}{SUFFIXES[vendor]}"
    if final.exists():
        raise BackupError(f"{final} already exists; wait a second and retry.")
    partial = final.with_name(final.name + ".partial")
    db_name = str(connection.settings_dict["NAME"])

    progress(f"Backing up {vendor} database {db_name} to {final}")
    try:
        if vendor == "postgresql":
            args, env = _pg_args(connection.settings_dict)
            _run(["pg_dump", "-Fc", "--no-owner", *args, "-f", str(partial), "-d", db_name], env)
        else:
            # The online backup API copies a consistent snapshot even while others write.
            dest = sqlite3.connect(partial)
            try:
                _sqlite_raw_connection().backup(dest)
            finally:
                dest.close()
        os.chmod(partial, 0o600)
        digest = sha256_file(partial)
        size = partial.stat().st_size
        progress(f"Dumped {size:,} bytes, sha256 {digest}; counting rows")
        tables = table_row_counts()
        manifest = {
            "format": MANIFEST_FORMAT,
            "file": final.name,
            "created_at": now.isoformat().replace("+00:00", "Z"),
            "vendor": vendor,
            "database": os.path.basename(db_name) if vendor == "sqlite" else db_name,
            "size": size,
            "sha256": digest,
            "tables": tables,
            "encryption_key_ids": encryption_key_ids_in_use(tables),
            "configured_key_ids": configured_key_ids(),
        }
        _write_atomic(checksum_path(final), f"{digest}  {final.name}\n")
        _write_atomic(manifest_path(final), json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        os.replace(partial, final)
    except BaseException:
        for leftover in (partial, checksum_path(final), manifest_path(final)):
            leftover.unlink(missing_ok=True)
        raise
    progress(
        f"Backup complete: {final.name} ({sum(tables.values()):,} rows in {len(tables)} tables)"
    )
    result = BackupResult(path=final, sha256=digest, size=size, manifest=manifest)
    if prune:
        result.removed = backups_prune(directory=directory, now=now, progress=progress)
    return result


# ---------------------------------------------------------------------------------------------
# Retention
# ---------------------------------------------------------------------------------------------


def backup_timestamp(path: Path) -> datetime | None:
    match = NAME_RE.match(path.name)
    if not match:
        return None
    return datetime.strptime(match.group(1), STAMP_FORMAT).replace(tzinfo=UTC)


def retention_keep(
    stamps: Iterable[datetime], *, keep_last: int, keep_daily_days: int, now: datetime
) -> set[datetime]:
    """Which backups survive: the newest `keep_last`, plus the newest of each UTC day in the
    last `keep_daily_days` days (today included)."""
    ordered = sorted(set(stamps), reverse=True)
    keep = set(ordered[: max(keep_last, 0)])
    if keep_daily_days > 0:
        first_day = (now.astimezone(UTC) - timedelta(days=keep_daily_days - 1)).date()
        seen_days: set = set()
        for stamp in ordered:  # newest first, so the first seen of a day is its newest
            day = stamp.date()
            if day >= first_day and day not in seen_days:
                seen_days.add(day)
                keep.add(stamp)
    return keep


def backup_list(directory: Path | None = None) -> list[Path]:
    """Complete backups in `directory`, newest first."""
    directory = Path(directory or settings.BACKUP_DIR)
    if not directory.is_dir():
        return []
    found = [p for p in directory.iterdir() if backup_timestamp(p) is not None]
    return sorted(found, key=backup_timestamp, reverse=True)


def backups_prune(
    *,
    directory: Path | None = None,
    keep_last: int | None = None,
    keep_daily_days: int | None = None,
    now: datetime | None = None,
    progress: Progress = _noop,
) -> list[Path]:
    """Delete backups (with their sidecars) that the retention policy no longer keeps."""
    keep_last = settings.BACKUP_KEEP_LAST if keep_last is None else keep_last
    if keep_daily_days is None:
        keep_daily_days = settings.BACKUP_KEEP_DAILY_DAYS
    now = now or datetime.now(UTC)
    backups = backup_list(directory)
    keep = retention_keep(
        [backup_timestamp(p) for p in backups],
        keep_last=keep_last,
        keep_daily_days=keep_daily_days,
        now=now,
    )
    removed: list[Path] = []
    for path in backups:
        if backup_timestamp(path) in keep:
            continue
        for victim in (path, checksum_path(path), manifest_path(path)):
            victim.unlink(missing_ok=True)
        removed.append(path)
    progress(
        f"Retention (last {keep_last} + daily for {keep_daily_days} days): kept "
        f"{len(backups) - len(removed)}, removed {len(removed)}"
    )
    return removed


# ---------------------------------------------------------------------------------------------
# Restore
# ---------------------------------------------------------------------------------------------


def backup_verify(*, path: Path) -> dict:
    """Check file, checksum and manifest; return the manifest. Raises BackupError."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"{path} does not exist.")
    sums, manifest_file = checksum_path(path), manifest_path(path)
    if not sums.is_file():
        raise BackupError(f"{sums.name} is missing: refusing to restore an unverifiable backup.")
    if not manifest_file.is_file():
        raise BackupError(f"{manifest_file.name} is missing: refusing to restore without it.")
    expected = sums.read_text().split()[0].lower() if sums.read_text().strip() else ""
    actual = sha256_file(path)
    if actual != expected:
        raise BackupError(
            f"Checksum mismatch for {path.name}: expected {expected or '(empty)'}, got {actual}. "
            "The file is corrupt or was changed; refusing to restore it."
        )
    try:
        manifest = json.loads(manifest_file.read_text())
    except ValueError as exc:
        raise BackupError(f"{manifest_file.name} is not valid JSON: {exc}") from exc
    if manifest.get("sha256") != actual:
        raise BackupError(f"{manifest_file.name} names another checksum than {sums.name}.")
    configured = set(configured_key_ids())
    missing = [kid for kid in manifest.get("encryption_key_ids", []) if kid not in configured]
    if missing:
        raise BackupError(
            "This backup holds data encrypted under key id(s) "
            f"{', '.join(repr(k) for k in missing)}, which FIELD_ENCRYPTION_KEYS no longer "
            "lists. Add the old key(s) back (after the newest) and retry: keys must be retained "
            "as long as backups that need them."
        )
    vendor = _vendor()
    if manifest.get("vendor") != vendor:
        raise BackupError(
            f"{path.name} is a {manifest.get('vendor')} backup; the configured database is "
            f"{vendor}."
        )
    return manifest


def backup_restore(*, path: Path, progress: Progress = _noop) -> RestoreResult:
    """Replace the configured database's contents with a verified backup."""
    path = Path(path)
    progress(f"Verifying {path.name}")
    manifest = backup_verify(path=path)
    db_name = str(connection.settings_dict["NAME"])
    progress(f"Checksum and key ids OK; restoring into {manifest['vendor']} database {db_name}")
    if manifest["vendor"] == "postgresql":
        args, env = _pg_args(connection.settings_dict)
        # Our own idle connection must not hold locks on tables that --clean drops.
        connection.close()
        # One transaction: the database ends up fully restored or untouched.
        _run(
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                "--exit-on-error",
                *args,
                "-d",
                db_name,
                str(path),
            ],
            env,
        )
    else:
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            source.backup(_sqlite_raw_connection())
        finally:
            source.close()
    tables = table_row_counts()
    progress(f"Restore complete: {sum(tables.values()):,} rows in {len(tables)} tables")
    return RestoreResult(path=path, manifest=manifest, tables=tables)
