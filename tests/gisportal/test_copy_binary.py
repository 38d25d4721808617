"""PostgreSQL's binary COPY format as gisportal.copy writes it, read back by a real PostgreSQL."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

import numpy as np
import psycopg2
import pytest
import shapely
from django.db import connection

from gisportal.copy import (
    binary_copy_data,
    bytes_fields,
    constant_field,
    float8_fields,
    int4_fields,
    text_fields,
)

pytestmark = pytest.mark.django_db


def copy_back(columns, rows):
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE copied (i integer, t text, v varchar(8), f double precision, "
                       "g geometry(MultiPolygon, 3857), at timestamptz, n bigint, c integer)")
        cursor.cursor.copy_expert("COPY copied FROM STDIN WITH (FORMAT binary)",
                                  io.BytesIO(binary_copy_data(columns, rows)))
        cursor.execute("SELECT i, t, v, f, ST_AsText(g), ST_SRID(g), at, n, c FROM copied ORDER BY i")
        result = cursor.fetchall()
        cursor.execute("DROP TABLE copied")
    return result


def test_every_type_comes_back_as_it_was_sent():
    square = shapely.MultiPolygon([shapely.box(0, 0, 1, 1)])
    at = datetime(2026, 12, 1, 5, 6, 7, 891011, tzinfo=timezone(timedelta(hours=3)))
    rows = copy_back([
        int4_fields(np.array([-2, 0, 2_147_483_647])),
        text_fields(["مخطط ٧", "", "tab\tnew\nline\\"]),
        text_fields(["a", "b", "a"]),
        float8_fields([0.1 + 0.2, None, -1e300]),
        bytes_fields([shapely.to_wkb(square), None, shapely.to_wkb(square)]),
        constant_field(at, "timestamptz"),
        constant_field(9_007_199_254_740_993, "int8"),
        constant_field(None, "int4"),
    ], 3)
    assert rows == [
        (-2, "مخطط ٧", "a", 0.1 + 0.2, "MULTIPOLYGON(((1 0,1 1,0 1,0 0,1 0)))", 3857, at, 9_007_199_254_740_993, None),
        (0, "", "b", None, None, None, at, 9_007_199_254_740_993, None),
        (2_147_483_647, "tab\tnew\nline\\", "a", -1e300, "MULTIPOLYGON(((1 0,1 1,0 1,0 0,1 0)))", 3857, at,
         9_007_199_254_740_993, None),
    ]


def test_nan_in_a_float_array_is_null_and_a_short_column_is_refused():
    assert float8_fields(np.array([1.5, np.nan]))[1] == float8_fields([None])[0]
    with pytest.raises(ValueError, match="every column needs 3 fields"):
        binary_copy_data([int4_fields([1, 2, 3]), text_fields(["a", "b"])], 3)
    with pytest.raises(ValueError, match="aware"):
        constant_field(datetime(2026, 1, 1), "timestamptz")


def test_a_value_too_long_for_its_column_is_refused_by_postgresql():
    with pytest.raises(psycopg2.DataError, match="too long"):  # the raw driver's error: COPY bypasses Django
        copy_back([int4_fields([1]), text_fields(["t"]), text_fields(["nine char"]), float8_fields([1.0]),
                   bytes_fields([None]), constant_field(None, "timestamptz"), constant_field(None, "int8"),
                   constant_field(None, "int4")], 1)
