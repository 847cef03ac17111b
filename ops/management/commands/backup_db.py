"""Back up the configured database (pg_dump -Fc, or SQLite's backup API) with checksum."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ops.services import backups


class Command(BaseCommand):
    help = (
        "Write a timestamped backup of the default database to BACKUP_DIR (or --dir), with a "
        ".sha256 checksum and a JSON manifest (row counts, encryption key ids), then delete "
        "backups outside the retention policy (BACKUP_KEEP_LAST, BACKUP_KEEP_DAILY_DAYS)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dir", type=Path, default=None, help="backup directory")
        parser.add_argument(
            "--no-prune", action="store_true", help="keep every backup (skip retention)"
        )

    def handle(self, *args, dir=None, no_prune=False, **options):
        try:
            result = backups.backup_create(
                directory=dir, prune=not no_prune, progress=self.stdout.write
            )
        except backups.BackupError as exc:
            raise CommandError(str(exc)) from exc
        manifest = result.manifest
        self.stdout.write(
            self.style.SUCCESS(
                f"{result.path} {result.size:,} bytes sha256={result.sha256} "
                f"keys={','.join(manifest['encryption_key_ids']) or '-'}"
            )
        )
        for table, rows in manifest["tables"].items():
            if rows:
                self.stdout.write(f"  {table}: {rows:,}")
        for path in result.removed:
            self.stdout.write(f"removed {path.name}")
