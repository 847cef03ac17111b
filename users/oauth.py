"""OAuth 2.0 access tokens (django-oauth-toolkit) on the REST API, within their scopes.

A bearer value that looks like a JWT (three dot-separated parts) is left to the JWT
authenticators, so first-party requests never pay the access-token lookup; any other bearer
value is looked up as an OAuth token. A token outside its scopes gets 403 `insufficient_scope`
with the WWW-Authenticate header of RFC 6750.
"""
from __future__ import annotations

from drf_spectacular.contrib.django_oauth_toolkit import DjangoOAuthToolkitScheme
from oauth2_provider.contrib.rest_framework import OAuth2Authentication
from oauth2_provider.models import AccessToken

from audotics.exceptions import InsufficientScope

from .scopes import PUBLIC, scope_required


class ScopedOAuth2Authentication(OAuth2Authentication):
    """OAuth2Authentication that also checks the view's `token_scope` for the request."""

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value or value.count(".") == 2:
            return None
        result = super().authenticate(request)
        if result is None:
            return None
        view = (request.parser_context or {}).get("view")
        needed = scope_required(getattr(view, "token_scope", None), request.method)
        _user, token = result
        if needed is None:
            raise InsufficientScope("Applications cannot use this endpoint; sign in to "
                                    "Audotics itself.", scope="")
        if needed != PUBLIC and not token.allow_scopes([needed]):
            raise InsufficientScope(f"This token lacks the {needed} scope.", scope=needed)
        return result


def token_scope_check(request, scope: str) -> None:
    """For a part of a request that needs more than the view's scope (generate with save)."""
    token = getattr(request, "auth", None)
    if isinstance(token, AccessToken) and not token.allow_scopes([scope]):
        raise InsufficientScope(f"This token lacks the {scope} scope.", scope=scope)


class ScopedOAuth2Scheme(DjangoOAuthToolkitScheme):
    """The OpenAPI security scheme of ScopedOAuth2Authentication: OAuth 2.0 with our scopes."""

    target_class = "users.oauth.ScopedOAuth2Authentication"
