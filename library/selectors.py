"""Reads of the library: the audio and cover of a track, for the streaming and cover views."""
from __future__ import annotations

import logging
import uuid
from pathlib import Path

from django.db.models import QuerySet
from django.http import Http404

from audotics.exceptions import ApplicationError
from playlists.models import Track

from .models import AudioFile
from .services.files import COVER_SIZES, cover_path

logger = logging.getLogger(__name__)


def _track_key(track_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(track_id))
    except ValueError:
        raise Http404("No such track.") from None


def audio_file_for_track(*, track_id: str) -> AudioFile:
    """The stored file of a track; 404 when the track has none (or it vanished from disk)."""
    audio = AudioFile.objects.filter(track_id=_track_key(track_id)).first()
    if audio is None:
        raise ApplicationError("This track has no audio on this server.", code="not_found",
                               status=404)
    if not Path(audio.path).is_file():
        logger.warning("audio file missing on disk", extra={"audio_file": str(audio.pk)})
        raise ApplicationError("This track's audio file is missing on the server; an operator "
                               "can rescan the library.", code="not_found", status=404)
    return audio


def uploaded_tracks(*, user) -> QuerySet:
    """The tracks whose audio this user uploaded, newest upload first."""
    return Track.objects.filter(audio_file__uploaded_by=user).order_by("-audio_file__created_at")


def cover_file(*, track_id: str, size: str) -> Path:
    """The cover thumbnail of a track in one of COVER_SIZES; 404 when there is none."""
    if size not in COVER_SIZES:
        raise ValueError(size)
    path = cover_path(_track_key(track_id), size)
    if not path.is_file():
        raise Http404("This track has no cover.")
    return path
