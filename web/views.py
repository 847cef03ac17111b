"""Server-rendered pages. Thin: they call account services and selectors; the pages' live parts
talk to the REST API and the playlist WebSocket from static/js/."""
from __future__ import annotations

import contextlib

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from audotics.exceptions import ApplicationError
from listening import services as listening_services
from playlists import browse
from playlists import selectors as playlist_selectors
from playlists import services as playlist_services
from playlists.serializers import PlaylistSerializer
from playlists.share_tokens import share_url
from recommendations.services import context_vocabulary
from users import ratelimit
from users import services as user_services
from users.services import oauth_apps

from . import selectors


def _next_url(request, default: str = "/playlists") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    # A path on this site only: redirect() would read anything else ("not-a-url") as a view name.
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _error_page(request, template: str, context: dict, exc: ApplicationError):
    """A form page showing a refusal with its status and headers (a 429's Retry-After)."""
    response = render(request, template, context, status=exc.status)
    for name, value in exc.headers.items():
        response[name] = value
    return response


def home(request):
    return render(request, "home.html")


@require_http_methods(["GET", "POST"])
def signin(request):
    if request.user.is_authenticated and request.method == "GET":
        return redirect(_next_url(request))
    context = {"next": _next_url(request, ""), "username": ""}
    if request.method == "POST":
        username = request.POST.get("username", "")[:254]
        password = request.POST.get("password", "")[:4096]
        context["username"] = username
        try:
            user = user_services.session_login_start(request, username=username, password=password)
        except ApplicationError as exc:
            context["error"] = exc.message
            return _error_page(request, "web/signin.html", context, exc)
        if user is None:
            code_url = "/signin/code"
            if context["next"]:
                code_url += "?next=" + context["next"]
            return redirect(code_url)
        return redirect(_next_url(request))
    return render(request, "web/signin.html", context)


@require_http_methods(["GET", "POST"])
def signin_code(request):
    if not user_services.session_login_pending(request):
        return redirect("web:signin")
    context = {"next": _next_url(request, "")}
    if request.method == "POST":
        try:
            user_services.session_login_finish(request, otp=request.POST.get("otp", "")[:16])
        except ApplicationError as exc:
            if exc.code == "login_expired":
                return redirect("web:signin")
            context["error"] = exc.message
            return _error_page(request, "web/signin_code.html", context, exc)
        return redirect(_next_url(request))
    return render(request, "web/signin_code.html", context)


@require_http_methods(["GET", "POST"])
def signup(request):
    context: dict = {"values": {}, "errors": {}}
    if request.method == "POST":
        values = {k: request.POST.get(k, "")[:4096] for k in ("username", "email", "password")}
        context["values"] = {"username": values["username"], "email": values["email"]}
        try:
            ratelimit.signup_check(request)
            user_services.user_create(**values)
            user_services.session_login(request, values["username"], values["password"])
        except ValidationError as exc:
            errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
            context["errors"] = {("general" if k == "__all__" else k): v for k, v in errors.items()}
            return render(request, "web/signup.html", context, status=400)
        except ApplicationError as exc:
            context["errors"] = exc.fields or {"general": [exc.message]}
            return _error_page(request, "web/signup.html", context, exc)
        return redirect("web:account")
    return render(request, "web/signup.html", context)


@require_http_methods(["GET", "POST"])
def password_reset(request):
    if request.method == "POST":
        try:
            ratelimit.password_reset_check(request)
            user_services.password_reset_request(email=request.POST.get("email", "")[:254],
                                                 site_url=request.build_absolute_uri("/"))
        except ApplicationError as exc:
            return _error_page(request, "web/password_reset.html", {"error": exc.message}, exc)
        return render(request, "web/password_reset.html", {"sent": True})
    return render(request, "web/password_reset.html", {})


