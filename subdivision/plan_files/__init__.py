"""Read uploaded subdivision plan files (GeoJSON, zipped Shapefile, GeoPackage, KML/KMZ, DXF)."""

from .errors import (
                     BadAttribute,
                     BadCoordinates,
                     CorruptFile,
                     CrsMissing,
                     DxfLayersUnmapped,
                     EmptyPlan,
                     FileTooLarge,
                     PlanFileError,
                     UnknownCrs,
                     UnsafeArchive,
                     UnsupportedFormat,
)
from .readers import (
                      KINDS,
                      MAX_LAND_USE_CHARS,
                      MAX_LOT_NO_CHARS,
                      RawFeature,
                      RawPlan,
                      read_plan,
)
from .safety import Limits
from .sniff import sniff

__all__ = [
    "KINDS", "MAX_LAND_USE_CHARS", "MAX_LOT_NO_CHARS", "BadAttribute", "BadCoordinates",
    "CorruptFile", "CrsMissing", "DxfLayersUnmapped", "EmptyPlan", "FileTooLarge", "Limits",
    "PlanFileError", "RawFeature", "RawPlan", "UnknownCrs", "UnsafeArchive", "UnsupportedFormat",
    "read_plan", "sniff",
]
