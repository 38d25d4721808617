"""Bulk import of parcels from any GDAL source: upsert by parcel code, with full history.

The source is read in chunks (CHUNK_ROWS features), so memory stays flat whatever its size.
Reader processes read and prepare the next chunks (pyogrio, pyproj, shapely) while PostgreSQL
ingests this one: processes, not threads, because most of that work holds the GIL (measured: two
threads prepared no faster than one). A chunk is encoded column by column in PostgreSQL's binary COPY
format (gisportal.copy) and written by parcels.services.ParcelBulkWrite: created, updated with a
new version, or unchanged. One transaction for the whole import: bad input writes nothing.
"""

from __future__ import annotations

import csv
import ctypes
import gc
import hashlib
import io
import itertools
import multiprocessing
import os
import re
import signal
import tempfile
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import shapely
from django.conf import settings
from django.db import connection, transaction
from tqdm import tqdm

from gisportal import crs
from gisportal.copy import (
    binary_copy_data,
    bytes_fields,
    constant_field,
    float8_fields,
    int4_fields,
    text_fields,
)
from parcels import sql
from parcels.geometry import REPAIR_MAX_AREA_CHANGE, check_polygons
from parcels.measurements import ring_measures
from parcels.models import LandUse, Municipality, Parcel, ParcelStatus
from parcels.services import (
    PROBE_ONLY,
    ChunkEncoder,
    EncodedChunk,
    ParcelBulkWrite,
    derived_fingerprint,
)
from parcels.sources import SourceError, SourceInfo, SourceTable, open_source
from parcels.values import number_column, text_column

TARGETS = ("parcel_code", "plan_no", "block_no", "parcel_no", "district", "land_use", "zone_code", "stated_area")
ALIASES = {
    "parcel_code": ("parcel_code", "code", "parcel_cod"),
    "plan_no": ("plan_no", "plan"),
    "block_no": ("block_no", "block"),
    "parcel_no": ("parcel_no", "parcel", "lot_no"),
    "district": ("district", "district_code"),
    "land_use": ("land_use", "landuse", "use"),
    "zone_code": ("zone_code", "zone", "zoning"),
    "stated_area": ("stated_area", "stated_area_m2", "area_m2", "stated_are"),  # shapefiles cut names at 10
}
PREFERRED_LAYERS = ("parcels", "parcel", "lots")
LAND_USES = {choice.value for choice in LandUse}
CODE_MAX_LENGTH = 64
# Text targets and the length of their column: a longer value fails the import (it is not a parcel
# the registry can hold, and cutting it would change what the source says).
TEXT_MAX_LENGTH = {"plan_no": 32, "block_no": 32, "parcel_no": 32, "zone_code": 32}
CHUNK_ROWS = 25_000
# Chunks prepared at once, one reader process each: with PostgreSQL beside them they keep both
# cores of a small server busy. A source that fits in the first chunk is read in this process.
READERS = 2
# Bump when what the importer makes of a row changes: every parcel is then compared in full once more.
DIGEST_VERSION = "parcel-import-1"


@dataclass
class ImportSummary:
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    repaired: int = 0  # rows created or updated with a repaired geometry (a skipped row is not looked at)
    rejected: int = 0
    skipped: int = 0  # of the unchanged, those read exactly as the last import read them: no geometry work
    rejects_path: str | None = None
    rejects: list[tuple[int, str, str]] = field(default_factory=list)  # (row, code, reason)
    hull: shapely.Geometry | None = None  # convex hull of the geometries read, in the source CRS
    source_srid: int | None = None

    def line(self) -> str:
        text = (
            f"read {self.read}, created {self.created}, updated {self.updated}, unchanged {self.unchanged}, "
            f"repaired {self.repaired}, rejected {self.rejected}"
        )
        if self.rejects_path:
            text += f" (reasons in {self.rejects_path})"
        return text


