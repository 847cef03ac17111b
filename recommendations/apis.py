"""Recommendation endpoints (SPEC.md §4 "Recommendations", issue 6).

Responses are built by the services as plain dicts (personal lists: as rendered bytes) already
shaped like each OutputSerializer; the OutputSerializers document the shape for the OpenAPI
schema. Re-serialising cached lists on every hit would cost more than the rest of the request.
"""
from django.http import HttpResponse
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.authentication import JWTStatelessUserAuthentication

from audotics.exceptions import ApplicationError
from audotics.pagination import PageNumberPagination
from playlists import rendering as track_rendering
from playlists.serializers import PlaylistContextSerializer, PlaylistSerializer, TrackSerializer
from users.oauth import ScopedOAuth2Authentication, token_scope_check

from . import services
from .models import Interaction


class ScoredTrackSerializer(serializers.Serializer):
    """`Track + {score, reason}`."""

    id = serializers.UUIDField()
    title = serializers.CharField()
    artist = serializers.CharField()
    album = serializers.CharField()
    duration_ms = serializers.IntegerField(allow_null=True)
    features = serializers.JSONField()
    metadata = serializers.JSONField()
    score = serializers.FloatField()
    reason = serializers.CharField()


class ContextOutSerializer(serializers.Serializer):
    mood = serializers.CharField(allow_null=True)
    activity = serializers.CharField(allow_null=True)
    time_of_day = serializers.CharField(allow_null=True)


class StatelessBearerScheme(SimpleJWTScheme):
    """The same bearer JWT in the schema; a name of its own, because drf-spectacular refuses two
    authentication classes under one component name."""

    target_class = "rest_framework_simplejwt.authentication.JWTStatelessUserAuthentication"
    name = "jwtBearer"
    priority = 1


def _flatten(errors) -> dict:
    return {k: [str(m) for m in (v if isinstance(v, list) else [v])] for k, v in errors.items()}


class InteractionCreateApi(APIView):
    """`POST /api/interactions`: one interaction or a list of up to 500 -> 202."""

    token_scope = "listens:write"
    permission_classes = [IsAuthenticated]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "InteractionCreateInput"

        # A client-made id (UUID) makes a resent report count once.
        id = serializers.UUIDField(required=False)
        track_id = serializers.CharField(max_length=64)
        type = serializers.ChoiceField(choices=Interaction.Type.values)
        context = serializers.DictField(required=False, allow_null=True)

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "InteractionCreateOutput"

        accepted = serializers.IntegerField()

    @extend_schema(request=InputSerializer(many=True), responses={202: OutputSerializer})
    def post(self, request):
        data = request.data
        items = data if isinstance(data, list) else [data]
        if len(items) > services.MAX_BATCH:
            raise ApplicationError(f"At most {services.MAX_BATCH} interactions per request.",
                                   code="too_large", status=413)
        clean, errors = [], {}
        for n, item in enumerate(items):
            ser = self.InputSerializer(data=item if isinstance(item, dict) else {})
            if not ser.is_valid():
                for field, msgs in _flatten(ser.errors).items():
                    prefix = f"item {n}: " if isinstance(data, list) else ""
                    errors.setdefault(field, []).extend(prefix + m for m in msgs)
            else:
                clean.append(ser.validated_data)
        if errors or not clean:
            raise ApplicationError("Validation error: check the listed fields.",
                                   code="validation_error",
                                   fields=errors or {"non_field_errors": ["no interactions"]})
        rows = services.interactions_record(user=request.user, items=clean)
        return Response(self.OutputSerializer({"accepted": len(rows)}).data,
                        status=status.HTTP_202_ACCEPTED)


class UserRecommendationListApi(APIView):
    """`GET /api/users/{userId}/recommendations`: the caller's own list (staff: anyone's).

    The hottest read of the product. A bearer token is trusted without loading the user row
    (simplejwt's stateless authentication; the service reads the row only to compute a list),
    and the answer is the service's pre-rendered bytes, not a Response to render.
    """

    token_scope = "recommendations:read"
    authentication_classes = [ScopedOAuth2Authentication, JWTStatelessUserAuthentication,
                              SessionAuthentication]
    permission_classes = [IsAuthenticated]

    class FilterSerializer(serializers.Serializer):
        limit = serializers.IntegerField(min_value=1, max_value=100, default=20)
        mood = serializers.CharField(required=False, allow_blank=True, max_length=50)
        activity = serializers.CharField(required=False, allow_blank=True, max_length=50)
        time_of_day = serializers.CharField(required=False, allow_blank=True, max_length=50)
        playlist_id = serializers.CharField(required=False, allow_blank=True, max_length=64)
        diversity = serializers.BooleanField(required=False, default=True)

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "UserRecommendationListOutput"

        tracks = ScoredTrackSerializer(many=True)
        context = ContextOutSerializer()
        model_version = serializers.CharField(allow_null=True)
        source = serializers.CharField()

    @extend_schema(parameters=[FilterSerializer], responses=OutputSerializer)
    def get(self, request, user_id: str):
        q = request.query_params
        if not q:  # the default list (nearly every request): nothing to validate
            return HttpResponse(services.recommendation_list_for_user(
                viewer=request.user, user_id=user_id), content_type="application/json")
        raw = {"limit": q.get("limit", 20), "mood": q.get("mood", ""),
               "activity": q.get("activity", ""),
               "time_of_day": q.get("timeOfDay", q.get("time_of_day", "")),
               "playlist_id": q.get("playlistId", q.get("playlist_id", "")),
               "diversity": q.get("diversity", "true")}
        filters = self.FilterSerializer(data=raw)
        filters.is_valid(raise_exception=True)
        f = filters.validated_data
        body = services.recommendation_list_for_user(
            viewer=request.user, user_id=user_id, limit=f["limit"],
            context={"mood": f.get("mood"), "activity": f.get("activity"),
                     "timeOfDay": f.get("time_of_day")},
            playlist_id=f.get("playlist_id") or None, diversity=f["diversity"])
        return HttpResponse(body, content_type="application/json")


