"""Read uploaded subdivision plan files (GeoJSON, zipped Shapefile, GeoPackage, KML/KMZ, DXF)."""

from .errors import (
                     BadAttribute,
                     BadCoordinates,
                     CorruptFile,
                     CrsMissing,
                     EmptyPlan,
                     FileTooLarge,
                     PlanFileError,
                     UnsafeArchive,
                     UnsupportedFormat,
)
from .readers import KINDS, RawFeature, RawPlan, read_plan
from .safety import Limits
from .sniff import sniff

__all__ = [
    "KINDS", "BadAttribute", "BadCoordinates", "CorruptFile", "CrsMissing", "EmptyPlan",
    "FileTooLarge", "Limits", "PlanFileError", "RawFeature", "RawPlan", "UnsafeArchive",
    "UnsupportedFormat", "read_plan", "sniff",
]
