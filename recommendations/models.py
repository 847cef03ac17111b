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
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.type} {self.track_id}"
