"""Writes to the parcel registry: the one writer of parcel state.

Every change keeps the parcel's current state as a past version first (ParcelVersion) and, once the
transaction commits, sends one ``parcels_changed`` signal for the operation (parcels.signals). The
bulk path (imports) is set-based SQL in parcels/sql/, run from here through ``ParcelBulkWrite``.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import shapely
from django.contrib.gis.geos import GEOSGeometry
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from psycopg2.errors import UniqueViolation

from gisportal import crs
from gisportal.copy import (
    BINARY_SIGNATURE,
    binary_copy_data,
    binary_copy_payload,
    binary_copy_rows,
    constant_field,
    int4_fields,
)
from gisportal.errors import Conflict, InvalidParameter
from parcels import sql
from parcels.models import (
    ChangeKind,
    District,
    Municipality,
    Parcel,
    ParcelStatus,
    ParcelVersion,
    Record,
    RecordKind,
    ZoningDistrict,
)
from parcels.signals import ParcelsChanged, merge_boxes, parcels_changed

VERSIONED_FIELDS = ("plan_no", "block_no", "parcel_no", "district", "land_use", "zone_code", "stated_area_m2",
                    "area_m2", "perimeter_m", "status", "geom")


def municipality_create(*, code: str, name_en: str, name_ar: str = "", boundary_wgs84=None,
                        metric_srid: int | None = None, centroid_lonlat: tuple[float, float] | None = None,
                        approval_target_days: int = 60) -> Municipality:
    """Create a municipality; its metric CRS is the UTM zone of its centroid unless given."""
    if Municipality.objects.filter(code=code).exists():
        raise Conflict(f"municipality {code!r} already exists")
    boundary = None
    if boundary_wgs84 is not None:
        boundary_storage = crs.transform(shapely.MultiPolygon(shapely.get_parts(boundary_wgs84)), 4326,
                                         crs.storage_srid())
        boundary = GEOSGeometry(memoryview(boundary_storage.wkb), srid=crs.storage_srid())
        centroid_lonlat = centroid_lonlat or (boundary_wgs84.centroid.x, boundary_wgs84.centroid.y)
    if metric_srid is None:
        if centroid_lonlat is None:
            raise InvalidParameter(f"municipality {code!r} needs a boundary, a centroid or a metric SRID")
        metric_srid = crs.utm_srid_for(*centroid_lonlat)
    municipality = Municipality(code=code, name_en=name_en, name_ar=name_ar, boundary=boundary,
                                metric_srid=metric_srid, approval_target_days=approval_target_days)
    municipality.full_clean()
    municipality.save()
    return municipality


def municipality_set_boundary(*, municipality: Municipality, boundary_wgs84) -> Municipality:
    """Set the municipality's boundary from a lon/lat (Multi)Polygon."""
    boundary_storage = crs.transform(shapely.MultiPolygon(shapely.get_parts(boundary_wgs84)), 4326,
                                     crs.storage_srid())
    municipality.boundary = GEOSGeometry(memoryview(boundary_storage.wkb), srid=crs.storage_srid())
    municipality.save(update_fields=["boundary"])
    return municipality


def measure_in_place(parcel: Parcel, metric_srid: int) -> None:
    metric = parcel.geom.transform(metric_srid, clone=True)
    parcel.area_m2 = round(metric.area, 4)
    parcel.perimeter_m = round(metric.length, 4)


HISTORY_FIELDS = VERSIONED_FIELDS + ("change", "change_source", "changed_by")
SAME_GEOMETRY_WITHIN = 0.001  # storage units (Web Mercator metres: under 1 mm on the ground)


def _box(geom) -> tuple[float, float, float, float]:
    return tuple(geom.extent)


def _announce(*, municipality: Municipality, operation: str, source: str, boxes, created: int = 0,
              updated: int = 0, retired: int = 0) -> None:
    """Send parcels_changed once the surrounding transaction commits (now, outside one)."""
    boxes = np.asarray(boxes, dtype=float).reshape(-1, 4)
    if not len(boxes):
        return
    extent = (float(boxes[:, 0].min()), float(boxes[:, 1].min()), float(boxes[:, 2].max()),
              float(boxes[:, 3].max()))
    change = ParcelsChanged(
        municipality_id=municipality.pk, municipality_code=municipality.code, operation=operation,
        source=source[:200], created=created, updated=updated, retired=retired, srid=crs.storage_srid(),
        bboxes=tuple(merge_boxes(boxes)), extent=extent,
    )
    transaction.on_commit(lambda: parcels_changed.send(sender=Parcel, change=change))


