"""With DEBUG off (the embedded default too) a crash shows the site's own page, no traceback."""
import pytest
from django.test import Client, override_settings
from django.urls import path

from audotics.urls import urlpatterns as site_urls


def _crash(request):
    raise RuntimeError("secret detail that must not reach the browser")


urlpatterns = [path("crash/", _crash), *site_urls]
handler404 = "audotics.exceptions.page_not_found"
handler500 = "audotics.exceptions.server_error"


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__, DEBUG=False)
def test_a_crash_shows_the_branded_error_page_not_django_debug(caplog):
    client = Client(raise_request_exception=False)
    page = client.get("/crash/", HTTP_ACCEPT="text/html")
    assert page.status_code == 500 and page["Content-Type"].startswith("text/html")
    body = page.content.decode()
    assert "500 · Audotics" in body and "Back to Audotics" in body
    assert "secret detail" not in body and "Traceback" not in body
    assert "secret detail" in caplog.text  # the log keeps what the page hides