@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def password_reset_confirm(request, uid: str, token: str):
    try:
        user_services.password_reset_user(uid=uid, token=token)
    except ApplicationError:
        return render(request, "web/password_reset.html", {"link_bad": True}, status=400)
    if request.method == "POST":
        try:
            user_services.password_reset_confirm(uid=uid, token=token,
                                                 password=request.POST.get("password", "")[:4096])
        except ApplicationError as exc:
            errors = (exc.fields or {}).get("password") or [exc.message]
            return _error_page(request, "web/password_reset.html",
                               {"link_ok": True, "error": " ".join(errors)}, exc)
        return redirect(reverse("web:signin") + "?reset=1")
    return render(request, "web/password_reset.html", {"link_ok": True})


@require_POST
def signout(request):
    user_services.session_logout(request)
    return redirect("web:signin")


@login_required
def account(request):
    prefs = request.user.preferences or {}
    return render(request, "web/account.html", {
        "prefs": prefs,
        "genres": selectors.genre_list(),
        "moods": context_vocabulary()["mood"],  # the moods recommendations understand
        "two_factor": user_services.two_factor_enabled(user=request.user),
        # Sent here by the admin or a staff page that needs 2FA first.
        "two_factor_needed": request.GET.get("need") == "two_factor",
        "listen_tokens": listening_services.listen_token_list(user=request.user),
        "connected_apps": oauth_apps.connected_apps(user=request.user),
        "sign_ins": user_services.sessions_list(user=request.user, request=request),
        "site_url": request.build_absolute_uri("/").rstrip("/"),
    })


@require_http_methods(["GET", "POST"])
def account_email_confirm(request):
    # A button rather than the link itself: mail scanners that open links change nothing.
    token = (request.POST.get("token") or request.GET.get("token") or "")[:1000]
    if request.method == "POST":
        try:
            user_services.email_change_confirm(token=token)
        except ApplicationError as exc:
            return _error_page(request, "web/email_confirm.html", {"error": exc.message}, exc)
        return redirect(reverse("web:account") + "?email=changed")
    return render(request, "web/email_confirm.html", {"token": token})


@login_required
@require_POST
def account_app_revoke(request, application_id: int):
    # Already disconnected (a second click, another tab): the page shows the truth anyway.
    with contextlib.suppress(ApplicationError):
        oauth_apps.connected_app_revoke(user=request.user, application_id=application_id)
    return redirect(reverse("web:account") + "#apps")


def _catalog_results(request) -> dict:
    return selectors.catalog_page(
        q=request.GET.get("q", "")[:settings.CATALOG_SEARCH_MAX_LENGTH],
        genre=request.GET.get("genre", "")[:64],
        playable=request.GET.get("playable") == "true",
        page=request.GET.get("page", "")[:12])


def catalog(request):
    # The search lives in the URL (?q=&genre=&playable=&page=): Back, reloads and shared links
    # show the same results.
    return render(request, "web/catalog.html", {
        "genres": selectors.genre_list(), **_catalog_results(request)})


def catalog_results(request):
    """Just the results (static/js/catalog.js swaps them in while the listener types)."""
    return render(request, "web/_catalog_results.html", _catalog_results(request))


def artist(request, name: str):
    try:
        item = browse.artist_get(name=name)
    except Http404:
        return render(request, "web/not_found.html", {"what": "artist", "query": name},
                      status=404)
    return render(request, "web/artist.html", {"artist": item})


def album(request, artist: str, album: str):
    try:
        item = browse.album_get(artist=artist, album=album)
    except Http404:
        return render(request, "web/not_found.html", {"what": "album", "query": album},
                      status=404)
    return render(request, "web/album.html", {"album": item})


def track(request, track_id):
    try:
        track = playlist_selectors.track_get(track_id=track_id)
    except Http404:
        return render(request, "web/not_found.html", {"what": "track"}, status=404)
    features = track.features or {}
    return render(request, "web/track.html", {
        "track": track,
        "bars": selectors.track_feature_bars(features=features),
        "facts": selectors.track_musical_facts(features=features),
        "genre": track.genre,
        "release_year": (track.metadata or {}).get("release_year"),
        "explicit": bool((track.metadata or {}).get("explicit")),
    })


