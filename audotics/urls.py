"""URL wiring: the REST API under /api/, operations endpoints, admin and the browser UI."""
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import exceptions, health

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", health.healthz, name="healthz"),
    # OAuth 2.0 for other applications: authorize (consent), token, revoke, introspect.
    path("o/", include("users.oauth_urls")),
    path("readyz", health.readyz, name="readyz"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file: no inline script (CSP).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="docs"),
    # Before playlists.urls: "playlists/generate" is not a playlist id.
    path("api/", include("recommendations.urls")),
    path("api/", include("playlists.urls")),
    path("api/", include("users.urls")),
    path("api/", include("listening.urls")),
    path("api/", include("library.urls")),
    # Unknown API paths answer 404 with the JSON envelope even in DEBUG, whatever the method
    # (exempt from CSRF, which would have answered a POST with 403 csrf_failed first).
    re_path(r"^api/", csrf_exempt(exceptions.page_not_found)),
    # ListenBrainz-compatible scrobbling (its own paths and error shape, not the API's).
    path("1/", include("listening.listenbrainz_urls")),
    # Prometheus metrics (ops/): before the browser UI's catch-all pages.
    path("", include("ops.urls")),
    # The browser UI: server-rendered pages (web/) over static/js/.
    path("", include("web.urls")),
]

handler400 = "audotics.exceptions.bad_request"
handler403 = "audotics.exceptions.permission_denied"
handler404 = "audotics.exceptions.page_not_found"
handler500 = "audotics.exceptions.server_error"
