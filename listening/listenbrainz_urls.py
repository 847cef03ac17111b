"""The ListenBrainz-compatible API at /1/ (outside /api/: clients expect ListenBrainz's paths)."""
from django.urls import path

from . import listenbrainz

app_name = "listenbrainz"

urlpatterns = [
    path("submit-listens", listenbrainz.submit_listens, name="submit-listens"),
    path("validate-token", listenbrainz.validate_token, name="validate-token"),
]
