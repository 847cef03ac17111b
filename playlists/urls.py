from django.urls import path

from . import apis, sharing_apis

app_name = "playlists"

urlpatterns = [
    path("tracks", apis.TrackListApi.as_view(), name="track-list"),
    path("tracks/<str:track_id>", apis.TrackDetailApi.as_view(), name="track-detail"),
    path("playlists", apis.PlaylistListApi.as_view(), name="list"),
    path("playlists/<uuid:playlist_id>", apis.PlaylistDetailApi.as_view(), name="detail"),
    path("playlists/<uuid:playlist_id>/tracks", apis.PlaylistTracksApi.as_view(), name="tracks"),
    path(
        "playlists/<uuid:playlist_id>/tracks/move",
        apis.PlaylistTrackMoveApi.as_view(),
        name="track-move",
    ),
    path(
        "playlists/<uuid:playlist_id>/collaborators",
        apis.PlaylistCollaboratorAddApi.as_view(),
        name="collaborator-add",
    ),
    path(
        "playlists/<uuid:playlist_id>/collaborators/<uuid:user_id>",
        apis.PlaylistCollaboratorRemoveApi.as_view(),
        name="collaborator-remove",
    ),
    path("playlists/<uuid:playlist_id>/export", apis.PlaylistExportApi.as_view(), name="export"),
    path(
        "playlists/<uuid:playlist_id>/share-link",
        sharing_apis.PlaylistShareLinkApi.as_view(),
        name="share-link",
    ),
    path("playlists/join", sharing_apis.PlaylistJoinApi.as_view(), name="join"),
]
