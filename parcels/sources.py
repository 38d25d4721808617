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
    geoms: np.ndarray  # shapely geometries (None where a row has none), in `srid`

    def __len__(self) -> int:
        return len(self.geoms)

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


def read_source(path: str, *, layer: str | None = None, srid: int | None = None,
                preferred_layers: tuple[str, ...] = ()) -> SourceTable:
    """Read PATH's layer into arrays; settle its CRS from the file, from SRID, or refuse."""
    if not os.path.exists(path):
        raise SourceError(f"cannot read {path}: no such file")
    if os.path.isfile(path) and os.path.getsize(path) == 0:
        raise SourceError(f"cannot read {path}: the file is empty")
    if path.lower().endswith(".zip") and not zipfile.is_zipfile(path):
        raise SourceError(f"cannot read {path}: not a valid zip archive")
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
        columns=dict(zip(fields, field_data)), geoms=geoms,
    )


def resolve_srid(path: str, file_crs: str | None, srid: int | None, geoms: np.ndarray) -> tuple[int, str]:
    """Return the EPSG code of the data and where it came from."""
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
    bounds = shapely.total_bounds(geoms[~shapely.is_missing(geoms)]) if len(geoms) else np.full(4, np.nan)
    if np.all(np.isfinite(bounds)) and -180 <= bounds[0] <= bounds[2] <= 180 and -90 <= bounds[1] <= bounds[3] <= 90:
        return 4326, "assumed lon/lat"
    raise SourceError(
        f"{path} has no CRS and its coordinates look projected (x up to {bounds[2]:.0f}); pass --srid"
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
