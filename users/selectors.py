"""Reads of accounts for other people: finding someone to invite by the start of their name."""
from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db.models.functions import Length, Lower

from .models import User

USER_SEARCH_MIN_LENGTH = 2
USER_SEARCH_LIMIT = 10


def user_search(*, query: str, exclude_user_id: uuid.UUID | None = None,
                limit: int = USER_SEARCH_LIMIT) -> list[dict[str, Any]]:
    """`[{id, username}]` of active accounts whose username starts with `query` (any case),
    shortest first (an exact match leads), at most `limit`. Accounts that cannot sign in
    (imported or generated listeners) are not offered: inviting them would do nothing."""
    prefix = query.strip().lower()
    if len(prefix) < USER_SEARCH_MIN_LENGTH:
        return []
    users = (User.objects.filter(is_active=True)
             .exclude(password__startswith=UNUSABLE_PASSWORD_PREFIX)
             .annotate(lname=Lower("username")).filter(lname__startswith=prefix))
    if exclude_user_id is not None:
        users = users.exclude(pk=exclude_user_id)
    rows = users.order_by(Length("username"), "lname").values("id", "username")[:limit]
    return [{"id": str(r["id"]), "username": r["username"]} for r in rows]
