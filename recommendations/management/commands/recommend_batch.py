"""Precompute recommendations of recently active users into the cache (hourly job's twin)."""
import sys

from django.core.management.base import BaseCommand

from recommendations.services import batch

from ._progress import TqdmProgress


class Command(BaseCommand):
    help = "Precompute top-N recommendations for users active in the last N days."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None)
        parser.add_argument("--limit", type=int, default=20)

    def handle(self, *args, days, limit, **options):
        progress = TqdmProgress(sys.stderr)
        try:
            n = batch.recommend_batch(days=days, limit=limit, on_progress=progress)
        finally:
            progress.close()
        self.stdout.write(f"precomputed {n} users")