def record_create(*, municipality: Municipality, reference: str, kind: str = RecordKind.PLAN,
                  at: datetime | None = None) -> Record:
    """Create the record (plan, deed, survey) that parcels will be created or retired by."""
    record = Record(municipality=municipality, kind=kind, reference=reference[:200], created_at=at or timezone.now())
    record.full_clean()
    record.save()
    return record


def _archive_current_state(parcel: Parcel, *, until: datetime) -> ParcelVersion:
    """Keep the parcel's current state as a past version, valid until UNTIL."""
    return ParcelVersion.objects.create(
        parcel=parcel, version=parcel.version, valid_from=parcel.updated_at, valid_to=until,
        **{name: getattr(parcel, name) for name in HISTORY_FIELDS},
    )


def _begin_state(parcel: Parcel, *, change: str, at: datetime, source: str, by) -> None:
    parcel.version += 1
    parcel.updated_at = at
    parcel.change, parcel.change_source, parcel.changed_by = change, source[:200], by


@transaction.atomic
def parcel_create(*, municipality: Municipality, parcel_code: str, geom: GEOSGeometry, at: datetime | None = None,
                  source: str = "", by=None, created_by_record: Record | None = None, **fields) -> Parcel:
    """Create an active parcel (its first state)."""
    at = at or timezone.now()
    parcel = Parcel(municipality=municipality, parcel_code=parcel_code, geom=geom, valid_from=at, updated_at=at,
                    created_by_record=created_by_record, change=ChangeKind.CREATED, change_source=source[:200],
                    changed_by=by, **fields)
    measure_in_place(parcel, municipality.metric_srid)
    parcel.full_clean(exclude=["created_by_record", "retired_by_record", "changed_by"])
    parcel.save()
    _announce(municipality=municipality, operation="create", source=source, boxes=[_box(parcel.geom)], created=1)
    return parcel


@transaction.atomic
def parcel_update(*, parcel: Parcel, at: datetime | None = None, source: str = "", by=None, **changes) -> Parcel:
    """Change a parcel's fields or geometry, keeping the previous state as a version."""
    at = at or timezone.now()
    parcel = Parcel.objects.select_for_update().select_related("municipality").get(pk=parcel.pk)
    if parcel.status != ParcelStatus.ACTIVE:
        raise Conflict(f"parcel {parcel.parcel_code} is retired and cannot be changed")
    unknown = set(changes) - set(VERSIONED_FIELDS)
    if unknown:
        raise InvalidParameter(f"cannot change {', '.join(sorted(unknown))} of a parcel")
    old_box = _box(parcel.geom)
    _archive_current_state(parcel, until=at)
    for name, value in changes.items():
        setattr(parcel, name, value)
    measure_in_place(parcel, parcel.municipality.metric_srid)
    _begin_state(parcel, change=ChangeKind.UPDATED, at=at, source=source, by=by)
    parcel.save()
    _announce(municipality=parcel.municipality, operation="update", source=source,
              boxes=[old_box, _box(parcel.geom)], updated=1)
    return parcel


@transaction.atomic
def parcels_retire(*, parcels: list[Parcel], at: datetime | None = None, source: str = "", by=None,
                   retired_by_record: Record | None = None) -> None:
    """Retire parcels (never delete them): their last version ends, a retired version begins."""
    at = at or timezone.now()
    locked = list(Parcel.objects.select_for_update().select_related("municipality").filter(
        pk__in=[p.pk for p in parcels]).order_by("pk"))
    boxes = _retire_locked(locked, at=at, source=source, by=by, retired_by_record=retired_by_record)
    if locked:
        _announce(municipality=locked[0].municipality, operation="retire", source=source, boxes=boxes,
                  retired=len(boxes))


