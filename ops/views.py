"""The /metrics endpoint for Prometheus, behind a staff session or a bearer token."""

import hmac

from django.conf import settings
from django.http import HttpResponse, JsonResponse

from audotics.exceptions import error_body
from users.services import staff_two_factor_missing

from . import metrics


def _bearer(request) -> str:
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" else ""


def metrics_view(request):
    """Prometheus text format. Staff sessions always pass; with METRICS_TOKEN set, a scraper
    sends `Authorization: Bearer <token>` (401 otherwise); without it, non-staff get 404 so
    that the endpoint does not advertise itself."""
    user = getattr(request, "user", None)
    allowed = bool(user is not None and user.is_authenticated and user.is_staff
                   and not staff_two_factor_missing(user=user))
    token = settings.METRICS_TOKEN
    if not allowed and token:
        presented = _bearer(request)
        allowed = bool(presented) and hmac.compare_digest(presented.encode(), token.encode())
        if not allowed:
            response = JsonResponse(
                error_body("not_authenticated", "A valid metrics bearer token is required."),
                status=401,
            )
            response["WWW-Authenticate"] = 'Bearer realm="metrics"'
            return response
    if not allowed:
        return JsonResponse(error_body("not_found", "Not found."), status=404)
    body, content_type = metrics.render()
    return HttpResponse(body, content_type=content_type)
