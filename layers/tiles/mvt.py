"""Vector tiles built in PostGIS with ST_AsMVT, from the layer registry.

Each layer's SQL is ``sql/layer_tile.sql`` around the layer's own queryset (``Layer.rows()``, the
owning app's selector) compiled once by the ORM, so identifiers come from the models and values
are bound parameters; z/x/y are always parameters. The public tile concatenates the public
layers' SQL into one statement (``sql/public_tile.sql``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.db import connection
from django.db.models import ExpressionWrapper, F, Field

from layers.registry import LAYERS, Access, Layer
from layers.tiles.grid import tile_size_m

EXTENT = 4096  # MVT coordinate units per tile side
BUFFER = 256  # units around the tile kept (a sixteenth of the side): strokes and labels cross edges
MAX_FEATURES = 10_000  # per layer and tile; Cambridge's densest z13 tile holds 7,153 parcels
SIMPLIFY_BELOW_ZOOM = 13  # below it geometries are simplified before clipping
SIMPLIFY_UNITS = 4  # tolerance in MVT units: half a screen pixel of a tile drawn at 512 px

_SQL_DIR = Path(__file__).resolve().parent / "sql"
_INTEGER_TYPES = {"AutoField", "BigAutoField", "SmallAutoField", "IntegerField", "BigIntegerField",
                  "SmallIntegerField", "PositiveIntegerField", "PositiveBigIntegerField",
                  "PositiveSmallIntegerField"}


@dataclass(frozen=True)
class LayerSql:
    """One layer's compiled tile statement: SQL with %s placeholders and the queryset's own params."""

    sql: str
    rows_params: tuple
    simplified: bool

    def params(self, z: int, x: int, y: int) -> list:
        head = [tile_size_m(z) / EXTENT * SIMPLIFY_UNITS] if self.simplified else []
        return [*head, z, x, y, *self.rows_params, z, x, y]


@cache
def _template(name: str) -> str:
    return (_SQL_DIR / name).read_text()


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def _attribute(alias: str, field) -> str:
    column = f"r.{_quote(alias)}"
    if field.type == "date-time":  # ISO 8601 in UTC, whatever the session's time zone
        column = f"""to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""
    elif field.type == "number":
        column = f"{column}::float8"
    elif field.type == "integer":
        column = f"{column}::int8"
    return f", {column} AS {_quote(field.name)}"


@cache
def layer_sql(layer_id: str, simplified: bool) -> LayerSql:
    """Return the compiled tile statement of layer LAYER_ID (SIMPLIFIED: for zooms below SIMPLIFY_BELOW_ZOOM)."""
    layer = LAYERS[layer_id]
    values = {f"a{i}": F(field.source) for i, field in enumerate(layer.fields)}
    # A plain Field as output: GeoDjango would select a geometry column as `geom::bytea`, and the
    # `&&` on that cast would no longer be the indexed column.
    geometry_column = ExpressionWrapper(F(layer.geometry_field), output_field=Field())
    qs = layer.rows().order_by().values(g=geometry_column, fid=F(layer.id_field), **values)
    rows_sql, rows_params = qs.query.sql_with_params()
    id_type = qs.query.annotations["fid"].output_field.get_internal_type()
    has_id = id_type in _INTEGER_TYPES
    geometry = "ST_Simplify(r.g, %s, true)" if simplified else "r.g"
    attributes = "".join(_attribute(f"a{i}", field) for i, field in enumerate(layer.fields))
    if has_id:
        attributes += ", r.fid AS fid"
    sql = _template("layer_tile.sql").format(
        layer_name=_literal(layer.id), extent=EXTENT, buffer=BUFFER, margin=f"{BUFFER / EXTENT!r}",
        id_argument=", 'fid'" if has_id else "", geometry=geometry, attributes=attributes,
        rows=rows_sql, max_features=MAX_FEATURES)
    return LayerSql(sql=_strip_comments(sql), rows_params=tuple(rows_params), simplified=simplified)


def _literal(layer_id: str) -> str:
    if not layer_id.replace("_", "").isalnum():  # registry ids are identifiers; refuse anything else
        raise ValueError(f"layer id {layer_id!r} is not a plain identifier")
    return f"'{layer_id}'"


def _strip_comments(sql: str) -> str:
    return "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--")).strip()


def layers_at(layers: list[Layer], z: int) -> list[Layer]:
    """Return the LAYERS whose zoom range holds Z."""
    return [layer for layer in layers if layer.min_zoom <= z <= layer.max_zoom]


def public_layers() -> list[Layer]:
    return [layer for layer in LAYERS.values() if layer.access is Access.PUBLIC]


def statement(layers: list[Layer], z: int, x: int, y: int) -> tuple[str, list]:
    """Return the SQL and parameters of the tile Z/X/Y holding LAYERS (concatenated in that order)."""
    parts, params = [], []
    for layer in layers:
        compiled = layer_sql(layer.id, z < SIMPLIFY_BELOW_ZOOM)
        parts.append(f"COALESCE(({compiled.sql}), ''::bytea)")
        params.extend(compiled.params(z, x, y))
    if len(parts) == 1:
        return compiled.sql, params
    sql = _template("public_tile.sql").format(layers="\n || ".join(parts))
    return _strip_comments(sql), params


def tile_render(layers: list[Layer], z: int, x: int, y: int) -> bytes:
    """Return the MVT bytes of tile Z/X/Y holding LAYERS; empty when none has a feature there."""
    if not layers:
        return b""
    sql, params = statement(layers, z, x, y)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return bytes(row[0]) if row and row[0] is not None else b""
