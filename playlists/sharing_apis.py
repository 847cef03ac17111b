"""REST API for sharing a playlist by link: the owner's link (create, show, revoke) and joining
through it. Collaborators by username stay in apis.py with the other SPEC.md §4 paths."""
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from audotics.exceptions import ApplicationError

from . import selectors, services
from .serializers import ShareLinkSerializer
from .share_tokens import MAX_TOKEN_LENGTH, share_token, share_url


def _owned(request, playlist_id):
    """The playlist, if the caller owns it: 404 for strangers (no leak), 403 for members."""
    playlist = selectors.playlist_get(playlist_id=playlist_id, user=request.user)
    if playlist.owner_id != request.user.pk:
        raise ApplicationError("Only the owner may do this.", code="permission_denied",
                               status=403)
    return playlist


def _link_body(request, link) -> dict:
    return {"token": share_token(link.pk), "url": share_url(request, link.pk),
            "created_at": link.created_at, "joined_count": link.joined_count}


class PlaylistShareLinkApi(APIView):
    """GET the playlist's live share link; POST: make one (or get the live one); DELETE: revoke
    it. Owner only, collaborative playlists only."""

    token_scope = "playlists"
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="playlist_share_link_detail", responses=ShareLinkSerializer)
    def get(self, request, playlist_id: str):
        link = selectors.share_link_live(playlist=_owned(request, playlist_id))
        if link is None:
            raise ApplicationError("This playlist has no share link.", code="not_found",
                                   status=404)
        return Response(ShareLinkSerializer(_link_body(request, link)).data)

    @extend_schema(operation_id="playlist_share_link_create", request=None,
                   responses={201: ShareLinkSerializer, 200: ShareLinkSerializer})
    def post(self, request, playlist_id: str):
        link, created = services.share_link_create(playlist=playlist_id, user=request.user)
        return Response(ShareLinkSerializer(_link_body(request, link)).data,
                        status=201 if created else 200)

    @extend_schema(operation_id="playlist_share_link_revoke", responses={204: None})
    def delete(self, request, playlist_id: str):
        services.share_link_revoke(playlist=playlist_id, user=request.user)
        return Response(status=204)


class PlaylistJoinApi(APIView):
    """Join a collaborative playlist with a share link's token (in the body, so that it stays
    out of URLs and access logs)."""

    token_scope = "playlists"
    permission_classes = [IsAuthenticated]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "PlaylistJoinInput"

        token = serializers.CharField(max_length=MAX_TOKEN_LENGTH)

    @extend_schema(
        operation_id="playlist_join", request=InputSerializer,
        responses={200: inline_serializer("PlaylistJoinOutput", {
            "playlist_id": serializers.UUIDField(),
            "joined": serializers.BooleanField(help_text="false: you were a member already"),
        })},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        playlist, joined = services.share_link_join(token=data.validated_data["token"],
                                                    user=request.user)
        return Response({"playlist_id": str(playlist.pk), "joined": joined})
