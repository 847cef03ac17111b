"""System checks: refuse to start with a refresh-rotation setup that cannot revoke tokens."""

from django.apps import apps
from django.conf import settings
from django.core.checks import Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured

BLACKLIST_APP = "rest_framework_simplejwt.token_blacklist"


@register(Tags.security)
def check_jwt_blacklist(app_configs=None, **kwargs):
    jwt = getattr(settings, "SIMPLE_JWT", {})
    rotating = jwt.get("ROTATE_REFRESH_TOKENS") or jwt.get("BLACKLIST_AFTER_ROTATION")
    if rotating and not apps.is_installed(BLACKLIST_APP):
        return [
            Error(
                "Refresh-token rotation is on but the token blacklist app is not installed, "
                "so rotated and logged-out refresh tokens would stay valid.",
                hint=f"Add {BLACKLIST_APP!r} to INSTALLED_APPS.",
                id="users.E001",
            )
        ]
    return []


@register(Tags.security)
def check_field_encryption_keys(app_configs=None, **kwargs):
    from . import crypto

    try:
        crypto.keyring()
    except ImproperlyConfigured as exc:
        return [Error(str(exc), id="users.E002")]
    return []


@register(Tags.security, deploy=True)
def check_trusted_proxies(app_configs=None, **kwargs):
    if getattr(settings, "TRUSTED_PROXY_COUNT", 0) < 0:
        return [Warning("TRUSTED_PROXY_COUNT must be 0 or more.", id="users.W001")]
    return []
