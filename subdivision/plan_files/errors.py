"""Errors raised while reading an uploaded subdivision plan file.

Each error carries the HTTP status and machine-readable code that the API layer
answers with; the message names the problem for the surveyor.
"""

from __future__ import annotations

from typing import Any, Mapping


class PlanFileError(Exception):
    """The uploaded plan file cannot be used (a client error).

    `extra` holds structured details for the API answer, next to `code` and `detail`
    (e.g. the layers of a DXF drawing); it is empty for most errors.
    """

    code: str = "PLAN_FILE_INVALID"
    http_status: int = 400

    def __init__(self, message: str, *, extra: Mapping[str, Any] | None = None):
        super().__init__(message)
        self.extra: dict[str, Any] = dict(extra or {})


class UnsupportedFormat(PlanFileError):
    """The file is not one of the supported plan formats."""

    code = "PLAN_FILE_UNSUPPORTED_FORMAT"
    http_status = 415


class CorruptFile(PlanFileError):
    """The file claims a supported format but cannot be parsed (truncated, damaged)."""

    code = "PLAN_FILE_CORRUPT"


class EmptyPlan(PlanFileError):
    """The file is empty or holds no polygon features."""

    code = "PLAN_FILE_EMPTY"


class UnsafeArchive(PlanFileError):
    """The archive or document is hostile: path traversal, links, zip bomb, XML entities."""

    code = "PLAN_FILE_UNSAFE"


class FileTooLarge(PlanFileError):
    """The upload, or what it expands to, exceeds a configured limit."""

    code = "PLAN_FILE_TOO_LARGE"
    http_status = 413


class CrsMissing(PlanFileError):
    """The file has no usable coordinate reference system and none was given."""

    code = "PLAN_FILE_CRS_MISSING"


class UnknownCrs(PlanFileError):
    """The file names a coordinate reference system that is not known (e.g. EPSG:999999)."""

    code = "PLAN_FILE_CRS_UNKNOWN"


class BadCoordinates(PlanFileError):
    """A feature has non-finite or impossible coordinates, or a ring that is not a ring."""

    code = "PLAN_FILE_BAD_COORDINATES"


class BadAttribute(PlanFileError):
    """A feature attribute cannot be used (unknown kind, non-numeric area, text too long to store)."""

    code = "PLAN_FILE_BAD_ATTRIBUTE"


class DxfLayersUnmapped(EmptyPlan):
    """No closed shape of a DXF drawing lies on a layer mapped to a plan kind.

    `extra["layers"]` lists the drawing's layers with what each holds.
    """

    code = "PLAN_FILE_DXF_LAYERS_UNMAPPED"