def field_mapping(table: SourceTable | SourceInfo, *, code_field: str | None, field_map: dict[str, str]) -> dict[str, str]:
    """Return target → source field; refuse unknown targets and fields the source lacks."""
    by_lower = {f.lower(): f for f in table.fields}
    mapping: dict[str, str] = {}
    for target in TARGETS:
        for alias in ALIASES[target]:
            if alias in by_lower:
                mapping[target] = by_lower[alias]
                break
    explicit = dict(field_map)
    if code_field:
        explicit["parcel_code"] = code_field
    for target, source in explicit.items():
        if target not in TARGETS:
            raise SourceError(f"--map names an unknown target {target!r}; targets are: {', '.join(TARGETS)}")
        if source not in table.fields:
            if source.lower() in by_lower:
                source = by_lower[source.lower()]
            else:
                raise SourceError(
                    f"field {source!r} is not in layer {table.layer!r}; its fields are: {', '.join(table.fields)}"
                )
        mapping[target] = source
    if "parcel_code" not in mapping and "parcel_no" not in mapping:
        raise SourceError(
            f"no parcel code field in layer {table.layer!r}: pass --code-field; fields are: {', '.join(table.fields)}"
        )
    return mapping


@dataclass(frozen=True)
class _Moved:
    """A chunk's geometries moved to the storage CRS by _Preparer._projected, with what was read on
    the way: the source coordinates (SOURCE_XY, of the geometry at INDEX) and the same in the metric CRS."""

    geoms: np.ndarray  # in the storage CRS
    area: np.ndarray  # in the metric CRS; NaN but for single rings
    perimeter: np.ndarray
    source: np.ndarray  # as read
    source_xy: np.ndarray
    index: np.ndarray
    metric_xy: np.ndarray

    def metric_at(self, at: np.ndarray) -> np.ndarray:
        """Return the geometries at positions AT in the metric CRS, built from METRIC_XY (no transform)."""
        rows = np.zeros(len(self.source), dtype=bool)
        rows[at] = True
        return shapely.set_coordinates(self.source[at].copy(), self.metric_xy[rows[self.index]])


@dataclass
class _Prepared:
    """One chunk, checked and encoded for binary COPY: built in a reader process."""

    start: int
    read: int
    kept: EncodedChunk  # the rows kept, encoded for ParcelBulkWrite (codes: with the rows skipped)
    repaired: int
    rejects: list[tuple[int, str, str, str]]  # (row, code, reason, wkt)
    hull: shapely.Geometry | None
    repaired_rows: set[int]  # rows kept after a repair (a later duplicate check may still refuse them)
    skipped: int = 0  # rows the registry already holds as read (the same digest): unchanged


def digest_key(*, mapping: dict[str, str], source_srid: int, metric_srid: int, derived: str = "") -> bytes:
    """Return the key of this import's row digests: everything besides a row's own values that decides
    what the import makes of it (field mapping, CRSs, repair tolerance, the importer's version, and
    DERIVED: a fingerprint of the zoning and districts a parcel's zone or district is looked up in)."""
    parts = (DIGEST_VERSION, sorted(mapping.items()), source_srid, settings.STORAGE_SRID, metric_srid,
             REPAIR_MAX_AREA_CHANGE, CODE_MAX_LENGTH, derived)
    return hashlib.blake2b(repr(parts).encode(), digest_size=32).digest()


def row_digests(key: bytes, columns: list[list], wkb: np.ndarray) -> list[bytes]:
    """Return one 16-byte digest per row of its values as read (COLUMNS, one list each) and its WKB."""
    base = hashlib.blake2b(key=key, digest_size=16)
    digests = []
    for values, geom in zip(zip(*columns), wkb.tolist()):
        h = base.copy()
        h.update(repr(values).encode())
        h.update(geom or b"")
        digests.append(h.digest())
    return digests


