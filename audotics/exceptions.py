"""The error envelope of SPEC.md §4, produced for every error from one place.

`{"error": {"code": "...", "message": "...", "fields": {...}}}` with the right status. Views raise
`ApplicationError` for business failures; DRF, Django and rate-limit exceptions are mapped here.
"""
import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django_ratelimit.exceptions import Ratelimited
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error

logger = logging.getLogger(__name__)


class ApplicationError(Exception):
    """A business rule failed; the client gets `status` and a stable snake_case `code`."""

    def __init__(
        self,
        message: str,
        *,
        code: str = "application_error",
        status: int = 400,
        fields: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.fields = fields
        self.headers = headers or {}


class ServiceUnavailable(ApplicationError):  # noqa: N818 - reads as the HTTP status it is
    """A backing service (database, Redis) is unreachable: 503, try again shortly."""

    def __init__(self, message: str = "Service temporarily unavailable; retry shortly.") -> None:
        super().__init__(
            message, code="service_unavailable", status=503, headers={"Retry-After": "5"}
        )


def is_backing_service_error(exc: BaseException | None) -> bool:
    """The database or Redis did not answer: a transient 503, not a bug (500)."""
    from django.db import InterfaceError, OperationalError

    try:
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError
    except ImportError:  # pragma: no cover - redis is a runtime dependency
        RedisConnectionError = RedisTimeoutError = OperationalError  # noqa: N806
    try:
        from django_redis.exceptions import ConnectionInterrupted
    except ImportError:  # pragma: no cover
        ConnectionInterrupted = OperationalError  # noqa: N806
    seen = 0
    while exc is not None and seen < 5:  # follow `raise ... from` chains a few levels
        if isinstance(exc, (OperationalError, InterfaceError, RedisConnectionError,
                            RedisTimeoutError, ConnectionInterrupted)):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    error: dict[str, Any] = {"code": code, "message": message}
    if fields:
        error["fields"] = fields
    return {"error": error}


class InsufficientScope(drf_exceptions.PermissionDenied):  # noqa: N818 - RFC 6750's name
    """An OAuth token used outside its scopes: 403 `insufficient_scope` (RFC 6750 §3.1)."""

    def __init__(self, detail: str, *, scope: str) -> None:
        super().__init__(detail)
        self.auth_header = f'Bearer error="insufficient_scope", scope="{scope}"'


# DRF exception class -> stable code; the status comes from the exception itself.
_DRF_CODES: dict[type, str] = {
    InsufficientScope: "insufficient_scope",
    drf_exceptions.ParseError: "parse_error",
    drf_exceptions.AuthenticationFailed: "authentication_failed",
    drf_exceptions.NotAuthenticated: "not_authenticated",
    drf_exceptions.PermissionDenied: "permission_denied",
    drf_exceptions.NotFound: "not_found",
    drf_exceptions.MethodNotAllowed: "method_not_allowed",
    drf_exceptions.NotAcceptable: "not_acceptable",
    drf_exceptions.UnsupportedMediaType: "unsupported_media_type",
    drf_exceptions.Throttled: "rate_limited",
}


def _message(detail: Any) -> str:
    if isinstance(detail, list) and detail:
        return _message(detail[0])
    if isinstance(detail, dict):
        return "Validation error"
    return str(detail)


def exception_handler(exc: Exception, context: dict) -> Response:
    """DRF's EXCEPTION_HANDLER: every error leaves as the envelope."""
    headers: dict[str, str] = {}
    if isinstance(exc, ApplicationError):
        body = error_body(exc.code, exc.message, exc.fields)
        return Response(body, status=exc.status, headers=exc.headers)
    if isinstance(exc, Ratelimited):
        # django-ratelimit raises a PermissionDenied subclass (403): it is a 429 here.
        body = error_body("rate_limited", "Too many requests; retry later.")
        return Response(body, status=429, headers={"Retry-After": "60"})
    if isinstance(exc, DjangoValidationError):
        exc = drf_exceptions.ValidationError(as_serializer_error(exc))
    if isinstance(exc, Http404):
        exc = drf_exceptions.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        exc = drf_exceptions.PermissionDenied()

    if isinstance(exc, drf_exceptions.ValidationError):
        detail = exc.detail
        fields = detail if isinstance(detail, dict) else {"nonFieldErrors": detail}
        body = error_body("validation_error", "Validation error: check the listed fields.", fields)
        return Response(body, status=400)
    if isinstance(exc, drf_exceptions.APIException):
        code = _DRF_CODES.get(type(exc)) or next(
            (c for klass, c in _DRF_CODES.items() if isinstance(exc, klass)), "error"
        )
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None) is not None:
            headers["Retry-After"] = str(int(exc.wait) + 1)
        status = exc.status_code
        if isinstance(exc, (drf_exceptions.NotAuthenticated, drf_exceptions.AuthenticationFailed)):
            # SessionAuthentication has no WWW-Authenticate header, so DRF would answer 403.
            status = 401
        return Response(error_body(code, _message(exc.detail)), status=status, headers=headers)

    if is_backing_service_error(exc):
        logger.warning("Backing service unavailable in %s: %r",
                       context.get("view").__class__.__name__, exc)
        unavailable = ServiceUnavailable()
        return Response(error_body(unavailable.code, unavailable.message), status=503,
                        headers=unavailable.headers)
    logger.exception("Unhandled error in %s", context.get("view").__class__.__name__)
    return Response(error_body("server_error", "Internal server error."), status=500)


# Django's own error views (URLs outside DRF, bodies too large to parse): the envelope for the
# API and for machines, a plain page for people browsing the UI.
def error_response(request, status: int, code: str, message: str) -> HttpResponse:
    wants_page = not request.path.startswith(("/api/", "/ws/", "/metrics")) and "text/html" in (
        request.headers.get("Accept", "")
    )
    if wants_page:
        html = render_to_string("error.html", {"status": status, "message": message})
        return HttpResponse(html, status=status)
    return JsonResponse(error_body(code, message), status=status)


def bad_request(request, exception=None) -> HttpResponse:
    return error_response(request, 400, "bad_request", "Bad request.")


def permission_denied(request, exception=None) -> HttpResponse:
    return error_response(request, 403, "permission_denied",
                          "You do not have permission to do this.")


def csrf_failure(request, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: the envelope (403) instead of Django's HTML page on API paths."""
    return error_response(request, 403, "csrf_failed", "CSRF verification failed.")


def rate_limited(request, exception=None) -> HttpResponse:
    """RATELIMIT_VIEW: a Ratelimited raised outside DRF views answers 429, not 403."""
    response = error_response(request, 429, "rate_limited", "Too many requests; retry later.")
    response["Retry-After"] = "60"
    return response


def page_not_found(request, exception=None) -> HttpResponse:
    return error_response(request, 404, "not_found", "Not found.")


def server_error(request) -> HttpResponse:
    """handler500; a database/Redis outage outside DRF (middleware, pages) is a 503."""
    import sys

    if is_backing_service_error(sys.exc_info()[1]):
        unavailable = ServiceUnavailable()
        response = error_response(request, 503, unavailable.code, unavailable.message)
        response["Retry-After"] = unavailable.headers["Retry-After"]
        return response
    return error_response(request, 500, "server_error", "Internal server error.")
