"""python manage.py import_listens PATH --user USERNAME --format spotify|lastfm|listenbrainz"""
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from listening import services
from listening.models import ListenImport


class Command(BaseCommand):
    help = ("Import a listening history into a user's listens: Spotify extended streaming "
            "history JSON, a Last.fm scrobble CSV, or a ListenBrainz export (JSON/JSONL/ZIP).")

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--user", required=True, help="username of the listener")
        parser.add_argument("--format", required=True, choices=ListenImport.Format.values)

    def handle(self, *args, path: Path, user: str, format: str, **options):
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        owner = get_user_model().objects.filter(username=user).first()
        if owner is None:
            raise CommandError(f"no user {user!r}")
        job = services.listen_import_from_path(user=owner, fmt=format, path=path)
        bars: dict[str, tqdm] = {}

        def progress(stage: str, done: int, total: int) -> None:
            bar = bars.get(stage)
            if bar is None:
                bar = bars[stage] = tqdm(total=total, unit="listen", desc=stage, disable=None,
                                         file=self.stderr._out)
            bar.update(done - bar.n)

        job = services.listen_import_run(import_id=str(job.pk), on_progress=progress)
        for bar in bars.values():
            bar.close()
        if job.status != ListenImport.Status.DONE:
            raise CommandError(f"{path.name}: {job.error}")
        for row in job.rejected:
            self.stderr.write(f"{path.name}:{row['line']}: rejected: {row['reason']}")
        if job.rejected_total > len(job.rejected):
            self.stderr.write(f"... and {job.rejected_total - len(job.rejected)} more rejected")
        rate = job.match_rate or 0.0
        self.stdout.write(
            f"{job.rows} rows: {job.listens} listens, {job.skips} skips, {job.duplicates} "
            f"already imported, {job.ignored} ignored, {job.rejected_total} rejected; "
            f"match rate {rate:.1%} ({job.created} metadata-only tracks created)")
