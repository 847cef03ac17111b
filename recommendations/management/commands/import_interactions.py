"""python manage.py import_interactions PATH [--format hetrec|csv]"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from recommendations.services import imports

SHOWN_REJECTS = 50


class Command(BaseCommand):
    help = (
        "Import listening data: HetRec Last.fm user_artists.dat, or a CSV with "
        "user,track_external_id,type,timestamp."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument(
            "--format",
            choices=["hetrec", "csv"],
            default=None,
            help="file format (default: detected from the header)",
        )

    def handle(self, *args, path: Path, format: str | None, **options):
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        with tqdm(unit="row", desc="interactions", disable=None, file=self.stderr._out) as bar:
            try:
                result = imports.interactions_import(path=path, fmt=format, on_progress=bar.update)
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
        for row in result.rejected[:SHOWN_REJECTS]:
            self.stderr.write(f"{path.name}:{row.line}: skipped: {row.reason}")
        if len(result.rejected) > SHOWN_REJECTS:
            self.stderr.write(f"... and {len(result.rejected) - SHOWN_REJECTS} more rejected rows")
        self.stdout.write(result.summary())
