"""The one paginator every list endpoint uses: `{count, next, previous, results}`."""

from django.core.paginator import Paginator
from django.utils.functional import cached_property
from rest_framework import pagination


class KnownCountPaginator(Paginator):
    """Uses `object_list.known_count` when a selector already knows it, instead of COUNT(*)."""

    @cached_property
    def count(self) -> int:
        known = getattr(self.object_list, "known_count", None)
        return known if known is not None else super().count


class PageNumberPagination(pagination.PageNumberPagination):
    django_paginator_class = KnownCountPaginator
    page_size = 20
    page_size_query_param = "pageSize"
    max_page_size = 100
