"""Page through a list: page/page_size parsed once, and next/previous links that keep the other filters."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from gisportal.errors import InvalidParameter

# Beyond this the offset would not fit PostgreSQL's bigint; no real list gets near it.
MAX_PAGE = 1_000_000


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


def _positive(name: str, raw: str | None, default: int, maximum: int) -> int:
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidParameter(f"{name}: expected a positive integer, got {raw!r}") from None
    if not 1 <= value <= maximum:
        raise InvalidParameter(f"{name}: must be between 1 and {maximum:,}, got {value}")
    return value


def parse_page(params, *, default_size: int, max_size: int) -> Page:
    """Return the page asked for by ``page`` and ``page_size``, or raise InvalidParameter naming the bad one."""
    return Page(_positive("page", params.get("page"), 1, MAX_PAGE),
                _positive("page_size", params.get("page_size"), default_size, max_size))


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
