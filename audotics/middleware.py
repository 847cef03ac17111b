"""Refuses request bodies no view could read, before any view tries: 413 for bodies over
DATA_UPLOAD_MAX_MEMORY_SIZE (UPLOAD_MAX_BYTES for file uploads, ListenBrainz's payload
limit on /1/) and 415 for charsets other than UTF-8. Without this, Django raised
RequestDataTooBig or LookupError (`charset=rot13`, `hex`, `zlib`...) inside the view: a 400 with a
security-log traceback, or a 500. The API and the forms speak UTF-8 only (JSON is UTF-8 by RFC
8259, and browsers send forms in the page's encoding, UTF-8)."""
from __future__ import annotations

from asgiref.sync import iscoroutinefunction
from django.conf import settings
from django.http import JsonResponse
from django.utils.decorators import sync_and_async_middleware
from django.utils.http import parse_header_parameters

from .exceptions import error_response

UTF8_NAMES = frozenset({"utf-8", "utf8"})


def _limit(request) -> int | None:
    if request.path.startswith("/1/"):
        return settings.LISTEN_PAYLOAD_MAX_BYTES
    if request.META.get("CONTENT_TYPE", "").startswith("multipart/form-data"):
        return settings.UPLOAD_MAX_BYTES
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def _error(request, status: int, code: str, message: str):
    if request.path.startswith("/1/"):  # the ListenBrainz-compatible API has its own shape
        return JsonResponse({"code": status, "error": message}, status=status)
    return error_response(request, status, code, message)


def _refusal(request):
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return _error(request, 400, "bad_request",
                              "The Content-Length header is not a number.")
    limit = _limit(request)
    if limit is not None and length > limit:
        return _error(request, 413, "request_too_large",
                              f"The request body is larger than {limit / (1024 * 1024):.0f} MB.")
    _, params = parse_header_parameters(request.META.get("CONTENT_TYPE", ""))
    charset = params.get("charset")
    if charset is not None and charset.strip().lower() not in UTF8_NAMES:
        return _error(request, 415, "unsupported_media_type",
                              "Send the body encoded as UTF-8 (charset=utf-8).")
    return None


@sync_and_async_middleware
def request_body_guard_middleware(get_response):
    if iscoroutinefunction(get_response):

        async def middleware(request):
            return _refusal(request) or await get_response(request)

    else:

        def middleware(request):
            return _refusal(request) or get_response(request)

    return middleware
