"""Bulk writes with PostgreSQL's COPY: one round trip per few thousand rows instead of an ORM INSERT."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence

from django.db import connection

CHUNK_ROWS = 5000


def ewkb_hex(wkb: bytes, srid: int) -> str:
    """Return a geometry's binary WKB as the EWKT-prefixed hex text COPY reads into a geometry column."""
    return f"SRID={srid};{wkb.hex()}"


def json_text(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def copy_rows(model, columns: Sequence[str], rows: Iterable[Sequence], *, text_columns: Sequence[str] = ()) -> int:
    """COPY ``rows`` (tuples in ``columns`` order; None is NULL) into ``model``'s table; return the row count.

    ``text_columns`` are read as '' when empty rather than NULL. Table and column names come from the
    model, never from input.
    """
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    names = ", ".join(quote(model._meta.get_field(c).column) for c in columns)
    options = "FORMAT csv"
    if text_columns:
        options += f", FORCE_NOT_NULL ({', '.join(quote(model._meta.get_field(c).column) for c in text_columns)})"
    sql = f"COPY {table} ({names}) FROM STDIN WITH ({options})"
    count = 0
    with connection.cursor() as cursor:
        batch: list[Sequence] = []
        for row in rows:
            batch.append(row)
            if len(batch) == CHUNK_ROWS:
                count += _copy(cursor, sql, batch)
                batch = []
        if batch:
            count += _copy(cursor, sql, batch)
    return count


def _copy(cursor, sql: str, batch: list[Sequence]) -> int:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(batch)
    buffer.seek(0)
    cursor.cursor.copy_expert(sql, buffer)  # the psycopg2 cursor under Django's wrapper
    return len(batch)
