"""Listening that comes in from outside: scrobbles, imported histories, the tokens players use."""
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from audotics.jobs import JobStatus


class ListenToken(models.Model):
    """A per-user token for ListenBrainz-compatible scrobblers; only its SHA-256 is stored."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="listen_tokens"
    )
    name = models.CharField(max_length=100)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.user_id})"


class ListenImport(models.Model):
    """One uploaded history file and what its import made of it."""

    class Format(models.TextChoices):
        SPOTIFY = "spotify", "Spotify extended streaming history (JSON)"
        LASTFM = "lastfm", "Last.fm scrobbles (CSV)"
        LISTENBRAINZ = "listenbrainz", "ListenBrainz export (JSON, JSONL or ZIP)"

    Status = JobStatus

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="listen_imports"
    )
    format = models.CharField(max_length=16, choices=Format.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    file_name = models.CharField(max_length=255, blank=True)
    # The file itself while it waits for (or failed) its import, emptied once it is done. In
    # the database rather than on disk, so that a worker on any machine can run the import.
    content = models.BinaryField(null=True, blank=True, editable=False)
    file_sha256 = models.CharField(max_length=64, blank=True)
    rows = models.PositiveIntegerField(default=0)
    listens = models.PositiveIntegerField(default=0)
    skips = models.PositiveIntegerField(default=0)
    ignored = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    matched = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    rejected = models.JSONField(default=list, blank=True)
    rejected_total = models.PositiveIntegerField(default=0)
    # {done, total} rows while running; the Imports page shows it as a bar.
    progress = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.format} import {self.id} ({self.status})"

    @property
    def match_rate(self) -> float | None:
        """Share of the counted rows (listens, skips, repeats) whose track is in the catalog."""
        counted = self.listens + self.skips + self.duplicates
        return self.matched / counted if counted else None


class Listen(models.Model):
    """One play (or skip) of a track by a user, from wherever it was heard.

    The same play reported twice (a scrobbler retrying, the same history imported again, a
    listen both scrobbled and in an export) is one row: (user, track, listened_at) is unique.
    """

    class Kind(models.TextChoices):
        PLAY = "play", "Play"
        SKIP = "skip", "Skip"

    class Source(models.TextChoices):
        SCROBBLE = "scrobble", "Scrobbled by a player"
        SPOTIFY = "spotify", "Spotify history import"
        LASTFM = "lastfm", "Last.fm import"
        LISTENBRAINZ = "listenbrainz", "ListenBrainz import"
        PLAYER = "player", "Audotics player"

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="listens"
    )
    track = models.ForeignKey("playlists.Track", on_delete=models.CASCADE, related_name="+")
    listened_at = models.DateTimeField()
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.PLAY)
    ms_played = models.PositiveIntegerField(null=True, blank=True)
    source = models.CharField(max_length=16, choices=Source.choices)
    # The player or app that reported it (ListenBrainz's submission_client), when known.
    client = models.CharField(max_length=100, blank=True)
    import_job = models.ForeignKey(
        ListenImport, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-listened_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "track", "listened_at"], name="listen_once"),
        ]
        indexes = [models.Index(fields=["user", "-listened_at"], name="listen_user_time_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind} {self.track_id} @ {self.listened_at:%Y-%m-%d %H:%M}"
