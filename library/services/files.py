"""Adding one audio file to the library: read its tags, find or make its track, keep its cover.

The one path for scanned and uploaded files alike. A file is known by the SHA-256 of its bytes:
the same bytes again change nothing; new bytes at a known path update that file's track; a file
of a recording the catalog already has (same MusicBrainz recording id, or the same normalised
artist and title with a duration within 2 s) gives that track its audio instead of a duplicate.
"""
from __future__ import annotations

import hashlib
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from playlists.matching import match_key, mbid_external_id
from playlists.models import Analysis, Track

from .. import tags
from ..models import AudioFile

LIBRARY_SOURCE = "library"
# A catalog track and a file are the same recording when their lengths differ by at most this.
SAME_RECORDING_MS = 2000
COVER_SIZES = {"small": 96, "large": 512}


class Outcome:
    CREATED = "created"  # a new track
    ATTACHED = "attached"  # audio for a track the catalog had
    UPDATED = "updated"  # new bytes for a file already stored
    UNCHANGED = "unchanged"  # these bytes are in the library already


@dataclass(frozen=True)
class Imported:
    track: Track
    audio_file: AudioFile
    outcome: str

    @property
    def created(self) -> bool:
        return self.outcome == Outcome.CREATED


def content_hash(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def stored_with(digest: str) -> AudioFile | None:
    """The library's file with these bytes, if it has them."""
    return AudioFile.objects.select_related("track").filter(content_hash=digest).first()


def cover_path(track_id: Any, size: str) -> Path:
    """Where a track's cover thumbnail of one size is kept (size: small, large)."""
    return settings.MEDIA_ROOT / "covers" / f"{track_id}-{size}.jpg"


def upload_path(digest: str, suffix: str) -> Path:
    """Where an upload is kept: named by its hash, never by the name the client sent."""
    return settings.MEDIA_ROOT / "uploads" / digest[:2] / f"{digest}{suffix.lower()}"


def _covers_write(track_id: Any, cover: bytes | None) -> bool:
    """Thumbnails of an embedded cover; False when there is none or it cannot be decoded."""
    if not cover:
        return False
    try:
        images = tags.thumbnails(cover, COVER_SIZES)
    except tags.BadCover:
        return False
    for size, data in images.items():
        target = cover_path(track_id, size)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return True


def _metadata(info: tags.AudioInfo) -> dict[str, Any]:
    meta: dict[str, Any] = {"source": LIBRARY_SOURCE}
    if info.genre:
        meta["genres"] = [info.genre.strip().lower()[:64]]
    if info.year:
        meta["release_year"] = info.year
    for key, value in (("album_artist", info.albumartist), ("track_number", info.tracknumber),
                       ("disc_number", info.discnumber)):
        if value:
            meta[key] = value
    ids = {k: v for k, v in (("musicbrainz_recording", info.musicbrainz_recordingid),
                             ("musicbrainz_album", info.musicbrainz_albumid),
                             ("musicbrainz_artist", info.musicbrainz_artistid)) if v}
    if ids:
        meta["external_ids"] = ids
    return meta


def _track_fields(info: tags.AudioInfo, path: Path) -> dict[str, Any]:
    meta = _metadata(info)
    return {
        "title": (info.title or path.stem)[:300],
        "artist": (info.artist or info.albumartist or "Unknown artist")[:300],
        "album": info.album[:300],
        "duration_ms": info.duration_ms,
        "genre": (meta.get("genres") or [""])[0],
        "metadata": meta,
    }


def _same_recording(info: tags.AudioInfo, fields: dict[str, Any]) -> Track | None:
    """A track without audio that is the recording this file holds, if the catalog has one."""
    if info.musicbrainz_recordingid:
        hit = Track.objects.filter(external_id=mbid_external_id(info.musicbrainz_recordingid),
                                   has_audio=False).first()
        if hit is not None:
            return hit
    key = match_key(fields["artist"], fields["title"])
    for track in Track.objects.filter(match_key=key, has_audio=False,
                                      duration_ms__isnull=False).order_by("created_at"):
        if abs(track.duration_ms - info.duration_ms) <= SAME_RECORDING_MS:
            return track
    return None


def _file_fields(info: tags.AudioInfo, path: Path, digest: str) -> dict[str, Any]:
    stat = path.stat()
    return {"content_hash": digest, "size": stat.st_size, "mtime": stat.st_mtime,
            "format": info.format, "mime": info.mime, "duration_ms": info.duration_ms,
            "samplerate": info.samplerate, "channels": info.channels, "bitrate": info.bitrate,
            "analysed_hash": "", "analysis_error": ""}


def audio_file_import(*, path: Path, origin: str, root: str = "", uploaded_by: Any = None,
                      info: tags.AudioInfo | None = None,
                      digest: str | None = None) -> Imported:
    """Add or update the file at `path` (absolute, already inside its root); raises
    `tags.UnreadableAudio` for what is not playable audio, storing nothing."""
    info = info or tags.read(path)
    digest = digest or content_hash(path)
    try:
        return _import(path=path, origin=origin, root=root, uploaded_by=uploaded_by, info=info,
                       digest=digest)
    except IntegrityError:
        # The same bytes arrived twice at once (two uploads, a scan and an upload): the other
        # one stored them first.
        same = stored_with(digest)
        if same is None:
            raise
        return Imported(same.track, same, Outcome.UNCHANGED)


def _import(*, path: Path, origin: str, root: str, uploaded_by: Any, info: tags.AudioInfo,
            digest: str) -> Imported:
    with transaction.atomic():
        same_bytes = stored_with(digest)
        if same_bytes is not None:
            if same_bytes.path != str(path) and not Path(same_bytes.path).exists():
                same_bytes.path, same_bytes.root = str(path), root  # the file was moved
                same_bytes.save(update_fields=["path", "root", "updated_at"])
            return Imported(same_bytes.track, same_bytes, Outcome.UNCHANGED)
        fields = _track_fields(info, path)
        known = AudioFile.objects.select_related("track").filter(path=str(path)).first()
        if known is not None:
            track, outcome = known.track, Outcome.UPDATED
            if track.metadata.get("source") == LIBRARY_SOURCE:  # catalog data stays the catalog's
                for name, value in fields.items():
                    setattr(track, name, value)
                track.features = {}
            audio = known
        else:
            track = _same_recording(info, fields)
            outcome = Outcome.ATTACHED
            if track is None:
                track = Track(external_id=f"{LIBRARY_SOURCE}:{digest[:40]}", **fields)
                outcome = Outcome.CREATED
            audio = AudioFile(origin=origin, root=root, path=str(path), uploaded_by=uploaded_by)
        track.has_audio = True
        track.analysis = Analysis.PENDING
        track.save()
        track.has_cover = _covers_write(track.pk, info.cover)
        Track.objects.filter(pk=track.pk).update(has_cover=track.has_cover)
        for name, value in _file_fields(info, path, digest).items():
            setattr(audio, name, value)
        audio.track = track
        audio.save()
        from .. import tasks  # noqa: PLC0415 - tasks import the services

        transaction.on_commit(lambda: tasks.audio_file_analyse.delay(str(audio.pk)))
    return Imported(track, audio, outcome)


def audio_file_upload(*, upload: Any, user: Any) -> Imported:
    """Store an uploaded file under MEDIA_ROOT by its hash and add it to the library; the name
    the client gave is only used for its suffix (so `../../x.mp3` lands in the library too)."""
    suffix = Path(upload.name or "").suffix.lower()
    if suffix not in tags.SUFFIXES:
        raise tags.UnreadableAudio(
            f"“{suffix or 'no suffix'}” files are not audio Audotics can play; upload MP3, FLAC, "
            "Ogg/Opus, M4A or WAV.")
    incoming = settings.MEDIA_ROOT / "uploads" / "incoming"
    incoming.mkdir(parents=True, exist_ok=True)
    hasher = hashlib.sha256()
    with tempfile.NamedTemporaryFile(dir=incoming, suffix=suffix, delete=False) as out:
        temp = Path(out.name)
    try:
        with temp.open("wb") as out:
            for chunk in upload.chunks():
                hasher.update(chunk)
                out.write(chunk)
        digest = hasher.hexdigest()
        known = stored_with(digest)
        if known is not None:
            return Imported(known.track, known, Outcome.UNCHANGED)
        info = tags.read(temp)
        target = upload_path(digest, suffix)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(temp, target)
        try:
            return audio_file_import(path=target, origin=AudioFile.Origin.UPLOAD,
                                     uploaded_by=user, info=info, digest=digest)
        except Exception:
            target.unlink(missing_ok=True)
            raise
    finally:
        temp.unlink(missing_ok=True)
