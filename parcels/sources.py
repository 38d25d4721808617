"""Read any vector source GDAL reads into plain arrays, with its CRS settled.

Shapefile (plain or zipped), GeoPackage, GeoJSON, FlatGeobuf, KML, CSV with a WKT column.
Every problem becomes a SourceError whose message is one line naming it.
"""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass

import numpy as np
import pyogrio
import pyogrio.raw
import shapely
from pyogrio.errors import DataLayerError, DataSourceError
from pyproj import CRS
from pyproj.exceptions import CRSError

CSV_OPEN_OPTIONS = {
    "GEOM_POSSIBLE_NAMES": "WKT,wkt,geometry,geom,the_geom,WKT_GEOM",
    "KEEP_GEOM_COLUMNS": "NO",
}


class SourceError(Exception):
    """A source that cannot be imported; the message is one line naming the problem."""


@dataclass
class SourceTable:
    path: str
    layer: str
    srid: int
    srid_from: str  # "file", "--srid" or "assumed lon/lat"
    fields: list[str]
    columns: dict[str, np.ndarray]
    wkb: np.ndarray  # each row's geometry as read: WKB bytes, or None where a row has none; in `srid`
    parsed: np.ndarray | None = None  # shapely geometries of wkb, once parsed

    def __len__(self) -> int:
        return len(self.wkb)

    @property
    def geoms(self) -> np.ndarray:
        """Every row's shapely geometry (None where a row has none), parsed once when first asked for."""
        if self.parsed is None:
            self.parsed = shapely.from_wkb(self.wkb, on_invalid="ignore")
        return self.parsed

    def geoms_at(self, index: np.ndarray) -> np.ndarray:
        """The shapely geometries of the rows at INDEX, parsing only those."""
        if self.parsed is not None:
            return self.parsed[index]
        return shapely.from_wkb(self.wkb[index], on_invalid="ignore")

    def field(self, name: str) -> np.ndarray:
        return self.columns[name]


def gdal_path(path: str) -> str:
    """Return the path GDAL should open: zip archives through /vsizip/."""
    if path.lower().endswith((".zip", ".kmz")) and not path.startswith("/vsi"):
        return "/vsizip/" + os.path.abspath(path)
    return path


def choose_layer(path: str, layer: str | None, preferred: tuple[str, ...]) -> str:
    """Return the layer to read: the one asked for, the only one, or a preferred name."""
    try:
        layers = [str(name) for name, _ in pyogrio.list_layers(gdal_path(path))]
    except (DataSourceError, DataLayerError, OSError) as exc:
        raise SourceError(f"cannot read {path}: {_first_line(exc)}") from None
    if not layers:
        raise SourceError(f"{path} has no layers")
    if layer is not None:
        if layer not in layers:
            raise SourceError(f"unknown layer {layer!r} in {path}; its layers are: {', '.join(layers)}")
        return layer
    if len(layers) == 1:
        return layers[0]
    for name in preferred:
        for candidate in layers:
            if candidate.lower() == name:
                return candidate
    raise SourceError(f"{path} has several layers ({', '.join(layers)}); choose one with --layer")


@dataclass(frozen=True)
class SourceInfo:
    """A layer opened for reading in chunks: what it holds, without its features."""

    path: str
    layer: str
    srid: int
    srid_from: str
    fields: list[str]
    count: int
    bounds: tuple[float, float, float, float]  # in `srid`

    def read(self, start: int, count: int, columns: list[str] | None = None) -> SourceTable:
        """Return features [start, start + count) as a SourceTable, with only COLUMNS when given
        (decoding fields nobody reads is most of GDAL's reading time)."""
        options = CSV_OPEN_OPTIONS if self.path.lower().endswith(".csv") else {}
        try:
            meta, _, wkb, field_data = pyogrio.raw.read(gdal_path(self.path), layer=self.layer, force_2d=True,
                                                        skip_features=start, max_features=count, columns=columns,
                                                        **options)
        except (DataSourceError, DataLayerError, OSError, ValueError) as exc:
            raise SourceError(f"cannot read {self.path}: {_first_line(exc)}") from None
        fields = [str(f) for f in meta["fields"]]
        return SourceTable(path=self.path, layer=self.layer, srid=self.srid, srid_from=self.srid_from,
                           fields=fields, columns=dict(zip(fields, field_data)),
                           wkb=wkb if wkb is not None else np.full(0, None, dtype=object))