class _KnownDigests:
    """Which rows the registry already holds as read: the last import of a parcel left the same digest.

    Asked through the import's own connection in the importing process, or a connection of its own in
    a reader process (it must not touch the one it inherits). A reader sees the registry as committed
    before the import: the state the import matches against, since a code is imported once.
    """

    def __init__(self, municipality_id: int):
        self.municipality_id, self.owner = municipality_id, os.getpid()
        self.params = connection.get_connection_params()
        self._own = None

    def __call__(self, code_fields: list[bytes], digests: list[bytes]) -> np.ndarray:
        """Return the positions in CODE_FIELDS (codes encoded by gisportal.copy.text_fields) whose parcel
        holds the digest at the same position."""
        if not code_fields:
            return np.zeros(0, dtype=np.intp)
        n = len(code_fields)
        data = binary_copy_data([int4_fields(np.arange(n)), constant_field(self.municipality_id, "int8"),
                                 code_fields, bytes_fields(digests)], n)
        if os.getpid() == self.owner:
            with connection.cursor() as cursor:
                return self._ask(cursor.cursor, data)
        if self._own is None:
            import psycopg2  # noqa: PLC0415 - only reader processes open a connection of their own

            # It writes only its temporary table, and rolls that back after each chunk.
            self._own = psycopg2.connect(**{k: v for k, v in self.params.items() if k != "cursor_factory"})
        try:
            with self._own.cursor() as cursor:
                # Probe the code index for each row, as the import's own connection does: hashing the
                # whole registry for every chunk costs what the registry holds, not what the chunk does.
                cursor.execute(PROBE_ONLY)
                return self._ask(cursor, data)
        finally:
            self._own.rollback()

    def _ask(self, cursor, data: bytes) -> np.ndarray:
        cursor.execute(sql.load("known_create"))
        cursor.copy_expert(sql.load("copy_known"), io.BytesIO(data))
        cursor.execute(sql.load("known_digests"))
        found = np.fromiter((i for i, in cursor.fetchall()), dtype=np.intp)
        cursor.execute("TRUNCATE parcel_known")
        return np.sort(found)


