"""The states of a background job a user follows (history imports, library scans): one
vocabulary for every app's job model and page."""
from django.db import models


class JobStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
