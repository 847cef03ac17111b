"""The one paginator every list endpoint uses: `{count, next, previous, results}`."""

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.utils.functional import cached_property
from rest_framework import pagination


class OpenPage(Page):
    """A page of a list whose count is a lower bound: whether another page follows was seen by
    reading one row past this one."""

    more: bool | None = None

    def has_next(self) -> bool:
        return self.more if self.more is not None else super().has_next()

    def end_index(self) -> int:
        return self.start_index() + len(self.object_list) - 1 if self.object_list else 0


class KnownCountPaginator(Paginator):
    """Uses `object_list.known_count` when a selector already knows it, instead of COUNT(*).

    When the selector counted only up to a cap (`object_list.count_capped`, catalog search),
    pages go on past the count for as long as they hold rows, so every row stays reachable.
    """

    @cached_property
    def count(self) -> int:
        known = getattr(self.object_list, "known_count", None)
        return known if known is not None else super().count

    @property
    def count_capped(self) -> bool:
        return bool(getattr(self.object_list, "count_capped", False))

    def validate_number(self, number):
        if not self.count_capped:
            return super().validate_number(number)
        try:
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from None
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        return number

    def page(self, number):
        if not self.count_capped:
            return super().page(number)
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom:bottom + self.per_page + 1])
        if not rows and number > 1:
            raise EmptyPage(self.error_messages["no_results"])
        page = OpenPage(rows[:self.per_page], number, self)
        page.more = len(rows) > self.per_page
        return page


class PageNumberPagination(pagination.PageNumberPagination):
    django_paginator_class = KnownCountPaginator
    page_size = 20
    page_size_query_param = "pageSize"
    max_page_size = 100
