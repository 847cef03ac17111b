"""Daphne's HTTP requests without Twisted's own form parsing.

Twisted's `Request` parses every multipart/form-data POST body into `request.args` before
daphne hands the raw body to Django, which parses it again. That first parse reads the whole
body (an audio upload: up to UPLOAD_MAX_BYTES) into memory with the email package, on the
reactor thread that every other request and WebSocket of the process waits on, and answers a
body it cannot parse (an empty multipart, say) with a bare 400 that never reaches Django and
its error envelope. Nothing here reads `request.args`, so the parse is switched off.
"""
from __future__ import annotations


def form_parsing_off() -> None:
    """Make daphne's requests skip Twisted's form parsing (idempotent; no-op without daphne)."""
    try:
        from daphne.http_protocol import WebRequest
    except ImportError:  # served by another ASGI server
        return
    if getattr(WebRequest, "_form_parsing_off", False):
        return
    original = WebRequest.__init__

    def init_without_form_parsing(self, *args, **kwargs):
        kwargs.setdefault("parsePOSTFormSubmission", False)
        original(self, *args, **kwargs)

    WebRequest.__init__ = init_without_form_parsing
    WebRequest._form_parsing_off = True
