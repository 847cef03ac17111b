"""Catalog REST API: GET /api/tracks and GET /api/tracks/{id}."""
from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from audotics.pagination import PageNumberPagination

from . import selectors
from .serializers import TrackSerializer


class TrackListApi(APIView):
    """Search and browse the catalog."""

    class FilterSerializer(serializers.Serializer):
        q = serializers.CharField(required=False, allow_blank=True,
                                  max_length=settings.CATALOG_SEARCH_MAX_LENGTH)
        artist = serializers.CharField(required=False, allow_blank=True, max_length=300)
        genre = serializers.CharField(required=False, allow_blank=True, max_length=64)

    @extend_schema(parameters=[FilterSerializer], responses=TrackSerializer(many=True))
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        tracks = selectors.track_list(**filters.validated_data)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(tracks, request, view=self)
        return paginator.get_paginated_response(TrackSerializer(page, many=True).data)


class TrackDetailApi(APIView):
    """One track with its audio features."""

    @extend_schema(responses=TrackSerializer)
    def get(self, request, track_id: str):
        return Response(TrackSerializer(selectors.track_get(track_id=track_id)).data)
