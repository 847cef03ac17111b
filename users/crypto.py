"""Field encryption (AES-256-GCM) and the keyed blind index used to look encrypted values up.

Ciphertext layout, stored as standard base64 text:

    version (1 byte, 0x01) | kid length (1 byte) | kid (utf-8) | nonce (12 bytes) | ciphertext+tag

The associated data binds a value to `<table>.<column>.<pk>`, so a ciphertext copied to another
row (or another column) does not decrypt. Keys come from `settings.FIELD_ENCRYPTION_KEYS`,
`kid:base64key` pairs separated by commas, newest first: the newest encrypts, all decrypt.

Blind index: HMAC-SHA256 under a key derived (HKDF) from `settings.FIELD_HMAC_KEY`, which is
separate from the encryption keys on purpose: rotating encryption keys never changes an index
value, so uniqueness and login by email keep working throughout a rotation. When FIELD_HMAC_KEY
is unset in production, the index key is derived from SECRET_KEY (with its own HKDF label); then
rotating SECRET_KEY requires `rotate_encryption_keys`, which recomputes every index value from the
decrypted plaintext (it does so whenever a stored index value is stale).
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

VERSION = 1
NONCE_SIZE = 12
KEY_SIZE = 32
GENERATE_HINT = (
    'Generate one with: python -c "import base64,secrets;'
    "print('k1:'+base64.b64encode(secrets.token_bytes(32)).decode())\""
)


class DecryptionError(Exception):
    """A stored ciphertext cannot be decrypted: unknown key, tampering, or copied to another row."""


@dataclass(frozen=True)
class KeyRing:
    keys: tuple[tuple[str, bytes], ...]  # (kid, key), newest first

    @property
    def newest_kid(self) -> str:
        return self.keys[0][0]

    def get(self, kid: str) -> bytes | None:
        return dict(self.keys).get(kid)


def generate_key_spec(kid: str = "k1") -> str:
    """A fresh `kid:base64key` entry for FIELD_ENCRYPTION_KEYS."""
    return f"{kid}:{base64.b64encode(os.urandom(KEY_SIZE)).decode()}"


@functools.lru_cache(maxsize=8)
def parse_keys(spec: str) -> KeyRing:
    """Parse `kid:base64key,...`; raises ImproperlyConfigured with a hint on any mistake."""
    keys: list[tuple[str, bytes]] = []
    for raw in (part.strip() for part in (spec or "").split(",")):
        if not raw:
            continue
        kid, sep, b64 = raw.partition(":")
        if not sep or not kid or len(kid.encode()) > 255:
            raise ImproperlyConfigured(
                f"FIELD_ENCRYPTION_KEYS entries must look like kid:base64key. {GENERATE_HINT}"
            )
        try:
            key = base64.b64decode(b64, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ImproperlyConfigured(
                f"FIELD_ENCRYPTION_KEYS: key {kid!r} is not valid base64. {GENERATE_HINT}"
            ) from exc
        if len(key) != KEY_SIZE:
            raise ImproperlyConfigured(
                f"FIELD_ENCRYPTION_KEYS: key {kid!r} must be 32 bytes (AES-256). {GENERATE_HINT}"
            )
        if any(kid == k for k, _ in keys):
            raise ImproperlyConfigured(f"FIELD_ENCRYPTION_KEYS: duplicate key id {kid!r}.")
        keys.append((kid, key))
    if not keys:
        raise ImproperlyConfigured(f"FIELD_ENCRYPTION_KEYS is empty. {GENERATE_HINT}")
    return KeyRing(tuple(keys))


def keyring() -> KeyRing:
    return parse_keys(getattr(settings, "FIELD_ENCRYPTION_KEYS", ""))


def associated_data(table: str, column: str, pk: object) -> bytes:
    return f"{table}.{column}.{pk}".encode()


def encrypt(plaintext: str, *, aad: bytes) -> str:
    """Encrypt under the newest key with a fresh random 96-bit nonce."""
    ring = keyring()
    kid, key = ring.keys[0]
    nonce = os.urandom(NONCE_SIZE)
    kid_bytes = kid.encode()
    body = AESGCM(key).encrypt(nonce, plaintext.encode("utf-8"), aad)
    blob = bytes([VERSION, len(kid_bytes)]) + kid_bytes + nonce + body
    return base64.b64encode(blob).decode("ascii")


def _split(token: str) -> tuple[str, bytes, bytes]:
    try:
        blob = base64.b64decode(token, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise DecryptionError("Stored value is not valid ciphertext (bad base64).") from exc
    if len(blob) < 2 or blob[0] != VERSION:
        raise DecryptionError("Stored value has an unknown ciphertext version.")
    kid_len = blob[1]
    kid_end = 2 + kid_len
    if len(blob) < kid_end + NONCE_SIZE + 16:
        raise DecryptionError("Stored ciphertext is truncated.")
    kid = blob[2:kid_end].decode("utf-8", errors="replace")
    return kid, blob[kid_end : kid_end + NONCE_SIZE], blob[kid_end + NONCE_SIZE :]


def key_id(token: str) -> str:
    """The id of the key a ciphertext was made with (no decryption)."""
    return _split(token)[0]


def decrypt(token: str, *, aad: bytes) -> str:
    kid, nonce, body = _split(token)
    key = keyring().get(kid)
    if key is None:
        raise DecryptionError(
            f"Ciphertext uses key {kid!r}, which is not in FIELD_ENCRYPTION_KEYS."
        )
    try:
        return AESGCM(key).decrypt(nonce, body, aad).decode("utf-8")
    except InvalidTag as exc:
        raise DecryptionError(
            "Ciphertext failed authentication: it was tampered with or belongs to another "
            f"row/field (associated data {aad.decode(errors='replace')!r})."
        ) from exc


@functools.lru_cache(maxsize=8)
def _index_key(hmac_key: str, secret_key: str) -> bytes:
    if hmac_key:
        material, label = hmac_key.encode(), b"audotics blind index v1"
    else:
        material, label = secret_key.encode(), b"audotics blind index v1 (from SECRET_KEY)"
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label).derive(material)


def blind_index(value: str, *, purpose: str) -> str:
    """Deterministic keyed hash of a normalized value, for equality lookups and uniqueness."""
    key = _index_key(getattr(settings, "FIELD_HMAC_KEY", ""), settings.SECRET_KEY)
    msg = purpose.encode() + b"\x00" + value.encode("utf-8")
    return hmac.new(key, msg, hashlib.sha256).hexdigest()


def email_index(email: str) -> str:
    return blind_index(email.strip().lower(), purpose="user.email")
