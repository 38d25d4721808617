"""Bulk import of parcels from any GDAL source: upsert by parcel code, with full history.

The source is read in chunks (CHUNK_ROWS features), so memory stays flat whatever its size. A
thread reads and prepares the next chunk (pyogrio, shapely, pyproj: they release the GIL) while
PostgreSQL ingests this one: COPY into a temporary table, then the set-based merge of
parcels.services.ParcelBulkWrite (created, updated with a new version, or unchanged). One
transaction for the whole import: bad input writes nothing.
"""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import shapely
from django.conf import settings
from django.db import connection, transaction
from tqdm import tqdm

from gisportal import crs
from parcels.geometry import check_polygons
from parcels.models import LandUse, Municipality, Parcel, ParcelStatus
from parcels.services import ParcelBulkWrite
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
COPY_COLUMNS = ("row_no, parcel_code, plan_no, block_no, parcel_no, district_code, land_use, zone_code, "
                "stated_area, area_m2, perimeter_m, geom")
COPY_SQL = (f"COPY parcel_stage ({COPY_COLUMNS}) FROM STDIN WITH (FORMAT csv, "
            "FORCE_NOT_NULL (parcel_code, plan_no, block_no, parcel_no, district_code, land_use, zone_code))")


@dataclass
class ImportSummary:
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    repaired: int = 0
    rejected: int = 0
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


@dataclass
class _Prepared:
    """One chunk, checked and ready to COPY: built in the reader thread."""

    start: int
    read: int
    csv_text: str
    kept: int
    repaired: int
    rejects: list[tuple[int, str, str, str]]  # (row, code, reason, wkt)
    hull: shapely.Geometry | None
    repaired_rows: set[int]  # rows kept after a repair (a later duplicate check may still refuse them)
    source_geoms: np.ndarray  # the chunk's geometries as read, for the WKT of rows refused later


