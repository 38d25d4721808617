"""Errors raised while reading an uploaded subdivision plan file.

Each error carries the HTTP status and machine-readable code that the API layer
answers with; the message names the problem for the surveyor.
"""

from __future__ import annotations

from gisportal.errors import PlatformError  # pure Python: no Django is imported


class PlanFileError(PlatformError):
    """The uploaded plan file cannot be used (a client error).

    `extra` holds structured details for the API answer, next to `code` and `detail`
    (e.g. the layers of a DXF drawing); it is empty for most errors.
    """

    code: str = "PlanFileInvalid"
    http_status: int = 400


class UnsupportedFormat(PlanFileError):
    """The file is not one of the supported plan formats."""

    code = "PlanFileUnsupportedFormat"
    http_status = 415


class CorruptFile(PlanFileError):
    """The file claims a supported format but cannot be parsed (truncated, damaged)."""

    code = "PlanFileCorrupt"


class EmptyPlan(PlanFileError):
    """The file is empty or holds no polygon features."""

    code = "PlanFileEmpty"


class UnsafeArchive(PlanFileError):
    """The archive or document is hostile: path traversal, links, zip bomb, XML entities."""

    code = "PlanFileUnsafe"


class FileTooLarge(PlanFileError):
    """The upload, or what it expands to, exceeds a configured limit."""

    code = "PlanFileTooLarge"
    http_status = 413


class CrsMissing(PlanFileError):
    """The file has no usable coordinate reference system and none was given."""

    code = "PlanFileCrsMissing"


class UnknownCrs(PlanFileError):
    """The file names a coordinate reference system that is not known (e.g. EPSG:999999)."""

    code = "PlanFileCrsUnknown"


class BadCoordinates(PlanFileError):
    """A feature has non-finite or impossible coordinates, or a ring that is not a ring."""

    code = "PlanFileBadCoordinates"


class BadAttribute(PlanFileError):
    """A feature attribute cannot be used (unknown kind, non-numeric area, text too long to store)."""

    code = "PlanFileBadAttribute"


class DxfLayersUnmapped(EmptyPlan):
    """No closed shape of a DXF drawing lies on a layer mapped to a plan kind.

    `extra["layers"]` lists the drawing's layers with what each holds.
    """

    code = "PlanFileDxfLayersUnmapped"
