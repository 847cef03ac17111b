"""python manage.py seed_demo_audio [--count N --seconds S] [--if-empty]"""
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from library import demo_audio
from library.models import AudioFile


class Command(BaseCommand):
    help = ("Generate the demo's freely usable audio (synthesised tracks in different tempos, "
            "keys and timbres, tagged, with covers) into AUDOTICS_HOME/demo-audio and scan it "
            "into the library, so that a new user can press play at once.")

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=36)
        parser.add_argument("--seconds", type=float, default=30.0)
        parser.add_argument("--if-empty", action="store_true",
                            help="do nothing when the library already has audio")

    def handle(self, *args, count: int, seconds: float, if_empty: bool, **options):
        if count < 1 or not 5 <= seconds <= 600:
            raise CommandError("--count must be at least 1 and --seconds within 5..600")
        if if_empty and AudioFile.objects.exists():
            self.stdout.write("library not empty: no demo audio made")
            return
        folder = settings.AUDOTICS_HOME / "demo-audio"
        started = time.monotonic()
        paths = demo_audio.write_demo_catalog(folder, count=count, seconds=seconds)
        self.stdout.write(f"wrote {len(paths)} demo tracks to {folder} "
                          f"in {time.monotonic() - started:.1f} s")
        call_command("scan_library", str(folder), "--wait", stdout=self.stdout,
                     stderr=self.stderr)