class _Preparer:
    """Turn source chunks into COPY text. Codes repeated in the file are refused by the database
    (ParcelBulkWrite.refuse_duplicates), so nothing here grows with the file."""

    def __init__(self, *, mapping: dict[str, str], municipality: Municipality, source_srid: int,
                 retired: set[str], want_hull: bool = False):
        self.mapping, self.source_srid, self.retired = mapping, source_srid, retired
        self.want_hull = want_hull
        self.metric_srid = municipality.metric_srid
        self.storage = settings.STORAGE_SRID

    def __call__(self, start: int, table: SourceTable) -> _Prepared:
        n, storage, mapping = len(table), self.storage, self.mapping
        geoms = crs.transform(table.geoms, table.srid, storage)
        checked = check_polygons(geoms, srid=storage, metric_srid=self.metric_srid)
        hull = None
        if self.want_hull:
            # One linestring through every vertex: the same hull as their multipoint, ~10x faster to build.
            coords = shapely.get_coordinates(table.geoms[~shapely.is_missing(table.geoms)])
            hull = shapely.convex_hull(shapely.linestrings(coords)) if len(coords) >= 2 else None

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
            for i, value in enumerate(values):
                if len(value) > limit:
                    raise SourceError(f"row {start + i + 1}: {target} {value[:40]!r} is longer than {limit} "
                                      f"characters (field {mapping[target]!r}); nothing was imported")

        rows, kept_geoms, rejects, repaired_rows = [], [], [], set()
        retired = self.retired
        for i, result in enumerate(checked):
            code, row_no = codes[i], start + i + 1
            land_use = uses[i].lower().replace(" ", "_") or LandUse.RESIDENTIAL.value
            reason = None
            if not code or code.strip("-") == "":
                reason = "missing parcel code"
            elif len(code) > CODE_MAX_LENGTH or not _url_safe(code):
                reason = f"parcel code {code!r} is not URL-safe (letters, digits, '.', '_', '-'; at most 64)"
            elif code in retired:
                reason = f"parcel {code!r} is retired; a retired parcel is never changed by an import"
            elif land_use not in LAND_USES:
                reason = f"unknown land use {land_use!r}; expected one of {', '.join(sorted(LAND_USES))}"
            elif result.geom is None:
                reason = result.reason
            if reason:
                geom = table.geoms[i]
                rejects.append((row_no, code, reason,
                                "" if geom is None else shapely.to_wkt(geom, rounding_precision=9)))
                continue
            if result.repaired:
                repaired_rows.add(row_no)
            rows.append((row_no, code, plans[i], blocks[i], numbers[i], districts[i], land_use, zones[i], areas[i]))
            kept_geoms.append(result.geom)

        kept = np.array(kept_geoms, dtype=object)
        # Measurements in the municipality's metric CRS, vectorised (same PROJ pipeline as ST_Transform).
        metric = crs.transform(kept, storage, self.metric_srid)
        areas_m2, perimeters = shapely.area(metric).tolist(), shapely.length(metric).tolist()
        # Binary WKB then bytes.hex(): GEOS's hex writer is ~5x slower.
        prefix = f"SRID={storage};"
        wkb = [prefix + b.hex() for b in shapely.to_wkb(kept, include_srid=False).tolist()]
        buffer = io.StringIO()
        csv.writer(buffer).writerows(
            (*row, area, perim, hexwkb) for row, area, perim, hexwkb in zip(rows, areas_m2, perimeters, wkb))
        return _Prepared(start=start, read=n, csv_text=buffer.getvalue(), kept=len(rows),
                         repaired=len(repaired_rows), rejects=rejects, hull=hull, repaired_rows=repaired_rows,
                         source_geoms=table.geoms)


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
    prepare = _Preparer(mapping=mapping, municipality=municipality, source_srid=source.srid, retired=retired,
                        want_hull=want_hull)
    chunk_rows = max(1, int(chunk_rows))
    columns = sorted(set(mapping.values()))

    def load(start: int) -> _Prepared:
        return prepare(start, source.read(start, chunk_rows, columns=columns))

    target = _rejects_target(path, rejects_path)
    rejects_file = tempfile.NamedTemporaryFile("w", newline="", encoding="utf-8", delete=False,
                                               dir=target.parent, prefix=".", suffix=".part")
    rejects_writer = csv.writer(rejects_file)
    rejects_writer.writerow(["row", "parcel_code", "reason", "wkt"])
    hulls = []
    bar = tqdm(total=source.count, unit=" rows", unit_scale=True, desc="importing parcels", disable=not progress,
               dynamic_ncols=True)
    try:
        # One reader thread: it prepares chunk k+1 while this thread has PostgreSQL merge chunk k.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="parcel-reader") as pool, \
                transaction.atomic(), \
                ParcelBulkWrite(municipality=municipality, source=f"import {os.path.basename(path)}", at=at,
                                by=by) as bulk:
            bulk.create_stage()
            # Chunks follow each other until one comes back short: a driver's feature count is only
            # used to read ahead, so an under-count never drops rows.
            pending = pool.submit(load, 0)
            while pending is not None:
                chunk = pending.result()
                following = chunk.start + chunk_rows
                pending = pool.submit(load, following) if chunk.read == chunk_rows else None
                if chunk.read == 0:
                    break
                with connection.cursor() as cursor:
                    cursor.cursor.copy_expert(COPY_SQL, io.StringIO(chunk.csv_text), size=1 << 20)
                rejects = list(chunk.rejects)
                repaired = chunk.repaired
                for row_no, code, first_row in bulk.refuse_duplicates():
                    geom = chunk.source_geoms[row_no - chunk.start - 1]
                    rejects.append((row_no, code, f"duplicate parcel code {code!r} (first at row {first_row})",
                                    "" if geom is None else shapely.to_wkt(geom, rounding_precision=9)))
                    repaired -= row_no in chunk.repaired_rows
                bulk.merge_stage(zone_by_overlay="zone_code" not in mapping)
                summary.read += chunk.read
                summary.repaired += repaired
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
        bar.close()
    summary.unchanged = summary.read - summary.rejected - summary.created - summary.updated
    if hulls:
        summary.hull = shapely.convex_hull(shapely.GeometryCollection(hulls))
    return summary


def _rejects_target(path: str, rejects_path: str | None) -> Path:
    target = Path(rejects_path) if rejects_path else Path(settings.BASE_DIR) / "var" / "rejects" / (
        Path(path).stem + ".rejects.csv")
    target.parent.mkdir(parents=True, exist_ok=True)
    return target


_URL_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def _url_safe(code: str) -> bool:
    return _URL_SAFE.fullmatch(code) is not None
