"""Request id, metrics and access-log middleware; both run natively under ASGI and WSGI."""

from __future__ import annotations

import logging
import re
import time
import uuid

from asgiref.sync import iscoroutinefunction
from django.utils.decorators import sync_and_async_middleware

from . import metrics
from .logging import redact_text, request_id_var

# The access log (one line per HTTP request, query strings redacted): the servers' own access
# logs are off (daphne -v 0), since they write URLs verbatim, ?token= and all.
access_logger = logging.getLogger("audotics.access")

HEADER = "X-Request-ID"
# Accept a caller's id only if it is short and plain: it ends up in every log line.
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{7,127}$")


def _request_id(request) -> str:
    incoming = request.headers.get(HEADER, "")
    return incoming if REQUEST_ID_RE.match(incoming) else uuid.uuid4().hex


@sync_and_async_middleware
def request_id_middleware(get_response):
    """Takes a well-formed X-Request-ID or makes one, exposes it to logging and the response."""

    # The contextvar is not reset afterwards on purpose: Django logs 4xx/5xx responses after
    # the middleware chain returns, and those lines need the id too. The next request (or a new
    # ASGI task with its own context) overwrites it.
    if iscoroutinefunction(get_response):

        async def middleware(request):
            request.request_id = _request_id(request)
            request_id_var.set(request.request_id)
            response = await get_response(request)
            response[HEADER] = request.request_id
            return response

    else:

        def middleware(request):
            request.request_id = _request_id(request)
            request_id_var.set(request.request_id)
            response = get_response(request)
            response[HEADER] = request.request_id
            return response

    return middleware


@sync_and_async_middleware
def metrics_middleware(get_response):
    """Observes latency by method, route name and status class, and in-flight requests."""

    def _finish(request, response, started: float) -> None:
        seconds = time.perf_counter() - started
        metrics.observe_request(
            request.method, metrics.route_name(request), response.status_code, seconds
        )
        access_logger.info("%s %s %s %.1fms", request.method,
                           redact_text(request.get_full_path()), response.status_code,
                           seconds * 1000)

    if iscoroutinefunction(get_response):

        async def middleware(request):
            started = time.perf_counter()
            in_progress = metrics.in_progress(request.method)
            in_progress.inc()
            try:
                response = await get_response(request)
            finally:
                in_progress.dec()
            _finish(request, response, started)
            return response

    else:

        def middleware(request):
            started = time.perf_counter()
            in_progress = metrics.in_progress(request.method)
            in_progress.inc()
            try:
                response = get_response(request)
            finally:
                in_progress.dec()
            _finish(request, response, started)
            return response

    return middleware