class PlaylistGenerateApi(APIView):
    """`POST /api/playlists/generate`: a playlist for a context, optionally saved."""

    token_scope = "recommendations:read"
    permission_classes = [IsAuthenticated]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "PlaylistGenerateInput"

        context = serializers.DictField(required=False, allow_null=True)
        length = serializers.IntegerField(min_value=1, max_value=100, default=20)
        seed_track_ids = serializers.ListField(child=serializers.CharField(max_length=64),
                                               required=False, max_length=100)
        save = serializers.BooleanField(default=False)
        name = serializers.CharField(required=False, allow_blank=True, max_length=200)

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "PlaylistGenerateOutput"

        tracks = ScoredTrackSerializer(many=True)
        context = ContextOutSerializer()
        model_version = serializers.CharField(allow_null=True)
        playlist = PlaylistSerializer(required=False)

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer,
                                                       201: OutputSerializer},
                   description="201 when `save` is true. `context` is a PlaylistContext: "
                   + ", ".join(PlaylistContextSerializer().fields))
    def post(self, request):
        ser = self.InputSerializer(data=request.data if isinstance(request.data, dict) else {})
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        if d["save"]:
            token_scope_check(request, "playlists:write")  # saving makes a playlist
        result = services.playlist_generate(
            user=request.user, context=d.get("context"), length=d["length"],
            seed_track_ids=d.get("seed_track_ids"), save=d["save"], name=d.get("name") or None)
        return HttpResponse(services.playlist_generate_render(result),
                            content_type="application/json",
                            status=status.HTTP_201_CREATED if d["save"] else 200)


class PlaylistRecommendationListApi(APIView):
    """`GET /api/playlists/{id}/recommendations`: continue a playlist, balanced for groups."""

    token_scope = "recommendations:read"
    permission_classes = [IsAuthenticated]

    class FilterSerializer(serializers.Serializer):
        limit = serializers.IntegerField(min_value=1, max_value=100, default=20)

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "PlaylistRecommendationListOutput"

        class MemberSerializer(serializers.Serializer):
            class Meta:
                ref_name = "PlaylistRecommendationMember"

            user_id = serializers.UUIDField()
            username = serializers.CharField()
            taste_match = serializers.IntegerField(min_value=0, max_value=100)

        tracks = ScoredTrackSerializer(many=True)
        members = MemberSerializer(many=True)
        strategy = serializers.CharField()
        model_version = serializers.CharField(allow_null=True)

    @extend_schema(parameters=[FilterSerializer], responses=OutputSerializer)
    def get(self, request, playlist_id: str):
        filters = self.FilterSerializer(data={"limit": request.query_params.get("limit", 20)})
        filters.is_valid(raise_exception=True)
        return Response(services.playlist_recommendations(
            playlist_id=playlist_id, user=request.user, limit=filters.validated_data["limit"]))


class LikeListApi(APIView):
    """`GET /api/users/me/likes`: the caller's liked tracks, the latest like first, paginated;
    `?trackIds=a,b,...` keeps only those (how a page learns which of its tracks are liked)."""

    token_scope = "recommendations:read"
    permission_classes = [IsAuthenticated]
    pagination_class = PageNumberPagination

    class FilterSerializer(serializers.Serializer):
        track_ids = serializers.CharField(required=False, max_length=100 * 40)

    @extend_schema(parameters=[FilterSerializer], responses=TrackSerializer(many=True))
    def get(self, request):
        raw = request.query_params.get("trackIds", request.query_params.get("track_ids"))
        filters = self.FilterSerializer(data={} if raw is None else {"track_ids": raw})
        filters.is_valid(raise_exception=True)
        wanted = filters.validated_data.get("track_ids")
        rows = services.likes_list(
            user=request.user,
            track_ids=None if wanted is None else [t for t in wanted.split(",") if t][:100])
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        body = track_rendering.page_bytes(
            count=paginator.page.paginator.count, next_url=paginator.get_next_link(),
            previous_url=paginator.get_previous_link(),
            results=[track_rendering.track_bytes(t) for t in services.likes_tracks(page)])
        return HttpResponse(body, content_type="application/json")


class LikeDeleteApi(APIView):
    """`DELETE /api/users/me/likes/{trackId}`: unlike (204, also when it was not liked)."""

    token_scope = "listens:write"
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={204: None})
    def delete(self, request, track_id: str):
        services.like_remove(user=request.user, track_id=track_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class DislikeDeleteApi(APIView):
    """`DELETE /api/users/me/dislikes/{trackId}`: take a dislike back (204, also when there was
    none)."""

    token_scope = "listens:write"
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={204: None})
    def delete(self, request, track_id: str):
        services.dislike_remove(user=request.user, track_id=track_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