def _check_path(path: str) -> None:
    if not os.path.exists(path):
        raise SourceError(f"cannot read {path}: no such file")
    if os.path.isfile(path) and os.path.getsize(path) == 0:
        raise SourceError(f"cannot read {path}: the file is empty")
    if path.lower().endswith(".zip") and not zipfile.is_zipfile(path):
        raise SourceError(f"cannot read {path}: not a valid zip archive")


def open_source(path: str, *, layer: str | None = None, srid: int | None = None,
                preferred_layers: tuple[str, ...] = ()) -> SourceInfo:
    """Open PATH's layer for reading in chunks; settle its CRS from the file, from SRID, or refuse."""
    _check_path(path)
    name = choose_layer(path, layer, preferred_layers)
    options = CSV_OPEN_OPTIONS if path.lower().endswith(".csv") else {}
    try:
        info = pyogrio.read_info(gdal_path(path), layer=name, force_feature_count=True, **options)
        if info.get("geometry_type") is None:
            raise SourceError(f"layer {name!r} of {path} has no geometry column")
        bounds = info.get("total_bounds")
        if bounds is None or not np.all(np.isfinite(bounds)):
            bounds = pyogrio.read_info(gdal_path(path), layer=name, force_total_bounds=True,
                                       **options).get("total_bounds")
    except (DataSourceError, DataLayerError, OSError, ValueError) as exc:
        raise SourceError(f"cannot read {path}: {_first_line(exc)}") from None
    bounds = tuple(float(b) for b in bounds) if bounds is not None else (np.nan,) * 4
    resolved, srid_from = resolve_srid_from_bounds(path, info.get("crs"), srid, bounds)
    return SourceInfo(path=path, layer=name, srid=resolved, srid_from=srid_from,
                      fields=[str(f) for f in info["fields"]], count=int(info["features"]), bounds=bounds)


def read_source(path: str, *, layer: str | None = None, srid: int | None = None,
                preferred_layers: tuple[str, ...] = ()) -> SourceTable:
    """Read PATH's layer into arrays at once (small layers); settle its CRS from the file, from SRID, or refuse."""
    _check_path(path)
    name = choose_layer(path, layer, preferred_layers)
    options = CSV_OPEN_OPTIONS if path.lower().endswith(".csv") else {}
    try:
        meta, _, wkb, field_data = pyogrio.raw.read(gdal_path(path), layer=name, force_2d=True, **options)
    except (DataSourceError, DataLayerError, OSError, ValueError) as exc:
        raise SourceError(f"cannot read {path}: {_first_line(exc)}") from None
    if wkb is None:
        raise SourceError(f"layer {name!r} of {path} has no geometry column")
    geoms = shapely.from_wkb(wkb, on_invalid="ignore")
    fields = [str(f) for f in meta["fields"]]
    resolved, srid_from = resolve_srid(path, meta.get("crs"), srid, geoms)
    return SourceTable(
        path=path, layer=name, srid=resolved, srid_from=srid_from, fields=fields,
        columns=dict(zip(fields, field_data)), wkb=wkb, parsed=geoms,
    )


def resolve_srid(path: str, file_crs: str | None, srid: int | None, geoms: np.ndarray) -> tuple[int, str]:
    """Return the EPSG code of the data and where it came from."""
    bounds = shapely.total_bounds(geoms[~shapely.is_missing(geoms)]) if len(geoms) else np.full(4, np.nan)
    return resolve_srid_from_bounds(path, file_crs, srid, tuple(bounds))


def resolve_srid_from_bounds(path: str, file_crs: str | None, srid: int | None,
                             bounds: tuple[float, ...]) -> tuple[int, str]:
    """Return the EPSG code of data with these BOUNDS and where it came from."""
    if srid is not None:
        try:
            CRS.from_epsg(srid)
        except CRSError:
            raise SourceError(f"--srid {srid} is not a known EPSG code") from None
        return srid, "--srid"
    if file_crs:
        try:
            code = CRS.from_user_input(file_crs).to_epsg(min_confidence=70)
        except CRSError:
            code = None
        if code is None:
            raise SourceError(f"the CRS of {path} has no EPSG equivalent; pass --srid")
        return code, "file"
    if np.all(np.isfinite(bounds)) and -180 <= bounds[0] <= bounds[2] <= 180 and -90 <= bounds[1] <= bounds[3] <= 90:
        return 4326, "assumed lon/lat"
    raise SourceError(
        f"{path} has no CRS and its coordinates look projected (x up to {bounds[2]:.0f}); pass --srid"
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
