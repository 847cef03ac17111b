"""What listeners do with tracks: the recommender's training signal."""
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class Interaction(models.Model):
    """One play, like, skip, dislike or add, with the context it happened in."""

    class Type(models.TextChoices):
        PLAY = "play", "Play"
        LIKE = "like", "Like"
        SKIP = "skip", "Skip"
        DISLIKE = "dislike", "Dislike"
        ADD = "add", "Add to playlist"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="interactions"
    )
    track = models.ForeignKey("playlists.Track", on_delete=models.CASCADE, related_name="+")
    type = models.CharField(max_length=16, choices=Type.choices)
    context = models.JSONField(default=dict, blank=True)
    # A default rather than auto_now_add, so that imports can keep the original time.
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="interaction_user_idx"),
            models.Index(fields=["track", "type"], name="interaction_track_idx"),
            # recommend_batch: interactions since the model's cutoff, and every dislike.
            models.Index(fields=["created_at"], name="interaction_created_idx"),
            models.Index(fields=["user", "track"], condition=models.Q(type="dislike"),
                         name="interaction_dislike_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.type} {self.track_id}"


class ModelVersion(models.Model):
    """One trained recommender artifact under MODEL_DIR/<id>, with its evaluation.

    At most one row is active (a partial unique constraint); serving processes load that one.
    """

    class Status(models.TextChoices):
        TRAINING = "training", "Training"
        READY = "ready", "Ready (not active)"
        ACTIVE = "active", "Active"
        REJECTED = "rejected", "Rejected (worse than the active version)"
        FAILED = "failed", "Failed"
        RETIRED = "retired", "Retired"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.TRAINING)
    is_active = models.BooleanField(default=False)
    activated_at = models.DateTimeField(null=True, blank=True)
    artifact_path = models.CharField(max_length=500, blank=True)
    config = models.JSONField(default=dict, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    training_stats = models.JSONField(default=dict, blank=True)
    # Interactions up to this instant are in the model; later ones are folded in at serving time.
    trained_until = models.DateTimeField(null=True, blank=True)
    trained_on_interactions = models.PositiveIntegerField(default=0)
    trained_on_users = models.PositiveIntegerField(default=0)
    trained_on_tracks = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    # While training: {stage, done, total, eta_seconds, at}; the staff model page shows it.
    progress = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"],
                condition=models.Q(is_active=True),
                name="modelversion_one_active",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.id} ({self.status})"


class BatchRun(models.Model):
    """One hourly precompute of every active user's list, split into chunk tasks that any
    number of workers take (see services/batch.py); its progress is counted from its chunks."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    started_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    model_version = models.CharField(max_length=64, blank=True)
    list_length = models.PositiveIntegerField(default=20)
    users_total = models.PositiveIntegerField(default=0)
    chunks_total = models.PositiveIntegerField(default=0)
    chunks_done = models.PositiveIntegerField(default=0)
    users_done = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"batch {self.started_at:%Y-%m-%d %H:%M} ({self.chunks_done}/{self.chunks_total})"


class BatchChunk(models.Model):
    """A chunk of a batch run as a worker finished it; one row per chunk however often it ran."""

    run = models.ForeignKey(BatchRun, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    worker = models.CharField(max_length=200, blank=True)
    users = models.PositiveIntegerField(default=0)
    lists = models.PositiveIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=1)
    seconds = models.FloatField(default=0.0)
    finished_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["run", "index"]
        constraints = [models.UniqueConstraint(fields=["run", "index"], name="batchchunk_once")]
