from django.urls import path

from . import views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("signin", views.signin, name="signin"),
    path("signin/code", views.signin_code, name="signin-code"),
    path("signup", views.signup, name="signup"),
    path("signout", views.signout, name="signout"),
    path("password-reset", views.password_reset, name="password-reset"),
    path("password-reset/<str:uid>/<str:token>", views.password_reset_confirm,
         name="password-reset-confirm"),
    path("account", views.account, name="account"),
    path("account/email/confirm", views.account_email_confirm, name="account-email-confirm"),
    path("account/apps/<int:application_id>/revoke", views.account_app_revoke,
         name="account-app-revoke"),
    path("catalog", views.catalog, name="catalog"),
    path("catalog/results", views.catalog_results, name="catalog-results"),
    path("artists/<str:name>", views.artist, name="artist"),
    path("albums/<str:artist>/<str:album>", views.album, name="album"),
    path("tracks/<str:track_id>", views.track, name="track"),
    path("playlists", views.playlists, name="playlists"),
    path("playlists/join/<str:token>", views.playlist_join, name="playlist-join"),
    path("playlists/<str:playlist_id>", views.playlist, name="playlist"),
    path("discover", views.discover, name="discover"),
    path("library", views.library, name="library"),
    path("library/<str:section>", views.library, name="library-section"),
    path("staff/model", views.staff_model, name="staff-model"),
]
