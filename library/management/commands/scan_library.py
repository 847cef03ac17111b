"""python manage.py scan_library PATH [--background] [--wait]"""
import time

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from library import tasks
from library.models import LibraryScan
from library.services import analyse, scan

STALLED_SECONDS = 120


class Command(BaseCommand):
    help = ("Add every audio file under PATH (MP3, FLAC, Ogg/Opus, M4A, WAV) to the library: "
            "tags, covers, matching catalog tracks; Essentia analyses each file on the workers.")

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--background", action="store_true",
                            help="queue the scan as a Celery job and return at once")
        parser.add_argument("--wait", action="store_true",
                            help="after the scan, show analysis progress until none is pending")

    def handle(self, *args, path: str, background: bool, wait: bool, **options):
        try:
            job = scan.library_scan_create(root=path)
        except scan.ScanRefusedError as exc:
            raise CommandError(str(exc)) from None
        if background:
            tasks.library_scan_run.delay(str(job.pk))
            self.stdout.write(f"scan {job.pk} of {job.root} queued")
            return
        bar = tqdm(unit="file", desc="scan", disable=None, file=self.stderr._out)

        def progress(current: LibraryScan) -> None:
            bar.total = current.files
            bar.update(current.done - bar.n)

        job = scan.library_scan_run(scan_id=str(job.pk), progress=progress)
        bar.close()
        for row in job.rejected:
            self.stderr.write(f"{row['path']}: skipped: {row['reason']}")
        if job.rejected_total > len(job.rejected):
            self.stderr.write(f"... and {job.rejected_total - len(job.rejected)} more skipped")
        self.stdout.write(
            f"{job.files} audio files: {job.created} new tracks, {job.attached} added to catalog "
            f"tracks, {job.updated} updated, {job.unchanged} unchanged, {job.rejected_total} "
            f"skipped, {job.missing} gone from the folder; {job.ignored} other files ignored")
        if wait:
            self._wait_for_analysis()

    def _wait_for_analysis(self) -> None:
        status = analyse.analysis_status()
        total = sum(status.values())
        last_change, finished = time.monotonic(), status["done"] + status["failed"]
        with tqdm(total=total, unit="track", desc="analysis", disable=None,
                  file=self.stderr._out) as bar:
            while status["pending"]:
                time.sleep(1)
                status = analyse.analysis_status()
                now_finished = status["done"] + status["failed"]
                if now_finished != finished:
                    last_change, finished = time.monotonic(), now_finished
                elif time.monotonic() - last_change > STALLED_SECONDS:
                    self.stderr.write(f"no analysis finished for {STALLED_SECONDS} s: is a "
                                      "Celery worker running (make worker)? Progress continues "
                                      "in the background; see the Library page.")
                    break
                bar.update(now_finished - bar.n)
            bar.update(finished - bar.n)
        self.stdout.write(f"analysis: {status['done']} done, {status['failed']} failed, "
                          f"{status['pending']} pending")
