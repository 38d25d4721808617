"""Detect a plan file's format from its content; the file name is only a hint.

A surveyor's file is often misnamed (a GeoJSON saved as ``.gpkg``); it is read by
what it is. Content that is some other known kind of file (an image, a PDF, an
Office document) is refused by name, so the message tells what was uploaded.
"""

from __future__ import annotations

import re
from pathlib import PurePath

from .errors import CorruptFile, EmptyPlan, UnsupportedFormat

SUPPORTED = "GeoJSON, a zipped Shapefile, GeoPackage, KML/KMZ or DXF"

# Container kinds returned by sniff(); a zip is resolved to shapefile/kml later.
GEOJSON, ZIP, GEOPACKAGE, KML, DXF = "geojson", "zip", "geopackage", "kml", "dxf"

_SQLITE_MAGIC = b"SQLite format 3\x00"
_GPKG_APPLICATION_IDS = {b"GPKG", b"GP10", b"GP11"}
_BINARY_DXF_MAGIC = b"AutoCAD Binary DXF\r\n\x1a\x00"
_ASCII_DXF = re.compile(rb"^\s*(?:999\s*\r?\n[^\n]*\n\s*)*0\s*\r?\n\s*SECTION\s*\r?\n", re.DOTALL)
_SHP_MAGIC = b"\x00\x00\x27\x0a"

# Known non-plan content, so the refusal can say what the file really is.
_OTHER_MAGICS = [
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"\xd0\xcf\x11\xe0", "an old Microsoft Office document"),
    (b"AC10", "a DWG drawing (export it as DXF)"),
]


def _text_head(data: bytes, size: int = 4096) -> bytes:
    head = data[:size]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in head[:64]:
        head = head.replace(b"\x00", b"")
    return head.lstrip(b"\xef\xbb\xbf\xff\xfe \t\r\n")


def sniff(data: bytes, *, filename: str) -> str:
    """Return the container kind of `data`: geojson, zip, geopackage, kml or dxf."""
    if not data:
        raise EmptyPlan(f"{filename!r} is empty (0 bytes)")
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return ZIP
    if data.startswith(_SQLITE_MAGIC):
        check_geopackage_header(data, filename=filename)
        return GEOPACKAGE
    if data.startswith(_BINARY_DXF_MAGIC):
        return DXF
    if data.startswith(_SHP_MAGIC):
        raise UnsupportedFormat(
            f"{filename!r} is a bare .shp file; upload a .zip holding the .shp, .shx, .dbf and .prj")
    for magic, what in _OTHER_MAGICS:
        if data.startswith(magic):
            raise UnsupportedFormat(f"{filename!r} is {what}, not a plan file ({SUPPORTED})")
    head = _text_head(data)
    if head.startswith((b"{", b"[")):
        return GEOJSON
    if head.startswith(b"<"):
        if re.search(rb"<(?:\w+:)?kml[\s>]", head, re.IGNORECASE):
            return KML
        raise UnsupportedFormat(f"{filename!r} is an XML document but not KML ({SUPPORTED})")
    if _ASCII_DXF.match(data[:4096]):
        return DXF
    ext = PurePath(filename).suffix.lower()
    if ext in {".geojson", ".json", ".zip", ".kmz", ".gpkg", ".kml", ".dxf"}:
        raise CorruptFile(f"{filename!r} is not a valid {ext[1:].upper()} file (unrecognised content)")
    raise UnsupportedFormat(f"{filename!r} is not a supported plan format ({SUPPORTED})")


def check_geopackage_header(data: bytes, *, filename: str) -> None:
    """Refuse an SQLite file that is not a GeoPackage or is shorter than its header says."""
    if len(data) < 100:
        raise CorruptFile(f"{filename!r} is a truncated GeoPackage (header cut short)")
    if data[68:72] not in _GPKG_APPLICATION_IDS:
        raise UnsupportedFormat(f"{filename!r} is an SQLite database but not a GeoPackage")
    page_size = int.from_bytes(data[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    page_count = int.from_bytes(data[28:32], "big")
    # The in-header page count is valid only when version-valid-for equals the change counter.
    if page_count and data[92:96] == data[24:28]:
        expected = page_size * page_count
        if len(data) < expected:
            raise CorruptFile(
                f"{filename!r} is a truncated GeoPackage: its header says {expected} bytes, "
                f"the upload has {len(data)}")