class _Preparer:
    """Turn source chunks into rows encoded for ParcelBulkWrite, column by column. Codes repeated in
    the file are refused by the database (ParcelBulkWrite), so nothing here grows with the file.

    Each row's digest (row_digests) is written with it; a row whose digest the registry already
    holds for its code is skipped before any geometry work (KNOWN, when the municipality has parcels).
    """

    def __init__(self, *, mapping: dict[str, str], municipality: Municipality, source_srid: int,
                 retired: set[str], key: bytes, want_hull: bool = False, known: _KnownDigests | None = None):
        self.mapping, self.source_srid, self.retired = mapping, source_srid, retired
        self.want_hull = want_hull
        self.metric_srid = municipality.metric_srid
        self.storage = settings.STORAGE_SRID
        self.key = key
        self.known = known

    def __call__(self, start: int, table: SourceTable, encoder: ChunkEncoder) -> _Prepared:
        n, storage, mapping = len(table), self.storage, self.mapping

        def column(target: str):
            source = mapping.get(target)
            return table.field(source) if source else None

        plans, blocks = text_column(column("plan_no"), n), text_column(column("block_no"), n)
        numbers, districts = text_column(column("parcel_no"), n), text_column(column("district"), n)
        uses, zones = text_column(column("land_use"), n), text_column(column("zone_code"), n)
        areas = number_column(column("stated_area"), n)
        codes = (text_column(column("parcel_code"), n) if "parcel_code" in mapping
                 else ["-".join(parts) for parts in zip(plans, blocks, numbers)])
        for target, values in (("plan_no", plans), ("block_no", blocks), ("parcel_no", numbers),
                               ("zone_code", zones)):
            limit = TEXT_MAX_LENGTH[target]
            if max(map(len, values), default=0) <= limit:
                continue
            for i, value in enumerate(values):
                if len(value) > limit:
                    raise SourceError(f"row {start + i + 1}: {target} {value[:40]!r} is longer than {limit} "
                                      f"characters (field {mapping[target]!r}); nothing was imported")

        # Most rows pass every check: test them as whole columns, and explain only the others.
        land_use_of = {use: use.lower().replace(" ", "_") or LandUse.RESIDENTIAL.value for use in set(uses)}
        land_uses = [land_use_of[use] for use in uses]
        retired, url_safe = self.retired, _URL_SAFE.fullmatch
        ok = np.fromiter((len(code) <= CODE_MAX_LENGTH and url_safe(code) is not None and code not in retired
                          for code in codes), dtype=bool, count=n)
        ok &= np.fromiter((use in LAND_USES for use in land_uses), dtype=bool, count=n)
        digests = row_digests(self.key, [codes, plans, blocks, numbers, districts, land_uses, zones, areas],
                              table.wkb)
        code_fields = text_fields(codes)  # once, for the lookup, the rows written and the rows skipped

        # Rows the last import read exactly so: unchanged, with no geometry work at all.
        skip = np.zeros(n, dtype=bool)
        if self.known is not None and ok.any():
            candidates = np.flatnonzero(ok)
            skip[candidates[self.known([code_fields[i] for i in candidates.tolist()],
                                       [digests[i] for i in candidates.tolist()])]] = True
        todo = np.flatnonzero(~skip)
        source_geoms = np.full(n, None, dtype=object)
        source_geoms[todo] = table.geoms_at(todo)
        geoms = [None] * n
        repaired = np.zeros(n, dtype=bool)
        area, perimeter = np.full(n, np.nan), np.full(n, np.nan)
        hull_coords = None
        if len(todo):
            moved = self._projected(source_geoms[todo], table.srid)
            checked, repaired[todo], area[todo], perimeter[todo] = self._checked_geometries(moved)
            for i, geom in zip(todo.tolist(), checked):
                geoms[i] = geom
            hull_coords = moved.source_xy if len(todo) == n else None
        hull = None
        if self.want_hull:
            if hull_coords is None:
                parsed = table.geoms
                hull_coords = shapely.get_coordinates(parsed[~shapely.is_missing(parsed)])
            # One linestring through every vertex: the same hull as their multipoint, ~10x faster to build.
            hull = shapely.convex_hull(shapely.linestrings(hull_coords)) if len(hull_coords) >= 2 else None
        ok[todo] &= np.fromiter((not isinstance(geoms[i], str) for i in todo.tolist()), dtype=bool,
                                count=len(todo))
        rejects = []
        for i in np.flatnonzero(~ok).tolist():
            code, geom = codes[i], source_geoms[i]
            rejects.append((start + i + 1, code, self._reason(code, land_uses[i], geoms[i]),
                            "" if geom is None else shapely.to_wkt(geom, rounding_precision=9)))
        kept_index = np.flatnonzero(ok & ~skip)
        kept = np.array([geoms[i] for i in kept_index.tolist()], dtype=object)
        repaired_rows = {start + i + 1 for i in kept_index[repaired[kept_index]].tolist()}

        every = len(kept_index) == n

        def pick(values: list) -> list:
            return values if every else [values[i] for i in kept_index.tolist()]

        # Measured in the municipality's metric CRS by _projected, or by the repair; a geometry of several
        # parts or with holes from the geometry kept (same PROJ pipelines as ST_Transform).
        kept_area, kept_perimeter = area[kept_index], perimeter[kept_index]
        again = np.flatnonzero(np.isnan(kept_area))
        if len(again):
            metric = crs.transform(kept[again], storage, self.metric_srid)
            kept_area[again], kept_perimeter[again] = shapely.area(metric), shapely.length(metric)
        fields = {
            "parcel_code": pick(code_fields), "plan_no": text_fields(pick(plans)),
            "block_no": text_fields(pick(blocks)), "parcel_no": text_fields(pick(numbers)),
            "district_code": text_fields(pick(districts)), "land_use": text_fields(pick(land_uses)),
            "zone_code": text_fields(pick(zones)), "stated_area": float8_fields(pick(areas)),
            "area_m2": float8_fields(kept_area), "perimeter_m": float8_fields(kept_perimeter),
            # WKB without an SRID: the column's SRID applies.
            "geom": bytes_fields(shapely.to_wkb(kept).tolist()),
            "source_digest": bytes_fields(pick(digests)),
        }
        skipped = np.flatnonzero(skip)
        encoded = encoder.encode(row_nos=kept_index + (start + 1), fields=fields,
                                 boxes=shapely.bounds(kept).reshape(-1, 4),
                                 skipped=(skipped + (start + 1), [code_fields[i] for i in skipped.tolist()]))
        return _Prepared(start=start, read=n, kept=encoded, repaired=len(repaired_rows), rejects=rejects, hull=hull,
                         repaired_rows=repaired_rows, skipped=len(skipped))

    def _projected(self, geoms: np.ndarray, srid: int) -> _Moved:
        """Return GEOMS (in SRID) moved to the storage CRS, with the area and perimeter of each in the
        metric CRS: one read of their coordinates, each transformed once from the source to both CRSs,
        and no metric geometries built. Area and perimeter are NaN where a geometry is not one polygon
        without holes (measured later from the geometry kept)."""
        n = len(geoms)
        coords, index = shapely.get_coordinates(geoms, return_index=True)
        moved = geoms
        if srid != self.storage:
            moved = shapely.set_coordinates(geoms.copy(), crs.transform_xy(coords, srid, self.storage))
        metric_xy = crs.transform_xy(coords, srid, self.metric_srid)
        area, perimeter = ring_measures(metric_xy, index, n)
        type_id = shapely.get_type_id(geoms)
        single = (type_id == 3) | ((type_id == 6) & (shapely.get_num_geometries(geoms) == 1))
        single[single] = shapely.get_num_interior_rings(shapely.get_geometry(geoms[single], 0)) == 0
        area[~single] = perimeter[~single] = np.nan
        return _Moved(geoms=moved, area=area, perimeter=perimeter, source=geoms, source_xy=coords, index=index,
                      metric_xy=metric_xy)

    def _checked_geometries(self, moved: _Moved) -> tuple[list, np.ndarray, np.ndarray, np.ndarray]:
        """Return each geometry as a valid MultiPolygon or the reason it is refused (a str), which
        were repaired, and the area and perimeter of each in the metric CRS (MOVED's, or the repair's;
        NaN where neither measured it). Valid polygons, nearly all of them, are told apart in a few
        vectorised calls; check_polygons looks at the rest (their area before repair from the metric
        coordinates already moved)."""
        geoms = moved.geoms
        type_id = shapely.get_type_id(geoms)
        fine = (type_id == 3) | (type_id == 6)
        fine[fine] = ~shapely.is_empty(geoms[fine])
        fine[fine] = shapely.is_valid(geoms[fine])  # False for NaN or infinite coordinates
        result = geoms.copy()
        single = fine & (type_id == 3)
        if single.any():
            result[single] = shapely.multipolygons(geoms[single], indices=np.arange(int(single.sum())))
        repaired = np.zeros(len(geoms), dtype=bool)
        area, perimeter = moved.area.copy(), moved.perimeter.copy()
        others = np.flatnonzero(~fine)
        if len(others):
            for i, checked in zip(others.tolist(), check_polygons(geoms[others], srid=self.storage,
                                                                   metric_srid=self.metric_srid,
                                                                   known_invalid=True,
                                                                   metric=moved.metric_at(others))):
                result[i] = checked.geom if checked.geom is not None else checked.reason
                repaired[i] = checked.repaired
                if checked.repaired:
                    area[i], perimeter[i] = checked.area_m2, checked.perimeter_m
        return result.tolist(), repaired, area, perimeter

    def _reason(self, code: str, land_use: str, geom) -> str:
        if not code or code.strip("-") == "":
            return "missing parcel code"
        if len(code) > CODE_MAX_LENGTH or not _url_safe(code):
            return f"parcel code {code!r} is not URL-safe (letters, digits, '.', '_', '-'; at most 64)"
        if code in self.retired:
            return f"parcel {code!r} is retired; a retired parcel is never changed by an import"
        if land_use not in LAND_USES:
            return f"unknown land use {land_use!r}; expected one of {', '.join(sorted(LAND_USES))}"
        return geom  # the geometry's reason


