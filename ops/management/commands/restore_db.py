"""Restore a verified backup into the configured database (destructive)."""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from ops.services import backups


class Command(BaseCommand):
    help = (
        "Verify a backup's checksum and that its encryption key ids are still configured, then "
        "replace the configured database's contents with it (pg_restore --clean --if-exists "
        "--no-owner in one transaction; SQLite: backup API). Asks for confirmation unless --yes."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="the .dump or .sqlite3 backup file")
        parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    def handle(self, *args, path: Path, yes: bool = False, **options):
        try:
            # Verify before asking: nobody should confirm a restore that cannot succeed.
            manifest = backups.backup_verify(path=path)
        except backups.BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"{path.name}: taken {manifest['created_at']} from {manifest['database']}, "
            f"{sum(manifest['tables'].values()):,} rows, keys "
            f"{','.join(manifest['encryption_key_ids']) or '-'}; checksum OK"
        )
        if not yes:
            target = connection.settings_dict["NAME"]
            if not sys.stdin.isatty():
                raise CommandError("Refusing to restore without --yes (stdin is not a terminal).")
            answer = input(f"This REPLACES every table of database {target}. Type 'yes': ")
            if answer.strip().lower() != "yes":
                raise CommandError("Restore cancelled.")
        try:
            result = backups.backup_restore(path=path, progress=self.stdout.write)
        except backups.BackupError as exc:
            raise CommandError(str(exc)) from exc
        expected = manifest["tables"]
        differing = {
            t: (expected.get(t), n) for t, n in result.tables.items() if expected.get(t) != n
        }
        for table, (want, got) in differing.items():
            self.stderr.write(f"  {table}: manifest {want}, restored {got}")
        self.stdout.write(self.style.SUCCESS(f"Restored {path.name}"))