def _retire_locked(parcels: list[Parcel], *, at: datetime, source: str, by, retired_by_record: Record | None):
    """Retire parcels already locked by the caller; return their boxes."""
    boxes = []
    for parcel in parcels:
        if parcel.status != ParcelStatus.ACTIVE:
            raise Conflict(f"parcel {parcel.parcel_code} is already retired")
        if parcel.municipality_id != parcels[0].municipality_id:
            raise InvalidParameter("parcels of one municipality are retired together, not of several")
        _archive_current_state(parcel, until=at)
        parcel.status = ParcelStatus.RETIRED
        parcel.valid_to = at
        parcel.retired_by_record = retired_by_record
        _begin_state(parcel, change=ChangeKind.RETIRED, at=at, source=source, by=by)
        parcel.save()
        boxes.append(_box(parcel.geom))
    return boxes


@dataclass(frozen=True)
class NewParcel:
    """A parcel a record creates (a lot, road or open space of an approved plan), in the storage SRID."""

    parcel_code: str
    geom: GEOSGeometry
    land_use: str
    plan_no: str = ""
    block_no: str = ""
    parcel_no: str = ""
    stated_area_m2: float | None = None


def _overlay(model, municipality: Municipality, geoms: list[GEOSGeometry], value: str) -> list:
    """Return, for each geometry, VALUE of the row of MODEL (District, ZoningDistrict) covering most of it."""
    if not geoms:
        return []
    extent = GEOSGeometry(shapely.box(*shapely.total_bounds([shapely.from_wkb(bytes(g.wkb)) for g in geoms])).wkt,
                          srid=crs.storage_srid())
    rows = list(model.objects.filter(municipality=municipality, geom__intersects=extent).values_list(value, "geom"))
    out = []
    for geom in geoms:
        best, best_area = None, 0.0
        for candidate, area in rows:
            shared = area.intersection(geom).area if area.intersects(geom) else 0.0
            if shared > best_area:
                best, best_area = candidate, shared
        out.append(best)
    return out


@transaction.atomic
def record_apply(*, record: Record, retire: list[Parcel], create: list[NewParcel], at: datetime | None = None,
                 source: str = "", by=None) -> list[Parcel]:
    """Apply a record (an approved plan, a deed): retire its parent parcels and create its new ones, in one
    transaction, lineage both ways through the record, one parcels_changed for the whole.

    The parents are locked (FOR UPDATE) and must all be active: a parent retired by a concurrent record
    is a Conflict, and nothing is written. District and zone code of each new parcel come from the
    district and zoning area covering most of it.
    """
    at = at or timezone.now()
    municipality = record.municipality
    locked = list(Parcel.objects.select_for_update().filter(pk__in=[p.pk for p in retire]).order_by("pk"))
    if len(locked) != len(retire):
        raise Conflict("a parent parcel of the record no longer exists")
    for parent in locked:
        if parent.municipality_id != municipality.pk:
            raise InvalidParameter(f"parcel {parent.parcel_code} is not in municipality {municipality.code}")
    codes = [c.parcel_code for c in create]
    taken = sorted(Parcel.objects.filter(municipality=municipality, parcel_code__in=codes)
                   .values_list("parcel_code", flat=True))
    if taken or len(set(codes)) != len(codes):
        raise Conflict(f"parcel codes already in use: {', '.join(taken[:10]) or 'repeated in the record'}")
    boxes = _retire_locked(locked, at=at, source=source, by=by, retired_by_record=record)
    geoms = [c.geom for c in create]
    districts = _overlay(District, municipality, geoms, "pk")
    zones = _overlay(ZoningDistrict, municipality, geoms, "zone_code")
    children = []
    for child, district_id, zone_code in zip(create, districts, zones):
        parcel = Parcel(
            municipality=municipality, parcel_code=child.parcel_code, geom=child.geom, valid_from=at, updated_at=at,
            created_by_record=record, change=ChangeKind.CREATED, change_source=source[:200], changed_by=by,
            land_use=child.land_use, plan_no=child.plan_no, block_no=child.block_no, parcel_no=child.parcel_no,
            stated_area_m2=child.stated_area_m2, district_id=district_id, zone_code=zone_code or "",
        )
        measure_in_place(parcel, municipality.metric_srid)
        parcel.full_clean(exclude=["created_by_record", "retired_by_record", "changed_by", "district"])
        children.append(parcel)
    Parcel.objects.bulk_create(children)
    _announce(municipality=municipality, operation="record", source=source,
              boxes=boxes + [_box(p.geom) for p in children], created=len(children), retired=len(locked))
    return children


