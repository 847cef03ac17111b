"""python manage.py import_interactions PATH [--format hetrec|csv]"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from recommendations.services import imports


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
        for line in result.rejected_lines(path.name):
            self.stderr.write(line)
        self.stdout.write(result.summary())
