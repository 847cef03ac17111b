"""Listening endpoints under /api/ (SPEC.md §4 "Listening and library"): listen tokens, the
caller's listens (History) and history imports."""
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from audotics.pagination import PageNumberPagination
from playlists.serializers import TrackSerializer

from . import services
from .models import ListenImport


class ListenTokenListCreateApi(APIView):
    """`GET/POST /api/users/me/listen-tokens`: a scrobbler's token, its value shown once."""

    token_scope = None  # not for other applications (users/scopes.py)
    permission_classes = [IsAuthenticated]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ListenTokenCreateInput"

        name = serializers.CharField(max_length=100)

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ListenToken"

        id = serializers.UUIDField()
        name = serializers.CharField()
        created_at = serializers.DateTimeField()
        last_used_at = serializers.DateTimeField(allow_null=True)

    class CreatedSerializer(OutputSerializer):
        class Meta:
            ref_name = "ListenTokenCreated"

        token = serializers.CharField()
        last_used_at = None

    @extend_schema(responses=OutputSerializer(many=True))
    def get(self, request):
        tokens = services.listen_token_list(user=request.user)
        return Response(self.OutputSerializer(tokens, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: CreatedSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        token, value = services.listen_token_create(user=request.user, **data.validated_data)
        body = {"id": token.pk, "name": token.name, "token": value,
                "created_at": token.created_at}
        return Response(self.CreatedSerializer(body).data, status=status.HTTP_201_CREATED)


class ListenTokenDeleteApi(APIView):
    """`DELETE /api/users/me/listen-tokens/{id}`: revoke; it stops working at once."""

    token_scope = None  # not for other applications (users/scopes.py)
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={204: None})
    def delete(self, request, token_id: str):
        services.listen_token_revoke(user=request.user, token_id=token_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ListenListApi(APIView):
    """`GET /api/users/me/listens`: the caller's listens, newest first (never anyone else's)."""

    token_scope = None  # not for other applications (users/scopes.py)
    permission_classes = [IsAuthenticated]
    pagination_class = PageNumberPagination

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "Listen"

        track = TrackSerializer()
        listened_at = serializers.DateTimeField()
        kind = serializers.CharField()
        ms_played = serializers.IntegerField(allow_null=True)
        source = serializers.CharField()
        client = serializers.CharField()

    @extend_schema(responses=OutputSerializer(many=True))
    def get(self, request):
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(services.listens_list(user=request.user), request,
                                           view=self)
        return paginator.get_paginated_response(self.OutputSerializer(page, many=True).data)


class ImportSerializer(serializers.ModelSerializer):
    """`Import` of SPEC.md §4, plus `duplicates` (rows already stored), `matchRate`, `fileName`,
    `rejectedTotal`, `progress` {done, total} and `error`."""

    match_rate = serializers.FloatField(read_only=True, allow_null=True)

    class Meta:
        model = ListenImport
        fields = ["id", "format", "status", "file_name", "rows", "listens", "skips", "ignored",
                  "duplicates", "matched", "match_rate", "created", "rejected", "rejected_total",
                  "progress",
                  "error", "created_at", "finished_at"]
        read_only_fields = fields


class ListenImportCreateApi(APIView):
    """`POST /api/imports` (multipart `file`, `format`) -> 202 `Import`; `GET`: the caller's."""

    token_scope = "listens:write"
    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ImportCreateInput"

        file = serializers.FileField()
        format = serializers.ChoiceField(choices=ListenImport.Format.values)

    @extend_schema(request={"multipart/form-data": InputSerializer},
                   responses={202: ImportSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        job = services.listen_import_create(
            user=request.user, fmt=data.validated_data["format"], file_name=upload.name,
            chunks=upload.chunks())
        return Response(ImportSerializer(job).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses=ImportSerializer(many=True))
    def get(self, request):
        jobs = services.listen_import_list(user=request.user)
        return Response(ImportSerializer(jobs, many=True).data)


class ListenImportDetailApi(APIView):
    """`GET /api/imports/{id}`: status, counts, match rate inputs and rejected rows."""

    token_scope = "listens:write"
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=ImportSerializer)
    def get(self, request, import_id: str):
        job = services.listen_import_get(user=request.user, import_id=import_id)
        return Response(ImportSerializer(job).data)