# Every join of the merge is a probe of a unique or spatial index (parcel code, id, row_no, zoning
# geometry) from a chunk of a few thousand rows. The registry's statistics often predate the import
# (a first import just committed, never analysed), and the planner then scans every parcel of the
# municipality once per staged row (measured: 20 s instead of 0.1 s for 13k rows); so the merge is
# told to probe. JIT compilation costs more than it saves on chunks this size.
# The temporary tables of one bulk write (parcels/sql/stage_create.sql), dropped when it ends.
STAGE_TABLES = "parcel_stage, parcel_match, parcel_codes, parcel_seen, parcel_written"
PROBE_ONLY = ("SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off; SET LOCAL enable_seqscan = off; "
              "SET LOCAL enable_material = off; SET LOCAL enable_bitmapscan = off; SET LOCAL jit = off")
COPY_READ_BYTES = 8 << 20
TEMP_BUFFERS_MB = 256  # at most; PostgreSQL allocates the session's temporary buffers as they are used
PLANNER_DEFAULTS = ("RESET enable_hashjoin; RESET enable_mergejoin; RESET enable_seqscan; RESET enable_material; "
                    "RESET enable_bitmapscan; RESET jit")


def derived_fingerprint(*, municipality: Municipality, zone_by_overlay: bool) -> str:
    """Return a fingerprint of the districts (and, with ZONE_BY_OVERLAY, the zoning) of MUNICIPALITY:
    what a bulk write derives a parcel's district and zone from besides the row itself."""
    with connection.cursor() as cursor:
        cursor.execute(sql.load("derived_fingerprint"),
                       {"municipality": municipality.pk, "zone_by_overlay": zone_by_overlay})
        districts, zoning = cursor.fetchone()
    return f"districts {districts} zoning {zoning}"


@dataclass(frozen=True)
class EncodedChunk:
    """One chunk's rows in binary COPY form (gisportal.copy), for ParcelBulkWrite.write_chunk."""

    copy: str  # the COPY of parcels/sql/ the rows are encoded for
    row_nos: np.ndarray  # the rows' numbers in the source, ascending
    payload: bytes  # the rows' COPY data, whole: one object to pass between processes and to send
    row_sizes: np.ndarray  # each row's bytes in PAYLOAD, to leave rows out (rare: a repeated code)
    codes: bytes  # COPY data of (row_no, parcel_code) for every row, and every row skipped: sql/copy_codes.sql
    boxes: np.ndarray  # the rows' bounds, in the storage CRS
    # BOXES merged as the change signal carries them (signals.merge_boxes), where the rows were
    # prepared: set for copy_created (a staged chunk's boxes come back from its INSERT)
    merged_boxes: np.ndarray | None
    code_count: int  # rows in CODES

    def payload_without(self, drop: np.ndarray) -> bytes:
        """Return the COPY data of the rows but those at the positions DROP."""
        ends = len(BINARY_SIGNATURE) + np.cumsum(self.row_sizes)
        starts = ends - self.row_sizes
        keep = np.setdiff1d(np.arange(len(self.row_sizes)), drop)
        return binary_copy_payload([self.payload[a:b] for a, b in zip(starts[keep].tolist(), ends[keep].tolist())])


