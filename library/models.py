"""Audio files behind tracks, and the scans that found them."""
import uuid
from pathlib import Path

from django.conf import settings
from django.db import models

from audotics.jobs import JobStatus


class AudioFile(models.Model):
    """The audio of one track: a file in a scanned library folder or an upload.

    `content_hash` (SHA-256 of the bytes) is what makes a file already in the library be
    imported once, whatever its name or folder; `path` is absolute, as the scan or the upload
    stored it, and never built from anything a client sent.
    """

    class Origin(models.TextChoices):
        SCAN = "scan", "Library folder"
        UPLOAD = "upload", "Upload"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    track = models.OneToOneField("playlists.Track", on_delete=models.CASCADE,
                                 related_name="audio_file")
    origin = models.CharField(max_length=8, choices=Origin.choices)
    # The scanned folder the file was found under (empty for uploads): a rescan of that folder
    # notices files that are gone.
    root = models.CharField(max_length=1024, blank=True)
    path = models.CharField(max_length=1024, unique=True)
    content_hash = models.CharField(max_length=64, unique=True)
    size = models.BigIntegerField()
    # Seconds since the epoch: a rescan skips hashing a file whose size and mtime are unchanged.
    mtime = models.FloatField()
    format = models.CharField(max_length=8)
    mime = models.CharField(max_length=64)
    duration_ms = models.PositiveIntegerField()
    samplerate = models.PositiveIntegerField(null=True, blank=True)
    channels = models.PositiveSmallIntegerField(null=True, blank=True)
    bitrate = models.PositiveIntegerField(null=True, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="+")
    # The content hash the track's features were computed from: analysis of a file that has
    # not changed since is not repeated (tasks may be delivered twice).
    analysed_hash = models.CharField(max_length=64, blank=True)
    analysis_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["path"]
        indexes = [models.Index(fields=["root"], name="audiofile_root_idx")]

    def __str__(self) -> str:
        return self.path

    @property
    def path_obj(self) -> Path:
        return Path(self.path)


class LibraryScan(models.Model):
    """One run of `scan_library` over a folder, with its progress and what it refused."""

    Status = JobStatus

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    root = models.CharField(max_length=1024)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    files = models.PositiveIntegerField(default=0)  # audio files found under the root
    done = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    attached = models.PositiveIntegerField(default=0)  # audio added to an existing track
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    missing = models.PositiveIntegerField(default=0)  # stored before, gone from the folder now
    ignored = models.PositiveIntegerField(default=0)  # not audio by name (covers, cue sheets)
    rejected = models.JSONField(default=list, blank=True)  # [{path, reason}], the first 1,000
    rejected_total = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.root} ({self.status})"
