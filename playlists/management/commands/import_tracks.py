"""python manage.py import_tracks PATH [--format csv|jsonl] [--batch-size N]"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from playlists.services import catalog


class Command(BaseCommand):
    help = "Import tracks from a Spotify-style CSV (plain or gzip) or a JSON Lines file."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument(
            "--format",
            choices=["csv", "jsonl"],
            default=None,
            help="file format (default: from the file name)",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=5000,
            help="distinct tracks written per transaction (default 5000)",
        )
        parser.add_argument(
            "--rejects",
            type=Path,
            default=None,
            help="write every rejected row (line, reason) to this CSV file",
        )

    def handle(self, *args, path: Path, format: str | None, batch_size: int, rejects, **options):
        if not path.is_file():
            raise CommandError(
                f"{path}: no such file. Give the path of a .csv, .csv.gz or .jsonl file."
            )
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        bar = tqdm(
            total=path.stat().st_size,
            unit="B",
            unit_scale=True,
            desc="import",
            disable=None,
            file=self.stderr._out,
        )

        def progress(done: int, total: int) -> None:
            bar.update(done - bar.n)

        try:
            result = catalog.tracks_import(
                path=path, fmt=format, batch_size=batch_size, on_progress=progress
            )
        finally:
            bar.close()
        lines = result.rejected_lines(path.name)
        if len(result.rejected) > catalog.SHOWN_REJECTS and not rejects:
            lines[-1] += " (use --rejects FILE to list them all)"
        for line in lines:
            self.stderr.write(line)
        if rejects:
            with open(rejects, "w", encoding="utf-8") as out:
                out.write("line,reason\n")
                for row in result.rejected:
                    out.write(f'{row.line},"{row.reason.replace(chr(34), chr(39))}"\n')
        self.stdout.write(result.summary())
