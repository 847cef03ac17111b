"""Scanning a library folder (`scan_library PATH`, also a Celery job): every audio file under it
is added or updated through `files.audio_file_import`; what cannot be read is reported and
skipped, and files stored before but gone from the folder lose their audio (their tracks, likes
and history stay).

The walk never leaves the folder: directory symlinks are not followed, and a file symlink is
taken only if it resolves inside the folder (so a link to /etc/passwd or to ../other is refused).
"""
from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from playlists.models import Analysis, Track

from .. import tags
from ..models import AudioFile, LibraryScan
from . import files

MAX_REJECTED = 1000
PROGRESS_EVERY = 25


class ScanRefusedError(ValueError):
    """The folder cannot be scanned at all (missing, not a directory)."""


def _candidates(root: Path) -> Iterator[tuple[Path, str | None]]:
    """(path, reason it is refused or None) of each file under root with an audio suffix; other
    files come as (path, "") so that the scan can count them as ignored."""
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if path.suffix.lower() not in tags.SUFFIXES:
                yield path, ""
                continue
            real = path.resolve()
            if not real.is_relative_to(root):
                yield path, "a link to a file outside the library folder"
            elif not real.is_file():
                yield path, "not a regular file"
            elif real.stat().st_size > settings.LIBRARY_FILE_MAX_BYTES:
                yield path, (f"larger than {settings.LIBRARY_FILE_MAX_BYTES // 2**20} MB "
                             "(LIBRARY_FILE_MAX_BYTES)")
            else:
                yield real, None


def library_scan_create(*, root: str) -> LibraryScan:
    """A pending scan of `root` (resolved; refused when it is not a readable folder)."""
    folder = Path(root).expanduser().resolve()
    if not folder.is_dir():
        raise ScanRefusedError(f"{folder} is not a folder this server can read.")
    return LibraryScan.objects.create(root=str(folder))


def _unchanged(known: AudioFile | None, path: Path) -> bool:
    if known is None:
        return False
    stat = path.stat()
    return known.size == stat.st_size and abs(known.mtime - stat.st_mtime) < 1e-6


def library_scan_run(*, scan_id: str,
                     progress: Callable[[LibraryScan], None] | None = None) -> LibraryScan:
    """Run a scan: one short transaction per file, progress saved every few files."""
    scan = LibraryScan.objects.get(pk=scan_id)
    root = Path(scan.root)
    scan.status, scan.error = LibraryScan.Status.RUNNING, ""
    found = list(_candidates(root))
    scan.files = sum(1 for _, reason in found if reason != "")
    scan.ignored = len(found) - scan.files
    scan.save()
    known = {a.path: a for a in AudioFile.objects.filter(root=str(root))}
    seen: set[str] = set()
    for path, reason in found:
        if reason == "":
            continue
        scan.done += 1
        if reason is None:
            seen.add(str(path))
            reason = _import_one(scan, path, known.get(str(path)))
        if reason:
            scan.rejected_total += 1
            if len(scan.rejected) < MAX_REJECTED:
                scan.rejected.append({"path": str(path.relative_to(root)
                                                  if path.is_relative_to(root) else path),
                                      "reason": reason})
        if scan.done % PROGRESS_EVERY == 0:
            scan.save()
            if progress:
                progress(scan)
    scan.missing = _forget_missing([a for p, a in known.items() if p not in seen])
    scan.status, scan.finished_at = LibraryScan.Status.DONE, timezone.now()
    scan.save()
    if progress:
        progress(scan)
    return scan


def _import_one(scan: LibraryScan, path: Path, known: AudioFile | None) -> str:
    """Adds one file and counts its outcome on the scan; the reason it was refused, or ""."""
    if _unchanged(known, path):
        scan.unchanged += 1
        return ""
    try:
        result = files.audio_file_import(path=path, origin=AudioFile.Origin.SCAN, root=scan.root)
    except tags.UnreadableAudio as exc:
        return str(exc)
    except OSError as exc:
        return f"could not be read ({exc.strerror or exc})"
    field = {files.Outcome.CREATED: "created", files.Outcome.ATTACHED: "attached",
             files.Outcome.UPDATED: "updated"}.get(result.outcome, "unchanged")
    setattr(scan, field, getattr(scan, field) + 1)
    return ""


def _forget_missing(gone: list[AudioFile]) -> int:
    """Files no longer in the folder: their tracks stop offering audio."""
    gone = [a for a in gone if not Path(a.path).exists()]
    if not gone:
        return 0
    with transaction.atomic():
        Track.objects.filter(pk__in=[a.track_id for a in gone]).update(
            has_audio=False, analysis=Analysis.NONE, updated_at=timezone.now())
        AudioFile.objects.filter(pk__in=[a.pk for a in gone]).delete()
    return len(gone)
