"""Accounts: the custom user model, set from the first migration (it cannot change later)."""
import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """A listener; `preferences` holds genres, moods, energy and explicit-content choice."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    preferences = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["username"]
        indexes = [models.Index(fields=["created_at"], name="user_created_idx")]

    def __str__(self) -> str:
        return self.username
