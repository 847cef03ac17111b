"""python manage.py analyse_library [--retry-failed]"""
from django.core.management.base import BaseCommand

from library.services import analyse


class Command(BaseCommand):
    help = ("Send the Essentia analysis of every track still waiting for it (e.g. after workers "
            "were stopped); with --retry-failed, of the failed ones too.")

    def add_arguments(self, parser):
        parser.add_argument("--retry-failed", action="store_true")

    def handle(self, *args, retry_failed: bool, **options):
        sent = analyse.analysis_resume(retry_failed=retry_failed)
        status = analyse.analysis_status()
        self.stdout.write(f"{sent} analyses sent; now {status['pending']} pending, "
                          f"{status['done']} done, {status['failed']} failed")
