"""Essentia's analysis of a track's audio (one Celery task per file, on whichever worker is free)
and the features it gives the track (library/analysis.py holds the signal side and its scales).

A library track takes every feature the signal gives; a catalog track that got its audio from a
file keeps the catalog's values and gains only the ones it lacked. Analysis is idempotent (a file
whose bytes were analysed already is skipped) and resumable: `analysis_resume` sends the tasks of
every track still waiting, e.g. after workers were stopped.
"""
from __future__ import annotations

from pathlib import Path

from django.db import transaction
from django.db.models import Count

from playlists.models import Analysis, Track

from ..models import AudioFile
from ..signals import track_analysed
from .files import LIBRARY_SOURCE


def audio_file_analyse(*, audio_file_id: str) -> str:
    """Compute and store the features of one file's track; returns the track's analysis state."""
    audio = AudioFile.objects.select_related("track").filter(pk=audio_file_id).first()
    if audio is None:
        return "gone"
    if audio.analysed_hash == audio.content_hash and audio.track.analysis == Analysis.DONE:
        return Analysis.DONE
    from .. import analysis  # noqa: PLC0415 - Essentia loads only where analysis runs

    digest = audio.content_hash
    try:
        features = analysis.analyse(Path(audio.path))
        error = ""
    except (analysis.AnalysisFailed, OSError) as exc:
        features, error = {}, str(exc)[:500] or "the audio could not be decoded"
    with transaction.atomic():
        audio = AudioFile.objects.select_for_update().select_related("track").get(pk=audio.pk)
        if audio.content_hash != digest:  # the file changed meanwhile: its own task follows
            return audio.track.analysis
        track = audio.track
        if track.metadata.get("source") == LIBRARY_SOURCE:
            track.features = features
        else:
            track.features = {**features, **(track.features or {})}
        track.analysis = Analysis.FAILED if error else Analysis.DONE
        track.save(update_fields=["features", "analysis", "updated_at"])
        audio.analysed_hash, audio.analysis_error = digest, error
        audio.save(update_fields=["analysed_hash", "analysis_error", "updated_at"])
        if not error:
            transaction.on_commit(lambda: track_analysed.send(sender=Track, track_id=track.pk))
    return track.analysis


def analysis_resume(*, retry_failed: bool = False) -> int:
    """Send the analysis task of every file whose track is waiting (and failed ones if asked)."""
    from .. import tasks  # noqa: PLC0415 - tasks import the services

    states = [Analysis.PENDING, Analysis.FAILED] if retry_failed else [Analysis.PENDING]
    ids = [str(i) for i in AudioFile.objects.filter(track__analysis__in=states)
           .values_list("pk", flat=True)]
    for audio_file_id in ids:
        tasks.audio_file_analyse.delay(audio_file_id)
    return len(ids)


def analysis_status() -> dict[str, int]:
    """How many tracks with audio are in each analysis state (the Library page's progress)."""
    counts = {state: 0 for state in (Analysis.PENDING, Analysis.DONE, Analysis.FAILED)}
    for row in (Track.objects.filter(has_audio=True).order_by().values("analysis")
                .annotate(n=Count("pk"))):
        counts[row["analysis"]] = row["n"]
    return {str(k): v for k, v in counts.items()}
