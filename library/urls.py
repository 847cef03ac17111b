from django.urls import path

from . import apis

app_name = "library"

urlpatterns = [
    path("library", apis.LibraryStatusApi.as_view(), name="status"),
    path("library/files", apis.LibraryFileUploadApi.as_view(), name="file-upload"),
    path("library/scans", apis.LibraryScanListApi.as_view(), name="scan-list"),
    path("tracks/<str:track_id>/stream", apis.TrackStreamApi.as_view(), name="track-stream"),
    path("tracks/<str:track_id>/cover", apis.TrackCoverApi.as_view(), name="track-cover"),
]
