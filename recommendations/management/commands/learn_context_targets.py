"""Learn mood/activity/time-of-day audio-feature targets from the Spotify songs file."""
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from recommendations.services import context_targets as ct


class Command(BaseCommand):
    help = "Learn context targets from playlist names (weak labels) and write the JSON table."

    def add_arguments(self, parser):
        default = settings.AUDOTICS_DATASETS / "spotify-30k-songs" / "spotify_songs.csv.gz"
        parser.add_argument("--source", type=Path, default=default)
        parser.add_argument("--out", type=Path, default=ct.TABLE_PATH)
        parser.add_argument("--min-tracks", type=int, default=ct.MIN_TRACKS)

    def handle(self, *args, source, out, min_tracks, **options):
        table = ct.context_targets_learn(path=source, min_tracks=min_tracks)
        ct.context_targets_write(table=table, path=out)
        for field, values in table["targets"].items():
            for value, entry in values.items():
                self.stdout.write(
                    f"{field:<10} {value:<10} {entry['source']:<9} tracks={entry['tracks']:<5} "
                    + " ".join(f"{f}={entry[f]}" for f in ct.TARGET_FEATURES))
        self.stdout.write(self.style.SUCCESS(f"wrote {out}"))