@login_required
def playlists(request):
    own, shared = selectors.playlist_cards(user=request.user)
    return render(request, "web/playlists.html", {"own": own, "shared": shared})


@login_required
def playlist(request, playlist_id):
    try:
        item = playlist_selectors.playlist_get(playlist_id=playlist_id, user=request.user)
    except Http404:
        return render(request, "web/not_found.html", {"what": "playlist"}, status=404)
    data = PlaylistSerializer(item).data
    from djangorestframework_camel_case.util import camelize

    is_owner = item.owner_id == request.user.pk
    link = playlist_selectors.share_link_live(playlist=item) if is_owner else None
    vocab = context_vocabulary()
    context = item.context or {}
    return render(request, "web/playlist.html", {
        "playlist": item,
        "initial": camelize(data),
        "cover": playlist_selectors.playlist_cover_track_ids(
            tracks=[entry.track for entry in item.entries.all()]),
        "is_owner": is_owner,
        "me": {"id": str(request.user.pk), "username": request.user.username},
        # The owner's page shows the live share link; the token is only ever shown to them.
        "share": {"url": share_url(request, link.pk)} if link else None,
        # The one vocabulary recommendations understand; a value set before it changed stays
        # selectable rather than silently dropped.
        "moods": _with_current(vocab["mood"], context.get("mood")),
        "activities": _with_current(vocab["activity"], context.get("activity")),
    })


def _with_current(options, current) -> list[str]:
    return [*options, current] if current and current not in options else list(options)


@login_required
@require_http_methods(["GET", "POST"])
def playlist_join(request, token: str):
    """A share link's page: who invites you to which playlist, and a button to join it."""
    link = playlist_selectors.share_link_preview(token=token)
    if link is None:
        return render(request, "web/playlist_join.html", {"invalid": True}, status=404)
    playlist = link.playlist
    if request.method == "POST":
        try:
            playlist, _ = playlist_services.share_link_join(token=token, user=request.user)
        except ApplicationError as exc:
            return _error_page(request, "web/playlist_join.html", {"invalid": True}, exc)
        return redirect("web:playlist", playlist_id=playlist.pk)
    return render(request, "web/playlist_join.html", {
        "playlist": playlist,
        "track_count": playlist.entries.count(),
        "member": playlist_selectors.playlist_is_member(playlist_id=playlist.pk,
                                                        user=request.user),
    })


@login_required
def discover(request):
    # The options are the vocabulary the recommendation API validates against, and only it.
    vocab = context_vocabulary()
    return render(request, "web/discover.html", {
        "moods": vocab["mood"], "activities": vocab["activity"], "times": vocab["time_of_day"],
        "me": {"id": str(request.user.pk), "username": request.user.username},
    })


LIBRARY_SECTIONS = ("likes", "history", "imports", "music")


@login_required
def library(request, section: str = "likes"):
    if section not in LIBRARY_SECTIONS:
        return render(request, "web/not_found.html", {"what": "page"}, status=404)
    return render(request, "web/library.html", {
        "section": section, "sections": LIBRARY_SECTIONS,
        **selectors.library_page(user=request.user, section=section,
                                 page=request.GET.get("page")),
    })


@login_required
def staff_model(request):
    if not request.user.is_staff:
        return render(request, "web/forbidden.html", status=403)
    if user_services.staff_two_factor_missing(user=request.user):
        return redirect(reverse("web:account") + "?need=two_factor#tfa")
    active, recent, available = selectors.model_versions()
    return render(request, "web/staff_model.html", {
        "active": active,
        "recent": recent,
        "available": available,
        "training": selectors.training_progress(recent=recent),
        "bars": selectors.metric_bars(metrics=active.metrics) if active else [],
    })
