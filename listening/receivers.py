"""What the listening app does when an account is exported (users.signals)."""
from django.dispatch import receiver

from users.signals import account_exporting

from .services import privacy


@receiver(account_exporting, dispatch_uid="listening.account_export")
def account_export(sender, *, user, **kwargs) -> dict:
    """The user's listens, scrobbling tokens and imports."""
    return privacy.listening_export(user=user)