def import_parcels(
    *,
    path: str,
    municipality: Municipality,
    layer: str | None = None,
    srid: int | None = None,
    code_field: str | None = None,
    field_map: dict[str, str] | None = None,
    rejects_path: str | None = None,
    progress: bool = False,
    at: datetime | None = None,
    source: SourceInfo | None = None,
    chunk_rows: int = CHUNK_ROWS,
    by=None,
    want_hull: bool = False,
) -> ImportSummary:
    """Upsert the parcels of PATH into MUNICIPALITY by parcel code, in chunks; one transaction.

    SOURCE, when given, is PATH already opened with open_source. Without a zone_code field, each
    parcel takes the zone of the zoning district covering most of it. WANT_HULL sets summary.hull
    (the convex hull of the source's geometries, in its CRS).
    """
    if source is None:
        source = open_source(path, layer=layer, srid=srid, preferred_layers=PREFERRED_LAYERS)
    mapping = field_mapping(source, code_field=code_field, field_map=field_map or {})
    summary = ImportSummary(source_srid=source.srid)
    retired = set(Parcel.objects.filter(municipality=municipality, status=ParcelStatus.RETIRED)
                  .values_list("parcel_code", flat=True))
    zone_by_overlay = "zone_code" not in mapping
    key = digest_key(mapping=mapping, source_srid=source.srid, metric_srid=municipality.metric_srid,
                     derived=derived_fingerprint(municipality=municipality, zone_by_overlay=zone_by_overlay))
    has_parcels = Parcel.objects.filter(municipality=municipality).exists()
    prepare = _Preparer(mapping=mapping, municipality=municipality, source_srid=source.srid, retired=retired,
                        want_hull=want_hull, key=key, known=_KnownDigests(municipality.pk) if has_parcels else None)
    chunk_rows = max(1, int(chunk_rows))
    columns = sorted(set(mapping.values()))

    target = _rejects_target(path, rejects_path)
    rejects_file = tempfile.NamedTemporaryFile("w", newline="", encoding="utf-8", delete=False,
                                               dir=target.parent, prefix=".", suffix=".part")
    rejects_writer = csv.writer(rejects_file)
    rejects_writer.writerow(["row", "parcel_code", "reason", "wkt"])
    hulls, bar = [], None
    try:
        # Reader processes prepare the next chunks while this process has PostgreSQL write chunk k.
        # They are forked before the progress bar starts its thread: a fork copies no thread.
        readers = _Readers(_Reader(source=source, prepare=prepare, columns=columns),
                           processes=READERS if source.count > next(chunk_plan(source.count, chunk_rows))[1] else 0)
        bar = tqdm(total=source.count, unit=" rows", unit_scale=True, desc="importing parcels",
                   disable=not progress, dynamic_ncols=True)
        with readers, \
                transaction.atomic(), \
                ParcelBulkWrite(municipality=municipality, source=f"import {os.path.basename(path)}", at=at,
                                by=by, zone_by_overlay=zone_by_overlay) as bulk:
            bulk.create_stage()
            # Chunks follow each other until one comes back short: the driver's feature count only
            # shapes the plan, so an under-count never drops rows (a chunk read past the end is empty).
            plan = chunk_plan(source.count, chunk_rows)
            pending = deque()  # one chunk more than readers: a reader never waits for this process
            for start, rows in itertools.islice(plan, READERS + 1):
                pending.append((rows, readers.submit(start, rows, bulk.encoder)))
            while pending:
                rows, future = pending.popleft()
                chunk = future.result()
                if chunk.read == rows:
                    start, rows = next(plan)
                    pending.append((rows, readers.submit(start, rows, bulk.encoder)))
                else:
                    pending.clear()  # past the end: those chunks are empty
                if chunk.read == 0:
                    break
                rejects = list(chunk.rejects)
                repaired = chunk.repaired
                duplicates = bulk.write_chunk(chunk.kept)
                for row_no, code, first_row in duplicates:  # rare: their geometries are read again
                    geom = source.read(row_no - 1, 1, columns=[]).geoms[0]
                    rejects.append((row_no, code, f"duplicate parcel code {code!r} (first at row {first_row})",
                                    "" if geom is None else shapely.to_wkt(geom, rounding_precision=9)))
                    repaired -= row_no in chunk.repaired_rows
                summary.read += chunk.read
                summary.repaired += repaired
                summary.skipped += chunk.skipped
                if duplicates:  # a skipped row whose code came earlier is refused, not unchanged
                    written = set(chunk.kept.row_nos.tolist())
                    summary.skipped -= sum(row_no not in written for row_no, _, _ in duplicates)
                for row_no, code, reason, wkt in sorted(rejects):
                    summary.rejects.append((row_no, code, reason))
                    rejects_writer.writerow([row_no, code, reason, wkt])
                if chunk.hull is not None:
                    hulls.append(chunk.hull)
                bar.update(chunk.read)
            summary.created, summary.updated = bulk.created, bulk.updated
        rejects_file.close()
        summary.rejected = len(summary.rejects)
        if summary.rejects:
            os.replace(rejects_file.name, target)
            summary.rejects_path = str(target)
        else:
            os.unlink(rejects_file.name)
    except BaseException:
        rejects_file.close()
        os.unlink(rejects_file.name)
        raise
    finally:
        if bar is not None:
            bar.close()
    summary.unchanged = summary.read - summary.rejected - summary.created - summary.updated
    if hulls:
        summary.hull = shapely.convex_hull(shapely.GeometryCollection(hulls))
    return summary


