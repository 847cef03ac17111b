"""python manage.py seed_demo [--tracks N --users N --seed S] [--if-empty]"""

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from playlists.models import Track
from playlists.services import demo, demo_listening
from recommendations.management.commands._progress import TqdmProgress


class Command(BaseCommand):
    help = "Create a synthetic demo catalog, demo users with listening histories and playlists."

    def add_arguments(self, parser):
        parser.add_argument("--tracks", type=int, default=5000)
        parser.add_argument("--users", type=int, default=20)
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument(
            "--listeners", type=int, default=0,
            help="also generate N listeners (listener1..N, no password) with histories of 5-500 "
                 "interactions over the whole catalog (the training benchmark's scale: 100000)",
        )
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing when the catalog already has tracks"
        )

    def handle(self, *args, tracks: int, users: int, seed: int, if_empty: bool, listeners: int,
               **options):
        if tracks < 0 or users < 0 or listeners < 0:
            raise CommandError("--tracks, --users and --listeners must not be negative")
        if if_empty and Track.objects.exists():
            self.stdout.write("catalog not empty: nothing seeded")
            return
        with tqdm(
            total=tracks, unit="track", desc="seed", disable=None, file=self.stderr._out
        ) as bar:
            result = demo.demo_seed(tracks=tracks, users=users, seed=seed, on_progress=bar.update)
        self.stdout.write(
            f"seeded {result.tracks} tracks, {result.users} users, "
            f"{result.interactions} interactions, {result.playlists} playlists"
        )
        if result.users:
            self.stdout.write(f"demo sign-in: demo1 .. demo{users}, password {demo.DEMO_PASSWORD}")
        if listeners:
            progress = TqdmProgress(self.stderr._out)
            try:
                made, rows = demo_listening.demo_listeners_bulk(users=listeners, seed=seed,
                                                                on_progress=progress)
            finally:
                progress.close()
            self.stdout.write(f"seeded {made} listeners with {rows} interactions")
