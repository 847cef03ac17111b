"""Library endpoints (SPEC.md §4 "Listening and library"): uploads, streams, covers, progress."""
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAdminUser, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from audotics.exceptions import ApplicationError
from playlists.serializers import TrackSerializer
from users.scopes import PUBLIC

from . import selectors, streaming, tags
from .models import LibraryScan
from .services import analyse, files


class LibraryFileUploadApi(APIView):
    """`POST /api/library/files`: one audio file into the library; analysis follows."""

    token_scope = "library:write"
    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "LibraryFileUploadInput"

        file = serializers.FileField(allow_empty_file=False)

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "LibraryFileUploaded"

        track = TrackSerializer()
        created = serializers.BooleanField()
        outcome = serializers.ChoiceField(choices=["created", "attached", "updated",
                                                   "unchanged"])

    @extend_schema(request={"multipart/form-data": InputSerializer},
                   responses={201: OutputSerializer})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            result = files.audio_file_upload(upload=data.validated_data["file"],
                                             user=request.user)
        except tags.UnreadableAudio as exc:
            raise ApplicationError(f"{exc} Nothing was stored.", code="unsupported_audio",
                                   fields={"file": [str(exc)]}) from None
        body = {"track": result.track, "created": result.created, "outcome": result.outcome}
        return Response(self.OutputSerializer(body).data, status=status.HTTP_201_CREATED)


class TrackStreamApi(APIView):
    """`GET /api/tracks/{id}/stream`: the audio, with Range requests (signed-in listeners)."""

    token_scope = PUBLIC
    permission_classes = [IsAuthenticated]
    # An <audio> element asks for many ranges while seeking; they are not API calls to meter.
    throttle_classes: list = []

    @extend_schema(responses={(200, "audio/*"): OpenApiTypes.BINARY,
                              (206, "audio/*"): OpenApiTypes.BINARY})
    def get(self, request, track_id: str):
        audio = selectors.audio_file_for_track(track_id=track_id)
        return streaming.file_response(request, path=audio.path_obj, mime=audio.mime,
                                       size=audio.path_obj.stat().st_size,
                                       etag=f'"{audio.content_hash}"')


class TrackCoverApi(APIView):
    """`GET /api/tracks/{id}/cover?size=small|large`: the cover art, as readable as the track."""

    token_scope = PUBLIC
    throttle_classes: list = []

    @extend_schema(parameters=[OpenApiParameter("size", enum=list(files.COVER_SIZES))],
                   responses={(200, "image/jpeg"): OpenApiTypes.BINARY})
    def get(self, request, track_id: str):
        size = request.query_params.get("size", "small")
        try:
            path = selectors.cover_file(track_id=track_id, size=size)
        except ValueError:
            raise ApplicationError(f"size must be one of: {', '.join(files.COVER_SIZES)}.",
                                   code="validation_error",
                                   fields={"size": ["small or large"]}) from None
        response = FileResponse(path.open("rb"), content_type="image/jpeg")
        response["Cache-Control"] = "public, max-age=3600"
        return response


class LibraryStatusApi(APIView):
    """`GET /api/library`: tracks with audio by analysis state (the upload page's progress)."""

    token_scope = PUBLIC
    permission_classes = [IsAuthenticated]

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "LibraryStatus"

        pending = serializers.IntegerField()
        done = serializers.IntegerField()
        failed = serializers.IntegerField()

    @extend_schema(responses=OutputSerializer)
    def get(self, request):
        return Response(self.OutputSerializer(analyse.analysis_status()).data)


class LibraryScanListApi(APIView):
    """`GET /api/library/scans`: the latest folder scans and what they refused (staff)."""

    token_scope = None
    permission_classes = [IsAdminUser]

    class OutputSerializer(serializers.ModelSerializer):
        class Meta:
            model = LibraryScan
            ref_name = "LibraryScan"
            fields = ["id", "root", "status", "files", "done", "created", "attached", "updated",
                      "unchanged", "missing", "ignored", "rejected", "rejected_total", "error",
                      "created_at", "finished_at"]

    @extend_schema(responses=OutputSerializer(many=True))
    def get(self, request):
        return Response(self.OutputSerializer(LibraryScan.objects.all()[:20], many=True).data)
