"""The account's own data: everything about it as a zip of JSON files, and deleting it.

The users app does not read other apps' tables: it asks them through users.signals, and each
app answers with (or cleans up) what it owns.
"""
from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from audotics.exceptions import ApplicationError

from ..models import User
from ..signals import account_deleting, account_exporting
from .oauth_apps import connected_apps
from .tokens import refresh_tokens_revoke_all
from .two_factor import password_confirm, two_factor_enabled, two_factor_verify

EXPORT_README = """Your Audotics data, exported {when}.

profile.json          your account and preferences
playlists/*.jspf      playlists you own or collaborate on (JSPF, https://xspf.org/jspf)
likes.json            tracks you like
interactions.json     everything the recommender learnt from you (plays, likes, skips, adds)
listens.json          your listens and skips, from players and imported histories
listen_tokens.json    your scrobbling tokens (names and dates; values are never stored)
imports.json          your history imports and what they made
uploads.json          audio files you uploaded (they stay in the shared library)
connected_apps.json   applications you allowed to use your account
"""


def _profile(user: User) -> dict[str, Any]:
    return {"id": str(user.pk), "username": user.username, "email": user.email,
            "dateJoined": user.date_joined.isoformat(),
            "lastLogin": user.last_login.isoformat() if user.last_login else None,
            "twoFactor": two_factor_enabled(user=user), "preferences": user.preferences or {}}


def account_export(*, user: User) -> bytes:
    """A zip of JSON files with everything Audotics keeps about `user`."""
    apps = [{"name": app["name"], "scopes": sorted(app["scopes"]), "since": app["since"]}
            for app in connected_apps(user=user)]
    files: dict[str, Any] = {"profile.json": _profile(user), "connected_apps.json": apps}
    for _receiver, answer in account_exporting.send(sender=User, user=user):
        files.update(answer or {})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", EXPORT_README.format(when=timezone.now().isoformat()))
        for name, data in sorted(files.items()):
            archive.writestr(name, json.dumps(data, ensure_ascii=False, indent=1, default=str))
    return buffer.getvalue()


@sensitive_variables("password", "otp")
def account_delete(*, user: User, password: str, otp: str | None = None) -> None:
    """Delete the account for good after the password (and a current code with 2FA on)."""
    password_confirm(user=user, password=password)
    if two_factor_enabled(user=user) and not (otp and two_factor_verify(user=user, otp=otp)):
        raise ApplicationError("Enter a current code from your authenticator app.",
                               code="invalid_otp", status=400,
                               fields={"otp": ["A current 6-digit code is required."]})
    with transaction.atomic():
        refresh_tokens_revoke_all(user=user, reason="account_deleted")
        account_deleting.send(sender=User, user=user)
        # Cascades take the rest: interactions, likes, listens, tokens, TOTP devices, encrypted
        # fields (the row itself).
        User.objects.filter(pk=user.pk).delete()
