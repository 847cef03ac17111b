"""What the listening app does when an account is exported (users.signals) and when the
Audotics player reports plays (recommendations.signals)."""
from django.dispatch import receiver

from recommendations.signals import interactions_recorded
from users.signals import account_exporting

from . import services
from .services import privacy


@receiver(interactions_recorded, dispatch_uid="listening.player_listens")
def player_listens(sender, *, user_id, interactions, **kwargs) -> None:
    """Plays and skips from the Audotics player appear in History like any other listen."""
    services.player_listens_record(user_id=user_id, interactions=interactions)


@receiver(account_exporting, dispatch_uid="listening.account_export")
def account_export(sender, *, user, **kwargs) -> dict:
    """The user's listens, scrobbling tokens and imports."""
    return privacy.listening_export(user=user)
