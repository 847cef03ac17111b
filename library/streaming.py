"""Audio bytes over HTTP with Range requests (RFC 9110 §14), as `<audio>` elements ask for them.

Werkzeug parses the Range header. One satisfiable range gets 206 with its Content-Range; an
unsatisfiable one (starting past the end) gets 416 with `Content-Range: bytes */size`; a header
that is not a valid byte range, several ranges at once, or an If-Range naming another version
get the whole file (200), as RFC 9110 lets a server do. Behind nginx (AUDIO_ACCEL_PREFIX), the
answer is an X-Accel-Redirect to the file and nginx does all of that itself.
"""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.http import HttpResponse, StreamingHttpResponse
from werkzeug.http import parse_range_header

from audotics.exceptions import error_response

CHUNK = 256 * 1024


def _file_part(path: Path, start: int, length: int) -> Iterator[bytes]:
    """The bytes [start, start+length) of a file (WSGI servers iterate synchronously)."""
    with path.open("rb") as f:
        f.seek(start)
        left = length
        while left > 0:
            data = f.read(min(CHUNK, left))
            if not data:
                break
            left -= len(data)
            yield data


async def _file_part_async(path: Path, start: int, length: int) -> AsyncIterator[bytes]:
    """The bytes [start, start+length) of a file, read off the event loop's thread."""
    f = await asyncio.to_thread(path.open, "rb")
    try:
        await asyncio.to_thread(f.seek, start)
        left = length
        while left > 0:
            data = await asyncio.to_thread(f.read, min(CHUNK, left))
            if not data:
                break
            left -= len(data)
            yield data
    finally:
        await asyncio.to_thread(f.close)


def _wanted_range(request, size: int, etag: str) -> tuple[int, int] | str | None:
    """(start, stop) of the one range asked for, "unsatisfiable", or None for the whole file."""
    header = request.META.get("HTTP_RANGE")
    if not header:
        return None
    if_range = request.META.get("HTTP_IF_RANGE")
    if if_range and if_range != etag:
        return None
    parsed = parse_range_header(header)
    if parsed is None or parsed.units != "bytes" or len(parsed.ranges) != 1:
        return None
    wanted = parsed.range_for_length(size)
    return wanted if wanted is not None else "unsatisfiable"


def file_response(request, *, path: Path, mime: str, size: int, etag: str) -> HttpResponse:
    """200, 206 or 416 for a GET/HEAD of a stored audio file."""
    headers = {"Accept-Ranges": "bytes", "ETag": etag, "Cache-Control": "private, max-age=3600"}
    if request.META.get("HTTP_IF_NONE_MATCH") == etag:
        return HttpResponse(status=304, headers=headers)
    if settings.AUDIO_ACCEL_PREFIX:
        # nginx keeps the app's headers on the redirected answer and adds its own
        # Accept-Ranges: sending ours too would repeat it.
        headers.pop("Accept-Ranges")
        response = HttpResponse(content_type=mime, headers=headers)
        response["X-Accel-Redirect"] = settings.AUDIO_ACCEL_PREFIX.rstrip("/") + quote(str(path))
        return response
    wanted = _wanted_range(request, size, etag)
    if wanted == "unsatisfiable":
        response = error_response(request, 416, "range_not_satisfiable",
                                  f"The file is {size} bytes long; ask for a range inside it.")
        response["Content-Range"] = f"bytes */{size}"
        return response
    start, stop = wanted if isinstance(wanted, tuple) else (0, size)
    status = 206 if isinstance(wanted, tuple) else 200
    if status == 206:
        headers["Content-Range"] = f"bytes {start}-{stop - 1}/{size}"
    headers["Content-Length"] = str(stop - start)
    if request.method == "HEAD":
        return HttpResponse(status=status, content_type=mime, headers=headers)
    # Under ASGI (daphne, uvicorn) Django would read a synchronous iterator whole into memory
    # before sending it; under WSGI (granian) the same for an asynchronous one.
    is_asgi = hasattr(getattr(request, "_request", request), "scope")
    part = (_file_part_async if is_asgi else _file_part)(path, start, stop - start)
    return StreamingHttpResponse(part, status=status, content_type=mime, headers=headers)
