"""Serializers shared by the catalog API, playlist APIs and WebSocket payloads."""
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .models import Track


class TrackSerializer(serializers.ModelSerializer):
    """`Track` of SPEC.md §4; features and metadata keys are camelCased by the renderer."""

    class Meta:
        model = Track
        fields = ["id", "title", "artist", "album", "duration_ms", "features", "metadata",
                  "has_audio", "has_cover", "analysis"]
        read_only_fields = fields


class UserRefSerializer(serializers.Serializer):
    """`{id, username}`: the owner of a playlist, who added a track."""

    id = serializers.UUIDField(read_only=True)
    username = serializers.CharField(read_only=True)


class PlaylistEntrySerializer(serializers.Serializer):
    """A playlist's track: `Track` plus `addedBy`, `addedAt` and `position`."""

    id = serializers.UUIDField(source="track.id", read_only=True)
    title = serializers.CharField(source="track.title", read_only=True)
    artist = serializers.CharField(source="track.artist", read_only=True)
    album = serializers.CharField(source="track.album", read_only=True)
    duration_ms = serializers.IntegerField(source="track.duration_ms", read_only=True,
                                           allow_null=True)
    features = serializers.JSONField(source="track.features", read_only=True)
    metadata = serializers.JSONField(source="track.metadata", read_only=True)
    has_audio = serializers.BooleanField(source="track.has_audio", read_only=True)
    has_cover = serializers.BooleanField(source="track.has_cover", read_only=True)
    analysis = serializers.CharField(source="track.analysis", read_only=True)
    added_by = UserRefSerializer(read_only=True, allow_null=True)
    added_at = serializers.DateTimeField(read_only=True)
    position = serializers.IntegerField(read_only=True)


class CollaboratorSerializer(serializers.Serializer):
    """`{id, username, role, addedAt}`; `id` is the user's id (DELETE .../collaborators/{id})."""

    id = serializers.UUIDField(source="user.id", read_only=True)
    username = serializers.CharField(source="user.username", read_only=True)
    role = serializers.CharField(read_only=True)
    added_at = serializers.DateTimeField(read_only=True)


class PlaylistContextSerializer(serializers.Serializer):
    """`PlaylistContext` (SPEC.md §4); the services check the values leniently."""

    mood = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=50)
    activity = serializers.CharField(required=False, allow_null=True, allow_blank=True,
                                     max_length=50)
    time_of_day = serializers.CharField(required=False, allow_null=True, allow_blank=True,
                                        max_length=50)
    energy = serializers.ListField(child=serializers.FloatField(), required=False,
                                   allow_null=True, min_length=2, max_length=2)
    tempo = serializers.ListField(child=serializers.FloatField(), required=False,
                                  allow_null=True, min_length=2, max_length=2)
    genres = serializers.ListField(child=serializers.CharField(max_length=50), required=False,
                                   allow_null=True, max_length=20)


@extend_schema_field(PlaylistContextSerializer)
class ContextField(serializers.JSONField):
    """The stored context as it is, documented as `PlaylistContext`."""


class PlaylistSerializer(serializers.Serializer):
    """`Playlist` of SPEC.md §4, read from a playlist with its entries and collaborators."""

    id = serializers.UUIDField(read_only=True)
    name = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)
    owner = UserRefSerializer(read_only=True)
    is_collaborative = serializers.BooleanField(read_only=True)
    context = ContextField(read_only=True)
    version = serializers.IntegerField(read_only=True)
    tracks = PlaylistEntrySerializer(source="entries", many=True, read_only=True)
    collaborators = CollaboratorSerializer(many=True, read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


class PlaylistChangeSerializer(serializers.Serializer):
    """`PlaylistChange` of SPEC.md §4: a track write's answer, the same `data` as its event.

    `data` is `{position, tracks: [entry]}` for TRACK_ADDED, `{trackIds}` for TRACK_REMOVED and
    `{trackId, fromPosition, toPosition}` for TRACK_MOVED.
    """

    id = serializers.UUIDField(read_only=True, help_text="the playlist's id")
    version = serializers.IntegerField(read_only=True)
    type = serializers.ChoiceField(choices=["TRACK_ADDED", "TRACK_REMOVED", "TRACK_MOVED"],
                                   read_only=True)
    data = serializers.JSONField(read_only=True)

class ShareLinkSerializer(serializers.Serializer):
    """A playlist's share link: `{token, url, createdAt, joinedCount}` (owner only)."""

    token = serializers.CharField(read_only=True)
    url = serializers.URLField(read_only=True, help_text="the join page to send to people")
    created_at = serializers.DateTimeField(read_only=True)
    joined_count = serializers.IntegerField(read_only=True,
                                            help_text="people who joined through this link")
