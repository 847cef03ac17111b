"""REST API: the catalog (/api/tracks) and playlists (/api/playlists, SPEC.md §4)."""
import json

from django.conf import settings
from django.db import transaction
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from audotics.exceptions import ApplicationError
from audotics.pagination import PageNumberPagination
from users.scopes import PUBLIC

from . import exports, rendering, selectors, services
from .models import DESCRIPTION_MAX_LENGTH
from .serializers import (
    CollaboratorSerializer,
    PlaylistChangeSerializer,
    PlaylistContextSerializer,
    PlaylistSerializer,
    TrackSerializer,
)


class TrackListApi(APIView):
    """Search and browse the catalog, most relevant first (playlists/search.py).

    `count` is exact up to 1,000 matches; past that it is 1,000, the `X-Count-Capped: true`
    header says so, and `next` links go on for as long as there are results.
    """

    token_scope = PUBLIC

    # Read by drf-spectacular: documents the {count, next, previous, results} envelope.
    pagination_class = PageNumberPagination

    class FilterSerializer(serializers.Serializer):
        q = serializers.CharField(required=False, allow_blank=True,
                                  max_length=settings.CATALOG_SEARCH_MAX_LENGTH)
        artist = serializers.CharField(required=False, allow_blank=True, max_length=300)
        genre = serializers.CharField(required=False, allow_blank=True, max_length=64)
        playable = serializers.BooleanField(required=False, default=False,
                                            help_text="only tracks with audio on this server")

    @extend_schema(parameters=[FilterSerializer], responses=TrackSerializer(many=True))
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        tracks = selectors.track_list(**filters.validated_data)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(tracks, request, view=self)
        body = rendering.page_bytes(
            count=paginator.page.paginator.count, next_url=paginator.get_next_link(),
            previous_url=paginator.get_previous_link(),
            results=[rendering.track_bytes(t) for t in page])
        response = HttpResponse(body, content_type="application/json")
        if tracks.count_capped:
            response["X-Count-Capped"] = "true"
        return response


class TrackDetailApi(APIView):
    """One track with its audio features."""

    token_scope = PUBLIC

    @extend_schema(responses=TrackSerializer)
    def get(self, request, track_id: str):
        return HttpResponse(rendering.track_bytes(selectors.track_get(track_id=track_id)),
                            content_type="application/json")


# ---------------------------------------------------------------------------- playlists
#
# One view per path of SPEC.md §4; each method is one operation with its own serializers.
# Writes read their answer inside the write's transaction, so the `version` and `tracks` of a
# response always describe the same state (the broadcast still waits for the commit).


# Playlists are answered as bytes from playlists.rendering (the same JSON as PlaylistSerializer
# through the camelCase renderer, several times faster); PlaylistSerializer documents them.


def _playlist_response(playlist, status: int = 200) -> HttpResponse:
    return HttpResponse(rendering.playlist_bytes(playlist), status=status,
                        content_type="application/json")


def _write(request, playlist_id, operation) -> HttpResponse:
    """A metadata write, answered with the whole playlist (name, context, people)."""
    with transaction.atomic():
        operation()
        # Fetched (with its prefetches) under the row lock, rendered after releasing it.
        playlist = selectors.playlist_get(playlist_id=playlist_id, user=request.user)
    return _playlist_response(playlist)


def _change(operation) -> HttpResponse:
    """A track write, answered with what changed (SPEC `PlaylistChange`): the new version and
    the affected entries, the same `data` the socket event carries -- never the whole list,
    so an add to a 10,000-track playlist answers as fast as one to an empty playlist."""
    return HttpResponse(rendering.change_bytes(operation()), content_type="application/json")


def _check_id_count(data, key: str = "track_ids") -> None:
    """413 before per-item validation when a request carries too many ids."""
    ids = data.get(key) if isinstance(data, dict) else None
    if isinstance(ids, list) and len(ids) > services.MAX_IDS_PER_REQUEST:
        raise ApplicationError(
            f"At most {services.MAX_IDS_PER_REQUEST} track ids per request.",
            code="too_large",
            status=413,
        )


def _context(validated: dict) -> dict | None:
    if "context" not in validated:
        return None
    return {k: v for k, v in (validated["context"] or {}).items() if v is not None}