def chunk_plan(count: int, chunk_rows: int) -> Iterator[tuple[int, int]]:
    """Yield (first row, rows) of each chunk to read, without end: small chunks first, so PostgreSQL
    starts within a fraction of a chunk's preparation; the last 2 x CHUNK_ROWS of COUNT in chunks of a
    quarter of what remains, so the chunks side by side in the readers are of a size, the readers
    finish together and little is left for PostgreSQL once they are done (measured: 0.2 s of 4 s
    at 210k rows, against halving what remains).

    >>> list(itertools.islice(chunk_plan(100_000, 25_000), 10))  # doctest: +NORMALIZE_WHITESPACE
    [(0, 3125), (3125, 6250), (9375, 12500), (21875, 25000), (46875, 25000), (71875, 7031),
     (78906, 5273), (84179, 3955), (88134, 3125), (91259, 3125)]
    """
    smallest = max(1, chunk_rows // 8)
    start, rows = 0, smallest
    while True:
        remaining = count - start
        if remaining > 0:
            rows = max(smallest, min(rows, remaining // 4 if remaining < 2 * chunk_rows else chunk_rows))
        else:
            rows = chunk_rows
        yield start, rows
        start += rows
        rows = min(2 * rows, chunk_rows)


@dataclass(frozen=True)
class _Reader:
    """What a reader needs to read and prepare any chunk of the source."""

    source: SourceInfo
    prepare: _Preparer
    columns: list[str]

    def __call__(self, start: int, rows: int, encoder: ChunkEncoder) -> _Prepared:
        return self.prepare(start, self.source.read(start, rows, columns=self.columns), encoder)


_reader_of_this_process: _Reader | None = None
PR_SET_PDEATHSIG = 1  # prctl(2)


def _start_reader(reader: _Reader, parent: int) -> None:
    global _reader_of_this_process
    _reader_of_this_process = reader
    # What the reader inherits (Django, the libraries: ~10^5 objects) is never garbage: left out of
    # the collector, which otherwise walks it on every full collection (~10% of a reader's time).
    gc.freeze()
    # A reader must not outlive an import whose process is killed: it waits on a pipe that its
    # own inherited copy keeps open, so it would never see the end. Linux ends it with its parent.
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (AttributeError, OSError):  # not Linux
        pass
    if os.getppid() != parent:  # the parent died before that was set
        os._exit(1)


def _read_chunk(start: int, rows: int, encoder: ChunkEncoder) -> _Prepared:
    return _reader_of_this_process(start, rows, encoder)


class _Readers:
    """Chunks prepared by PROCESSES forked reader processes (0: in this process, when asked).

    Forked, not spawned: a reader starts in milliseconds with Django and the libraries already
    loaded, and is handed the _Reader without pickling; only start rows go to it and prepared
    chunks come back. It never touches the database connection it inherits, and leaves with
    os._exit (multiprocessing's way), which closes nothing of the parent's.
    """

    def __init__(self, reader: _Reader, *, processes: int):
        self.reader, self.pool = reader, None
        if processes:
            self.pool = ProcessPoolExecutor(max_workers=processes, mp_context=multiprocessing.get_context("fork"),
                                            initializer=_start_reader, initargs=(reader, os.getpid()))
            self.pool.submit(int).result()  # fork them now, while this process has no other thread

    def submit(self, start: int, rows: int, encoder: ChunkEncoder) -> Future:
        if self.pool is not None:
            return self.pool.submit(_read_chunk, start, rows, encoder)
        future = Future()
        try:
            future.set_result(self.reader(start, rows, encoder))
        except Exception as exc:  # noqa: BLE001 - handed to the caller through the future, as a pool would
            future.set_exception(exc)
        return future

    def __enter__(self) -> _Readers:
        return self

    def __exit__(self, *exc) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)


def _rejects_target(path: str, rejects_path: str | None) -> Path:
    target = Path(rejects_path) if rejects_path else Path(settings.BASE_DIR) / "var" / "rejects" / (
        Path(path).stem + ".rejects.csv")
    target.parent.mkdir(parents=True, exist_ok=True)
    return target


_URL_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def _url_safe(code: str) -> bool:
    return _URL_SAFE.fullmatch(code) is not None
