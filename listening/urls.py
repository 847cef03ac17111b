from django.urls import path

from . import apis

app_name = "listening"

urlpatterns = [
    path("users/me/listen-tokens", apis.ListenTokenListCreateApi.as_view(), name="token-list"),
    path("users/me/listen-tokens/<str:token_id>", apis.ListenTokenDeleteApi.as_view(),
         name="token-delete"),
    path("users/me/listens", apis.ListenListApi.as_view(), name="list"),
    path("imports", apis.ListenImportCreateApi.as_view(), name="import-create"),
    path("imports/<str:import_id>", apis.ListenImportDetailApi.as_view(), name="import-detail"),
]