class PlaylistListApi(APIView):
    """GET: the caller's own and collaborative playlists. POST: create a playlist."""

    token_scope = "playlists"
    pagination_class = PageNumberPagination  # for the schema, as TrackListApi

    permission_classes = [IsAuthenticated]

    class CreateInputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "PlaylistCreateInput"

        name = serializers.CharField(max_length=200)
        description = serializers.CharField(max_length=DESCRIPTION_MAX_LENGTH, required=False,
                                            allow_blank=True, default="")
        is_collaborative = serializers.BooleanField(required=False, default=False)
        context = PlaylistContextSerializer(required=False, allow_null=True)

    @extend_schema(operation_id="playlist_list", responses=PlaylistSerializer(many=True))
    def get(self, request):
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(
            selectors.playlist_list(user=request.user, details=False), request, view=self)
        ids = [p.pk for p in page]
        results = rendering.playlists_bytes(page, selectors.playlist_entry_rows(ids),
                                            selectors.playlist_collaborator_rows(ids))
        body = rendering.page_bytes(
            count=paginator.page.paginator.count, next_url=paginator.get_next_link(),
            previous_url=paginator.get_previous_link(), results=results)
        return HttpResponse(body, content_type="application/json")

    @extend_schema(operation_id="playlist_create", request=CreateInputSerializer,
                   responses={201: PlaylistSerializer})
    def post(self, request):
        data = self.CreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with transaction.atomic():
            playlist = services.playlist_create(
                owner=request.user,
                name=data.validated_data["name"],
                description=data.validated_data["description"],
                is_collaborative=data.validated_data["is_collaborative"],
                context=_context(data.validated_data),
            )
            created = selectors.playlist_get(playlist_id=playlist.pk, user=request.user)
        return _playlist_response(created, status=201)


class PlaylistDetailApi(APIView):
    """GET one playlist; PATCH name, description, isCollaborative, context (owner); DELETE it
    (owner)."""

    token_scope = "playlists"
    permission_classes = [IsAuthenticated]

    class UpdateInputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "PlaylistUpdateInput"

        name = serializers.CharField(max_length=200, required=False)
        description = serializers.CharField(max_length=DESCRIPTION_MAX_LENGTH, required=False,
                                            allow_blank=True)
        is_collaborative = serializers.BooleanField(required=False)
        context = PlaylistContextSerializer(required=False, allow_null=True)
        expected_version = serializers.IntegerField(min_value=0, required=False)

    @extend_schema(operation_id="playlist_detail", responses=PlaylistSerializer)
    def get(self, request, playlist_id: str):
        return _playlist_response(
            selectors.playlist_get(playlist_id=playlist_id, user=request.user))

    @extend_schema(operation_id="playlist_update", request=UpdateInputSerializer,
                   responses=PlaylistSerializer)
    def patch(self, request, playlist_id: str):
        data = self.UpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        context = _context(values)
        if "context" in values and context is None:
            context = {}
        return _write(request, playlist_id, lambda: services.playlist_update(
            playlist=playlist_id,
            user=request.user,
            name=values.get("name"),
            description=values.get("description"),
            is_collaborative=values.get("is_collaborative"),
            context=context,
            expected_version=values.get("expected_version"),
        ))

    @extend_schema(operation_id="playlist_delete", responses={204: None})
    def delete(self, request, playlist_id: str):
        services.playlist_delete(playlist=playlist_id, user=request.user)
        return Response(status=204)


