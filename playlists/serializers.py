"""Serializers shared by the catalog API, playlist APIs and WebSocket payloads."""
from rest_framework import serializers

from .models import Track


class TrackSerializer(serializers.ModelSerializer):
    """`Track` of SPEC.md §4; features and metadata keys are camelCased by the renderer."""

    class Meta:
        model = Track
        fields = ["id", "title", "artist", "album", "duration_ms", "features", "metadata"]
        read_only_fields = fields
