"""The OAuth 2.0 scopes other applications may ask for: the one home of this vocabulary (the
settings, the consent page, the app forms and the API's checks all read it from here).

An API view names the scope a token needs in `token_scope`: a family ("playlists": `:read`
for GET/HEAD/OPTIONS, `:write` otherwise), a {method: scope} dict, PUBLIC (any valid token), or
None: not for other applications at all (passwords, 2FA, tokens, account deletion).
"""
from __future__ import annotations

SCOPES: dict[str, str] = {
    "profile": "See your username, email and listening preferences",
    "playlists:read": "See your playlists and the ones shared with you",
    "playlists:write": "Create, change and delete your playlists",
    "recommendations:read": "See your recommendations and your likes",
    "listens:write": "Add listens, likes and skips to your history",
    "library:write": "Add music files to the library",
}
DEFAULT_SCOPES = ["profile"]
PUBLIC = "public"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def scope_required(token_scope, method: str) -> str | None:
    """The scope a request needs under a view's `token_scope`; PUBLIC for none; None: refused."""
    if token_scope is None or token_scope == PUBLIC:
        return token_scope
    if isinstance(token_scope, dict):
        return token_scope.get(method.upper())
    if token_scope in SCOPES:
        return token_scope
    return f"{token_scope}:{'read' if method.upper() in SAFE_METHODS else 'write'}"
