"""Applications a user has connected to their account with OAuth 2.0, and disconnecting them."""
from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from oauth2_provider.models import AccessToken, Grant, RefreshToken

from audotics.exceptions import ApplicationError

from ..scopes import SCOPES


def connected_apps(*, user) -> list[dict[str, Any]]:
    """Each application holding a live token of `user`: {id, name, scopes, since}."""
    apps: dict[int, dict[str, Any]] = {}
    live = (AccessToken.objects.filter(user=user, expires__gt=timezone.now())
            .select_related("application").order_by("created"))
    refreshable = (RefreshToken.objects.filter(user=user, revoked__isnull=True)
                   .select_related("application", "access_token").order_by("created"))
    for token in [*live, *(r.access_token for r in refreshable if r.access_token)]:
        if token.application is None:
            continue
        app = apps.setdefault(token.application_id, {
            "id": token.application_id, "name": token.application.name, "scopes": {},
            "since": token.created})
        for scope in token.scope.split():
            app["scopes"][scope] = SCOPES.get(scope, scope)
    return sorted(apps.values(), key=lambda a: a["since"])


@transaction.atomic
def connected_app_revoke(*, user, application_id: Any) -> int:
    """Disconnect an application: every token and pending grant it holds for `user` dies."""
    refresh = RefreshToken.objects.filter(user=user, application_id=application_id,
                                          revoked__isnull=True)
    count = 0
    for token in refresh.select_related("access_token"):
        token.revoke()
        count += 1
    count += AccessToken.objects.filter(user=user, application_id=application_id).delete()[0]
    Grant.objects.filter(user=user, application_id=application_id).delete()
    if not count:
        raise ApplicationError("That application is not connected.", code="not_found",
                               status=404)
    return count
