"""What the recommender does when other apps say something happened (STYLE.md §10)."""
from __future__ import annotations

import logging
import uuid

from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone

from audotics.after_response import after_response
from library.signals import track_analysed
from listening.signals import listens_recorded
from playlists.services.bulk import rows_insert
from playlists.signals import tracks_added
from users.signals import account_deleting, account_exporting

from .models import Interaction
from .services import fallback, interactions, results_cache

logger = logging.getLogger(__name__)
# Folded into this process's model at once; other processes catch up on their next miss.
FOLD_IN_NEWEST = 500


@receiver(track_analysed, dispatch_uid="recommendations.fresh_track_offer")
def fresh_track_offer(sender, *, track_id, **kwargs) -> None:
    """A track's audio features are known: the content path may recommend it from now on."""
    fallback.pool_fresh_forget()


@receiver(listens_recorded, dispatch_uid="recommendations.listens_learn")
def listens_learn(sender, *, user_id, listens, **kwargs) -> None:
    """Each new listen becomes a `play` or `skip` interaction, in the listens' transaction.

    The interaction's time is when Audotics learnt of the listen (now), not when it was heard:
    it is what tells serving processes and the next training what is new since the model.
    """
    now = timezone.now()
    rows = [{"id": uuid.uuid4(), "user_id": user_id, "track_id": listen["track_id"],
             "type": listen["kind"], "created_at": now,
             "context": {"source": listen["source"],
                         **({"msPlayed": listen["ms_played"]}
                            if listen["ms_played"] is not None else {})}}
            for listen in listens]
    rows_insert(Interaction, rows)
    newest = [Interaction(**row) for row in rows[-FOLD_IN_NEWEST:]]
    transaction.on_commit(lambda: after_response(lambda: interactions.user_interactions_apply(
        user_id=str(user_id), interactions=newest)))


@receiver(account_exporting, dispatch_uid="recommendations.account_export")
def account_export(sender, *, user, **kwargs) -> dict:
    """The user's likes and everything the recommender learnt from them."""
    return interactions.interactions_export(user=user)


@receiver(account_deleting, dispatch_uid="recommendations.account_delete")
def account_forget(sender, *, user, **kwargs) -> None:
    """Drop the user's cached lists; the interactions go with the account row (cascade), so
    the next trained model never sees them."""
    user_id = str(user.pk)
    transaction.on_commit(lambda: results_cache.user_cache_invalidate(user_id=user_id))


@receiver(tracks_added, dispatch_uid="recommendations.playlist_adds_learn")
def playlist_adds_learn(sender, *, user_id, track_ids, context, **kwargs) -> None:
    """A playlist add is a taste signal: one `add` interaction per track, in the add's
    transaction, folded into the serving model once the write has answered (after commit and
    after the response: the add's latency does not include the recommender)."""
    rows = Interaction.objects.bulk_create(
        [Interaction(user_id=user_id, track_id=tid, type=Interaction.Type.ADD, context=context)
         for tid in track_ids])

    def fold_in() -> None:
        try:
            interactions.user_interactions_apply(user_id=str(user_id), interactions=rows)
        except Exception:  # the playlist change is committed; a stale list is not fatal
            logger.exception("Could not fold playlist adds into recommendations for %s", user_id)

    transaction.on_commit(lambda: after_response(fold_in))
