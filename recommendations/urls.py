from django.urls import path

from . import apis

app_name = "recommendations"

# Included before playlists.urls: "playlists/generate" must not be read as a playlist id.
urlpatterns = [
    path("interactions", apis.InteractionCreateApi.as_view(), name="interaction-create"),
    path("users/me/likes", apis.LikeListApi.as_view(), name="like-list"),
    path("users/me/likes/<str:track_id>", apis.LikeDeleteApi.as_view(), name="like-delete"),
    path("users/me/dislikes/<str:track_id>", apis.DislikeDeleteApi.as_view(),
         name="dislike-delete"),
    path("users/<str:user_id>/recommendations", apis.UserRecommendationListApi.as_view(),
         name="user-list"),
    path("playlists/generate", apis.PlaylistGenerateApi.as_view(), name="generate"),
    path("playlists/<str:playlist_id>/recommendations",
         apis.PlaylistRecommendationListApi.as_view(), name="playlist-list"),
]