@dataclass(frozen=True)
class ChunkEncoder:
    """How ParcelBulkWrite wants a chunk encoded: small and picklable, so reader processes encode
    chunks while PostgreSQL writes the one before."""

    copy: str
    constants: tuple[bytes, ...]  # leading fields, the same in every row
    fields: tuple[str, ...]  # then these, by name in ParcelBulkWrite.FIELDS
    with_row_no: bool  # between the two

    def encode(self, *, row_nos: np.ndarray, fields: dict[str, list[bytes]], boxes: np.ndarray,
               skipped: tuple[np.ndarray, list[bytes]] | None = None) -> EncodedChunk:
        """Encode rows given as binary COPY fields, one list per name in ParcelBulkWrite.FIELDS.
        SKIPPED: (row numbers, parcel_code fields) of rows read but not written (unchanged): their
        codes still count as seen."""
        n, row_no_fields = len(row_nos), int4_fields(row_nos)
        columns = [*self.constants, *([row_no_fields] if self.with_row_no else []), *(fields[f] for f in self.fields)]
        code_rows, code_fields = row_no_fields, fields["parcel_code"]
        if skipped is not None and len(skipped[0]):
            order = np.argsort(np.concatenate([row_nos, skipped[0]]), kind="stable").tolist()
            every_row, every_code = [*row_no_fields, *int4_fields(skipped[0])], [*code_fields, *skipped[1]]
            code_rows, code_fields = [every_row[i] for i in order], [every_code[i] for i in order]
        rows = binary_copy_rows(columns, n)
        return EncodedChunk(copy=self.copy, row_nos=row_nos, payload=binary_copy_payload(rows),
                            row_sizes=np.fromiter(map(len, rows), dtype=np.int64, count=n),
                            codes=binary_copy_data([code_rows, code_fields], len(code_rows)), boxes=boxes,
                            merged_boxes=(np.array(merge_boxes(boxes), dtype=float).reshape(-1, 4)
                                          if self.copy == "copy_created" else None),
                            code_count=len(code_rows))


