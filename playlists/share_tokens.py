"""The token in a playlist share link: the link row's id, signed with SECRET_KEY.

Signed rather than random-and-hashed so that the owner can be shown the same link again, while
someone who can read the database still cannot make a working link. A revoked row makes its
token useless; rotating SECRET_KEY makes every link useless.
"""
from __future__ import annotations

import uuid

from django.core import signing
from django.urls import reverse

_SALT = "playlists.share_link"
# "." is outside the signature's URL-safe base64 alphabet: the token needs no escaping in a path.
_SEP = "."
MAX_TOKEN_LENGTH = 200  # a real token is 76 characters; longer input is not worth checking


def _signer() -> signing.Signer:
    return signing.Signer(salt=_SALT, sep=_SEP)


def share_token(link_id: uuid.UUID) -> str:
    """`<id hex>.<signature>` for a share link's URL."""
    return _signer().sign(uuid.UUID(str(link_id)).hex)


def share_url(request, link_id: uuid.UUID) -> str:
    """The absolute URL of the join page (web/) a share link sends people to."""
    return request.build_absolute_uri(reverse("web:playlist-join", args=[share_token(link_id)]))


def share_token_link_id(token: object) -> uuid.UUID | None:
    """The link id a token was made for, or None for anything not made by `share_token`."""
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    try:
        return uuid.UUID(hex=_signer().unsign(token))
    except (signing.BadSignature, ValueError):
        return None
