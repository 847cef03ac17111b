"""What the library app does when an account is exported (users.signals)."""
from django.dispatch import receiver

from users.signals import account_exporting

from .models import AudioFile


@receiver(account_exporting, dispatch_uid="library.account_export")
def account_export(sender, *, user, **kwargs) -> dict:
    """The files this user uploaded (they stay in the shared library when the account goes)."""
    uploads = AudioFile.objects.filter(uploaded_by=user).order_by("created_at").values_list(
        "created_at", "format", "size", "content_hash", "track_id", "track__title",
        "track__artist")
    return {"uploads.json": [
        {"uploadedAt": at.isoformat(), "format": fmt, "bytes": size, "sha256": digest,
         "track": {"id": str(tid), "title": title, "artist": artist}}
        for at, fmt, size, digest, tid, title, artist in uploads]}
