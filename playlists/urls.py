from django.urls import path

from . import apis

app_name = "playlists"

urlpatterns = [
    path("tracks", apis.TrackListApi.as_view(), name="track-list"),
    path("tracks/<str:track_id>", apis.TrackDetailApi.as_view(), name="track-detail"),
]
