"""Where an account is signed in: API sign-ins (token families), browser sessions and connected
OAuth apps, listed on /account and ended one by one (SPEC §4 `/api/users/me/sessions`)."""
from __future__ import annotations

import uuid
from importlib import import_module
from typing import Any

from django.conf import settings
from django.utils import timezone

from audotics.exceptions import ApplicationError

from ..models import BrowserSession, TokenFamily, User
from . import oauth_apps
from .tokens import FAMILY_CLAIM, family_revoke


def _store():
    return import_module(settings.SESSION_ENGINE).SessionStore


def browser_session_record(*, user: User, session_key: str | None, client: str) -> None:
    """Remember a browser sign-in (sent by the user_logged_in signal)."""
    if session_key:
        BrowserSession.objects.update_or_create(
            session_key=session_key, defaults={"user": user, "client": client[:200]})


def browser_session_forget(*, session_key: str | None) -> None:
    if session_key:
        BrowserSession.objects.filter(session_key=session_key).delete()


def _current_family(request) -> str | None:
    payload = getattr(getattr(request, "auth", None), "payload", None)
    return str(payload.get(FAMILY_CLAIM)) if isinstance(payload, dict) else None


def sessions_list(*, user: User, request) -> list[dict[str, Any]]:
    """Active sign-ins, newest first: {id, kind, client, created_at, last_used_at, current}."""
    store = _store()
    current_family = _current_family(request)
    current_key = getattr(getattr(request, "session", None), "session_key", None)
    out = []
    for family in TokenFamily.objects.filter(user=user, revoked_at__isnull=True):
        out.append({"id": f"token-{family.pk}", "kind": "token",
                    "client": family.client or "API client", "created_at": family.created_at,
                    "last_used_at": family.rotated_at or family.created_at,
                    "current": str(family.pk) == current_family})
    for browser in BrowserSession.objects.filter(user=user):
        if not store().exists(browser.session_key):
            browser.delete()  # ended elsewhere (expired, signed out): tidy up
            continue
        out.append({"id": f"browser-{browser.pk}", "kind": "browser",
                    "client": browser.client or "Browser", "created_at": browser.created_at,
                    "last_used_at": None, "current": browser.session_key == current_key})
    for app in oauth_apps.connected_apps(user=user):
        out.append({"id": f"oauth-{app['id']}", "kind": "oauth", "client": app["name"],
                    "created_at": app["since"], "last_used_at": None, "current": False})
    return sorted(out, key=lambda s: s["created_at"] or timezone.now(), reverse=True)


def session_end(*, user: User, session_id: str) -> None:
    """End one sign-in of the user's (404 for anything else)."""
    kind, _, key = str(session_id).partition("-")
    if kind == "token":
        family = TokenFamily.objects.filter(user=user, pk=_uuid(key),
                                            revoked_at__isnull=True).first()
        if family is not None:
            family_revoke(family, reason="signed_out_from_account")
            return
    elif kind == "browser" and key.isdigit():
        browser = BrowserSession.objects.filter(user=user, pk=int(key)).first()
        if browser is not None:
            _store()(browser.session_key).delete()
            browser.delete()
            return
    elif kind == "oauth" and key.isdigit():
        oauth_apps.connected_app_revoke(user=user, application_id=int(key))
        return
    raise ApplicationError("No such sign-in.", code="not_found", status=404)


def _uuid(value: str):
    try:
        return uuid.UUID(value)
    except ValueError:
        return None