class PlaylistTracksApi(APIView):
    """PUT: insert tracks at a position (default: end). DELETE: remove tracks."""

    token_scope = "playlists"
    permission_classes = [IsAuthenticated]

    class AddInputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "PlaylistTracksAddInput"

        track_ids = serializers.ListField(child=serializers.UUIDField(), allow_empty=False)
        position = serializers.IntegerField(min_value=0, required=False, allow_null=True)
        expected_version = serializers.IntegerField(min_value=0, required=False, allow_null=True)

    class RemoveInputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "PlaylistTracksRemoveInput"

        track_ids = serializers.ListField(child=serializers.UUIDField(), allow_empty=False)
        expected_version = serializers.IntegerField(min_value=0, required=False, allow_null=True)

    @extend_schema(operation_id="playlist_tracks_add", request=AddInputSerializer,
                   responses=PlaylistChangeSerializer)
    def put(self, request, playlist_id: str):
        _check_id_count(request.data)
        data = self.AddInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        return _change(lambda: services.playlist_tracks_add(
            playlist=playlist_id,
            user=request.user,
            track_ids=values["track_ids"],
            position=values.get("position"),
            expected_version=values.get("expected_version"),
        ))

    @extend_schema(operation_id="playlist_tracks_remove", request=RemoveInputSerializer,
                   responses=PlaylistChangeSerializer)
    def delete(self, request, playlist_id: str):
        _check_id_count(request.data)
        data = self.RemoveInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        return _change(lambda: services.playlist_tracks_remove(
            playlist=playlist_id,
            user=request.user,
            track_ids=values["track_ids"],
            expected_version=values.get("expected_version"),
        ))


class PlaylistTrackMoveApi(APIView):
    """Move one track to a new position."""

    token_scope = "playlists"
    permission_classes = [IsAuthenticated]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "PlaylistTrackMoveInput"

        track_id = serializers.UUIDField()
        position = serializers.IntegerField(min_value=0)
        expected_version = serializers.IntegerField(min_value=0, required=False, allow_null=True)

    @extend_schema(operation_id="playlist_track_move", request=InputSerializer,
                   responses=PlaylistChangeSerializer)
    def post(self, request, playlist_id: str):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        return _change(lambda: services.playlist_track_move(
            playlist=playlist_id,
            user=request.user,
            track_id=values["track_id"],
            position=values["position"],
            expected_version=values.get("expected_version"),
        ))


class PlaylistCollaboratorAddApi(APIView):
    """Invite a user, by username, to a collaborative playlist (owner only)."""

    token_scope = "playlists"
    permission_classes = [IsAuthenticated]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "PlaylistCollaboratorAddInput"

        username = serializers.CharField(max_length=150)

    @extend_schema(operation_id="playlist_collaborator_add", request=InputSerializer,
                   responses={201: CollaboratorSerializer})
    def post(self, request, playlist_id: str):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        collaborator = services.playlist_collaborator_add(
            playlist=playlist_id, user=request.user, username=data.validated_data["username"]
        )
        return Response(CollaboratorSerializer(collaborator).data, status=201)


class PlaylistCollaboratorRemoveApi(APIView):
    """Remove a collaborator (owner; a collaborator may also remove themselves)."""

    token_scope = "playlists"
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="playlist_collaborator_remove", responses={204: None})
    def delete(self, request, playlist_id: str, user_id: str):
        services.playlist_collaborator_remove(
            playlist=playlist_id, user=request.user, collaborator_id=user_id
        )
        return Response(status=204)


class PlaylistExportApi(APIView):
    """The playlist as JSPF (JSON) or extended M3U, as a download."""

    token_scope = "playlists"
    permission_classes = [IsAuthenticated]

    class FilterSerializer(serializers.Serializer):
        format = serializers.ChoiceField(choices=["jspf", "m3u"], required=False, default="jspf")

    def perform_content_negotiation(self, request, force=False):
        # `?format=` names the export format here, not a DRF renderer: always answer JSON
        # (errors) or the file built below.
        renderer = self.get_renderers()[0]
        return renderer, renderer.media_type

    @extend_schema(
        operation_id="playlist_export",
        parameters=[FilterSerializer],
        responses={(200, "application/jspf+json"): OpenApiTypes.OBJECT,
                   (200, "audio/x-mpegurl"): OpenApiTypes.STR},
    )
    def get(self, request, playlist_id: str):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        playlist = selectors.playlist_get(playlist_id=playlist_id, user=request.user)
        stem = exports.playlist_file_stem(playlist)
        if filters.validated_data["format"] == "m3u":
            response = HttpResponse(exports.playlist_m3u(playlist=playlist),
                                    content_type="audio/x-mpegurl; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="{stem}.m3u"'
            return response
        response = HttpResponse(json.dumps(exports.playlist_jspf(playlist=playlist),
                                           ensure_ascii=False),
                                content_type="application/jspf+json")
        response["Content-Disposition"] = f'attachment; filename="{stem}.jspf"'
        return response
