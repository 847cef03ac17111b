"""Celery tasks of the library app (STYLE.md §5)."""
from celery import shared_task


@shared_task(name="library.audio_file_analyse", acks_late=True)
def audio_file_analyse(audio_file_id: str) -> str:
    """Analyse one file's audio with Essentia (idempotent: unchanged bytes are not redone)."""
    from .services import analyse

    return analyse.audio_file_analyse(audio_file_id=audio_file_id)


@shared_task(name="library.library_scan_run", acks_late=True)
def library_scan_run(scan_id: str) -> str:
    """Scan one library folder (a re-run skips what is unchanged)."""
    from .services import scan

    return scan.library_scan_run(scan_id=scan_id).status


@shared_task(name="library.analysis_resume")
def analysis_resume() -> int:
    """Send the analysis of every track still waiting (after a worker was lost)."""
    from .services import analyse

    return analyse.analysis_resume()
