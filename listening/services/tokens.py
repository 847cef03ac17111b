"""Listen tokens: what a scrobbler sends as `Authorization: Token <value>` (ListenBrainz's
scheme). The value is shown once at creation; only its SHA-256 is kept, so a database leak
does not hand out working tokens."""
from __future__ import annotations

import hashlib
import uuid

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from audotics.exceptions import ApplicationError

from ..models import ListenToken

MAX_TOKENS_PER_USER = 20
# last_used_at is written at most this often per token: a scrobbler submits every few minutes.
LAST_USED_RESOLUTION_SECONDS = 60


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


@transaction.atomic
def listen_token_create(*, user, name: str) -> tuple[ListenToken, str]:
    """A new token for `user`; returns the row and the value (never stored, shown once)."""
    name = name.strip()
    if not name:
        raise ApplicationError("Give the token a name.", code="validation_error",
                               fields={"name": ["This field may not be blank."]})
    type(user).objects.select_for_update().filter(pk=user.pk).first()
    if ListenToken.objects.filter(user=user).count() >= MAX_TOKENS_PER_USER:
        raise ApplicationError(
            f"At most {MAX_TOKENS_PER_USER} listen tokens; revoke one you no longer use.",
            code="too_many_tokens", status=409)
    # A UUID like ListenBrainz's own tokens (some players check the shape); uuid4 draws its
    # 122 random bits from os.urandom.
    value = str(uuid.uuid4())
    token = ListenToken(user=user, name=name[:100], token_hash=_digest(value))
    token.full_clean()
    token.save()
    return token, value


def listen_token_list(*, user) -> QuerySet:
    """The user's tokens, newest first (names and dates only: values are never kept)."""
    return ListenToken.objects.filter(user=user)


def listen_token_revoke(*, user, token_id: str) -> None:
    """Delete one of the user's tokens; it stops working at once. 404 for another's token."""
    try:
        key = uuid.UUID(str(token_id))
    except ValueError:
        key = None
    deleted = ListenToken.objects.filter(user=user, pk=key).delete()[0] if key else 0
    if not deleted:
        raise ApplicationError("No such listen token.", code="not_found", status=404)


def listen_token_authenticate(value: str) -> ListenToken | None:
    """The token with this value (its user loaded), or None; notes when it was last used."""
    if not value or len(value) > 200:
        return None
    token = (ListenToken.objects.select_related("user")
             .filter(token_hash=_digest(value), user__is_active=True).first())
    if token is None:
        return None
    now = timezone.now()
    if (token.last_used_at is None
            or (now - token.last_used_at).total_seconds() > LAST_USED_RESOLUTION_SECONDS):
        ListenToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
