"""Page through a list: page/page_size parsed once, and next/previous links that keep the other filters."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from gisportal.params import MAX_INT_PARAMETER, parse_positive_int

MAX_PAGE = MAX_INT_PARAMETER  # beyond it the offset would not fit PostgreSQL's bigint


@dataclass(frozen=True)
class Page:
    number: int
    size: int

    @property
    def start(self) -> int:
        return (self.number - 1) * self.size

    @property
    def stop(self) -> int:
        return self.number * self.size


def parse_page(params, *, default_size: int, max_size: int) -> Page:
    """Return the page asked for by ``page`` and ``page_size``, or raise InvalidParameter naming the bad one."""
    return Page(parse_positive_int("page", params.get("page"), 1, MAX_PAGE),
                parse_positive_int("page_size", params.get("page_size"), default_size, max_size))


def page_links(request, page: Page, count: int) -> dict:
    """Return {count, next, previous} for ``page`` of ``count`` items; the links keep every other parameter."""
    base = request.build_absolute_uri(request.path)
    params = request.query_params if hasattr(request, "query_params") else request.GET

    def link(number: int) -> str:
        query = [(k, v) for k, v in params.items() if k not in ("page", "page_size")]
        return f"{base}?{urlencode(query + [('page', number), ('page_size', page.size)])}"

    return {
        "count": count,
        "next": link(page.number + 1) if page.stop < count else None,
        "previous": link(page.number - 1) if page.number > 1 else None,
    }
