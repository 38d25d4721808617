"""Bulk writes with PostgreSQL's COPY: one round trip per few thousand rows instead of an ORM INSERT.

Two encodings: CSV (``copy_rows``, for a few thousand rows of any shape) and PostgreSQL's binary
COPY format (``binary_copy_data``, built column by column, for the parcel import's hundreds of
thousands of rows): no quoting to scan, numbers and geometries (WKB) sent as they are in memory.
"""

from __future__ import annotations

import csv
import io
import json
import struct
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from itertools import chain, repeat

import numpy as np
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


# ---- PostgreSQL binary COPY (https://www.postgresql.org/docs/current/sql-copy.html#id-1.9.3.55.9.4) ----
# A file is the signature, flags and header extension length, then per row a 16-bit field count and per
# field a 32-bit length (-1 for NULL) followed by the value in the type's binary ("send") form.
BINARY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0)
BINARY_TRAILER = struct.pack("!h", -1)
NULL_FIELD = struct.pack("!i", -1)
_PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_LENGTH = struct.Struct("!i")


def _fixed_fields(values: np.ndarray, dtype: str) -> list[bytes]:
    """Return each value as a binary COPY field (length, big-endian value), built in one numpy pass."""
    fields = np.empty(len(values), dtype=[("length", ">i4"), ("value", dtype)])
    fields["length"] = np.dtype(dtype).itemsize
    fields["value"] = values
    data, width = fields.tobytes(), fields.itemsize
    return [data[i:i + width] for i in range(0, len(data), width)]


def int4_fields(values: Sequence[int] | np.ndarray) -> list[bytes]:
    """Return integer (int4) fields; no NULLs."""
    return _fixed_fields(np.asarray(values, dtype=np.int64), ">i4")


def float8_fields(values: Sequence[float | None] | np.ndarray) -> list[bytes]:
    """Return double precision fields; None (or NaN from a float array) is NULL."""
    floats = np.array([np.nan if v is None else v for v in values] if not isinstance(values, np.ndarray)
                      else values, dtype=float)
    fields = _fixed_fields(floats, ">f8")
    for i in np.flatnonzero(np.isnan(floats)).tolist():
        fields[i] = NULL_FIELD
    return fields


def text_fields(values: Iterable[str]) -> list[bytes]:
    """Return text/varchar fields (UTF-8); no NULLs ('' is an empty string)."""
    pack, fields, known = _LENGTH.pack, [], {}
    for value in values:  # most columns repeat their values: each distinct one is encoded once
        field = known.get(value)
        if field is None:
            encoded = value.encode("utf-8")
            field = known[value] = pack(len(encoded)) + encoded
        fields.append(field)
    return fields


def bytes_fields(values: Iterable[bytes | None]) -> list[bytes]:
    """Return fields sent as they are: bytea, or geometry as (E)WKB; None is NULL."""
    pack = _LENGTH.pack
    return [NULL_FIELD if b is None else pack(len(b)) + b for b in values]


def constant_field(value: float | str | datetime | None, pg_type: str) -> bytes:
    """Return one field holding VALUE as PG_TYPE (int4, int8, float8, text, timestamptz), for every row."""
    if value is None:
        return NULL_FIELD
    if pg_type == "int4":
        return struct.pack("!ii", 4, value)
    if pg_type == "int8":
        return struct.pack("!iq", 8, value)
    if pg_type == "float8":
        return struct.pack("!id", 8, value)
    if pg_type == "text":
        return text_fields([value])[0]
    if pg_type == "timestamptz":
        if value.tzinfo is None:
            raise ValueError("timestamptz needs an aware datetime")
        delta = value - _PG_EPOCH  # microseconds since 2000-01-01 UTC, exactly
        return struct.pack("!iq", 8, (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds)
    raise ValueError(f"unknown binary COPY type {pg_type!r}")


def binary_copy_rows(columns: Sequence[Sequence[bytes] | bytes], rows: int) -> list[bytes]:
    """Return ROWS encoded rows; each column is a list of fields, or one field for all rows."""
    if any(not isinstance(c, bytes) and len(c) != rows for c in columns):
        raise ValueError(f"every column needs {rows} fields")
    count = struct.pack("!h", len(columns))
    lists = [repeat(c, rows) if isinstance(c, bytes) else c for c in columns]
    return list(map(b"".join, zip(repeat(count, rows), *lists)))


def binary_copy_payload(encoded_rows: Iterable[bytes]) -> bytes:
    """Return the binary COPY data holding ENCODED_ROWS (from binary_copy_rows)."""
    return b"".join(chain((BINARY_SIGNATURE,), encoded_rows, (BINARY_TRAILER,)))


def binary_copy_data(columns: Sequence[Sequence[bytes] | bytes], rows: int) -> bytes:
    """Return the binary COPY data of ROWS rows; each column is a list of fields, or one field for all rows."""
    return binary_copy_payload(binary_copy_rows(columns, rows))