class ParcelBulkWrite:
    """Write chunks of prepared rows into the registry inside the caller's transaction: created,
    updated (the old state archived as a version, as the single-parcel services do) or unchanged.
    One parcels_changed at the end.

        with transaction.atomic(), ParcelBulkWrite(municipality=m, source="import x.gpkg") as bulk:
            bulk.create_stage()
            chunk = bulk.encoder.encode(row_nos=..., fields={...}, boxes=...)  # anywhere, e.g. a reader process
            duplicates = bulk.write_chunk(chunk)

    Codes that came earlier in the import are refused first (sql/seen_add.sql). When nothing needs
    matching, looking up or overlaying (a first import into a municipality with no parcels,
    districts or zoning), chunks are COPYed straight into parcels_parcel; otherwise through the
    stage (sql/stage_create.sql) and the set-based merge. ZONE_BY_OVERLAY: each parcel takes the
    zone covering most of it.
    """

    FIELDS = ("parcel_code", "plan_no", "block_no", "parcel_no", "district_code", "land_use", "zone_code",
              "stated_area", "area_m2", "perimeter_m", "geom", "source_digest")
    # parcels_parcel's columns in sql/copy_created.sql, from the staged fields (district_code has no
    # column there: without districts it never names one).
    CREATED_FIELDS = ("parcel_code", "plan_no", "block_no", "parcel_no", "land_use", "zone_code", "stated_area",
                      "area_m2", "perimeter_m", "geom", "source_digest")

    def __init__(self, *, municipality: Municipality, source: str, at: datetime | None = None, by=None,
                 operation: str = "import", zone_by_overlay: bool = False):
        self.municipality, self.operation, self.source = municipality, operation, source[:200]
        self.zone_by_overlay = zone_by_overlay
        self.params = {"municipality": municipality.pk, "now": at or timezone.now(), "source": self.source,
                       "by": getattr(by, "pk", None), "same_geometry_within": SAME_GEOMETRY_WITHIN,
                       "srid": int(crs.storage_srid())}
        self.created = self.updated = 0
        self._boxes: list[np.ndarray] = []
        self._cursor = None
        self.encoder: ChunkEncoder | None = None  # set on entering, once the way in is known

    def __enter__(self) -> ParcelBulkWrite:
        if not transaction.get_connection().in_atomic_block:
            raise RuntimeError("ParcelBulkWrite runs inside a transaction (transaction.atomic())")
        self._cursor = transaction.get_connection().cursor()
        cursor = self._cursor
        cursor.execute(PROBE_ONLY)
        self._enlarge_temp_buffers()
        # The registry's foreign keys are deferred (Django's default): checked row by row at COMMIT,
        # ~3 s for 200k new parcels after everything else. Checked at the end of each chunk's
        # statement instead, they run while the next chunk is being prepared. Same checks, same
        # transaction; the caller's other deferred constraints are left as they are.
        cursor.execute(sql.load("parcel_foreign_keys"))
        self._foreign_keys = ", ".join(connection.ops.quote_name(name) for name, in cursor.fetchall())
        if self._foreign_keys:
            cursor.execute(f"SET CONSTRAINTS {self._foreign_keys} IMMEDIATE")
        cursor.execute("SELECT EXISTS (SELECT 1 FROM parcels_district WHERE municipality_id = %s), "
                       "EXISTS (SELECT 1 FROM parcels_zoningdistrict WHERE municipality_id = %s), "
                       "EXISTS (SELECT 1 FROM parcels_parcel WHERE municipality_id = %s)",
                       [self.municipality.pk] * 3)
        self.has_districts, self.has_zoning, self.had_parcels = cursor.fetchone()
        self._statistics_checked = False
        self._seen_kept = False  # parcel_seen holds every code written (see _copy_unless_repeated)
        if self.had_parcels or self.has_districts or (self.zone_by_overlay and self.has_zoning):
            self.encoder = ChunkEncoder(copy="copy_stage", constants=(), fields=self.FIELDS, with_row_no=True)
        else:
            now = self.params["now"]
            self.encoder = ChunkEncoder(copy="copy_created", constants=(
                constant_field(self.municipality.pk, "int8"), constant_field(ParcelStatus.ACTIVE.value, "text"),
                constant_field(1, "int4"), constant_field(now, "timestamptz"), constant_field(now, "timestamptz"),
                constant_field(ChangeKind.CREATED.value, "text"), constant_field(self.source, "text"),
                constant_field(self.params["by"], "int4"),
            ), fields=self.CREATED_FIELDS, with_row_no=False)
        return self

    def _enlarge_temp_buffers(self) -> None:
        """Let the session keep the stage in memory: a chunk's stage (~30 MB) and the codes seen
        (~20 MB at 200k) overflow the default 8 MB of temp_buffers and go to disk on every chunk.
        PostgreSQL refuses the change once the session has used a temporary table; then the
        import runs with what the session has."""
        try:
            with transaction.atomic():
                self._cursor.execute(f"SET temp_buffers = '{TEMP_BUFFERS_MB}MB'")
        except DatabaseError:
            pass

    def create_stage(self) -> None:
        self._cursor.execute(f"DROP TABLE IF EXISTS {STAGE_TABLES}")
        self._cursor.execute(sql.load("stage_create"), self.params)

    def write_chunk(self, chunk: EncodedChunk) -> list[tuple[int, str, int]]:
        """Write one chunk encoded by self.encoder. Return the rows refused as repeating an earlier
        code: (row, code, first row)."""
        if chunk.copy != self.encoder.copy:
            raise ValueError(f"chunk encoded for {chunk.copy}, not {self.encoder.copy}")
        if not chunk.code_count:
            return []
        if chunk.copy == "copy_created" and not self._seen_kept and self._copy_unless_repeated(chunk):
            return []
        payload, row_nos, boxes = chunk.payload, chunk.row_nos, chunk.boxes
        duplicates = self._refuse_duplicates(chunk.codes, chunk.code_count)
        if duplicates:
            drop = np.flatnonzero(np.isin(row_nos, [row for row, _, _ in duplicates]))
            payload = chunk.payload_without(drop)
            row_nos, boxes = np.delete(row_nos, drop), np.delete(np.asarray(boxes).reshape(-1, 4), drop, axis=0)
        if not len(row_nos):
            return duplicates
        # Few large reads of the data: fewer trips through psycopg2's Python file interface.
        self._cursor.cursor.copy_expert(sql.load(chunk.copy), io.BytesIO(payload), size=COPY_READ_BYTES)
        if chunk.copy == "copy_created":
            self.created += len(row_nos)
            self._keep_boxes(boxes if duplicates else chunk.merged_boxes)
        else:
            self._merge_stage()
        return duplicates

    def _copy_unless_repeated(self, chunk: EncodedChunk) -> bool:
        """COPY a chunk of new parcels straight in, parcel_code_unique telling whether it repeats a
        code: return True when written. Repeats are rare, so codes are not checked one by one
        beforehand (a third of a first import's time in PostgreSQL); on the first, the chunk is
        rolled back and this import checks codes against those seen from then on."""
        cursor = self._cursor.cursor
        cursor.execute("SAVEPOINT parcel_chunk")
        try:
            cursor.copy_expert(sql.load(chunk.copy), io.BytesIO(chunk.payload), size=COPY_READ_BYTES)
        except UniqueViolation as exc:
            cursor.execute("ROLLBACK TO SAVEPOINT parcel_chunk")
            if exc.diag.constraint_name != "parcel_code_unique":
                raise
            cursor.execute(sql.load("seen_from_written"))
            self._seen_kept = True
            return False
        cursor.execute("RELEASE SAVEPOINT parcel_chunk")
        cursor.copy_expert(sql.load("copy_written"), io.BytesIO(chunk.codes), size=COPY_READ_BYTES)
        self.created += len(chunk.row_nos)
        self._keep_boxes(chunk.merged_boxes)
        return True

    def _refuse_duplicates(self, codes: bytes, rows: int) -> list[tuple[int, str, int]]:
        self._cursor.cursor.copy_expert(sql.load("copy_codes"), io.BytesIO(codes), size=COPY_READ_BYTES)
        self._cursor.execute(sql.load("seen_add"))
        duplicates = []
        if self._cursor.rowcount != rows:
            self._cursor.execute(sql.load("stage_duplicates"))
            duplicates = self._cursor.fetchall()
        self._cursor.execute("TRUNCATE parcel_codes")
        return duplicates

    def _merge_stage(self) -> None:
        cursor = self._cursor
        if self.has_districts:
            cursor.execute(sql.load("stage_district_by_code"), self.params)
            cursor.execute(sql.load("stage_district_by_location"), self.params)
        if self.zone_by_overlay and self.has_zoning:
            cursor.execute(sql.load("stage_zone_overlay"), self.params)
        changed = 0
        if self.had_parcels:  # codes are unique within one import, so earlier chunks never match
            self._refresh_statistics()
            cursor.execute(sql.load("stage_match"), self.params)
            # Unchanged rows read in another way than last time (another file, or no digest yet): the
            # next import of this file skips them.
            cursor.execute(sql.load("stage_keep_digest"))
            cursor.execute("SELECT count(*) FROM parcel_match WHERE is_changed")
            changed = cursor.fetchone()[0]
            if changed:
                cursor.execute(sql.load("stage_archive_changed"), self.params)
                self._keep_boxes(cursor.fetchall())
                cursor.execute(sql.load("stage_update_changed"), self.params)
                self._keep_boxes(cursor.fetchall())
        cursor.execute(sql.load("stage_insert_new"), self.params)
        created = cursor.rowcount
        self._keep_boxes(cursor.fetchall())
        cursor.execute("TRUNCATE parcel_stage, parcel_match")
        self.created += created
        self.updated += changed

    def _refresh_statistics(self) -> None:
        """Statistics that predate a large change (the first import just committed) make the planner
        pick the wrong index even when told to probe: refresh them before the first match (~0.3 s at
        200k). A re-import whose rows are all skipped by their digest never matches, nor pays this."""
        if self._statistics_checked:
            return
        self._statistics_checked = True
        self._cursor.execute(sql.load("statistics_stale"))
        if self._cursor.fetchone()[0]:
            self._cursor.execute("ANALYZE parcels_parcel")

    def _keep_boxes(self, rows) -> None:
        if len(rows):
            boxes = np.asarray(rows, dtype=float).reshape(-1, 4)
            # Merge as we go, so a 400k-parcel import keeps a few hundred boxes, not 400k.
            self._boxes = [np.array(merge_boxes(np.concatenate([*self._boxes, boxes])))]

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                self._cursor.execute(f"DROP TABLE IF EXISTS {STAGE_TABLES}")
                self._cursor.execute(PLANNER_DEFAULTS)
                if self._foreign_keys:
                    self._cursor.execute(f"SET CONSTRAINTS {self._foreign_keys} DEFERRED")
        finally:
            self._cursor.close()
        if exc_type is None and self._boxes:
            _announce(municipality=self.municipality, operation=self.operation, source=self.source,
                      boxes=np.concatenate(self._boxes), created=self.created, updated=self.updated)
