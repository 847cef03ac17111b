"""Logging filters: the request id on every record, and secrets redacted before output.

Both are attached to the console handler in settings.LOGGING, so they see every record that is
written, whichever logger it came from.
"""

from __future__ import annotations

import contextvars
import logging
import re
from typing import Any

# Set by ops.middleware for each HTTP request; "-" outside requests (commands, workers).
request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

REDACTED = "[REDACTED]"
# Keys whose values are never written: matched anywhere in the key, case-insensitively.
SENSITIVE_KEY_RE = re.compile(
    r"pass(word|wd)?|token|refresh|access|otp|secret|authori[sz]ation|cookie|api[-_]?key"
    r"|session|ticket|csrf",
    re.IGNORECASE,
)
# Secrets that can hide inside free text: bearer credentials and JWTs.
SENSITIVE_TEXT_RE = re.compile(
    r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+|eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"
)


# Query-string parameters in URLs written to logs (?token=..., &ticket=...): the values of
# sensitive names are replaced, the rest of the URL stays readable.
QUERY_PARAM_RE = re.compile(r"([?&]([^=&#\s\"']+)=)([^&#\s\"']+)")
SENSITIVE_PARAM_RE = re.compile(SENSITIVE_KEY_RE.pattern + r"|jwt|code|sig|key|auth",
                                re.IGNORECASE)


# Capabilities carried in a URL's path: a playlist share link's token (also when it rides in a
# sign-in page's ?next=). The path up to the token stays, so the log still says what was asked.
SENSITIVE_PATH_RE = re.compile(r"(?i)((?:/|%2F)playlists(?:/|%2F)join(?:/|%2F))[^/?&#%\s\"']+")


def get_request_id() -> str:
    return request_id_var.get()


def redact(value: Any, _depth: int = 0) -> Any:
    """A copy of `value` with the values of sensitive keys replaced, recursively."""
    if _depth > 8:
        return value
    if isinstance(value, dict):
        return {
            k: (
                REDACTED
                if isinstance(k, str) and SENSITIVE_KEY_RE.search(k)
                else redact(v, _depth + 1)
            )
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return type(value)(redact(v, _depth + 1) for v in value)
    return value


def redact_text(text: str) -> str:
    text = SENSITIVE_PATH_RE.sub(lambda m: m.group(1) + REDACTED, text)
    text = QUERY_PARAM_RE.sub(
        lambda m: m.group(1) + REDACTED if SENSITIVE_PARAM_RE.search(m.group(2)) else m.group(0),
        text,
    )
    return SENSITIVE_TEXT_RE.sub(
        lambda m: (m.group(1) + REDACTED) if m.group(1) else REDACTED, text
    )


class RequestIdFilter(logging.Filter):
    """Adds `request_id` (from the contextvar) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = request_id_var.get()
        return True


class RedactSecretsFilter(logging.Filter):
    """Replaces values of password/token/otp/... keys in dict messages and arguments, and
    bearer tokens or JWTs in the formatted text. Never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            if isinstance(record.msg, dict):
                record.msg = redact(record.msg)
            if isinstance(record.args, dict):
                record.args = redact(record.args)
            elif isinstance(record.args, tuple):
                record.args = tuple(redact(a) for a in record.args)
            message = record.getMessage()
            cleaned = redact_text(message)
            if cleaned != message:
                record.msg, record.args = cleaned, None
        except Exception:  # noqa: BLE001 - a logging filter must never break the caller
            pass
        return True
