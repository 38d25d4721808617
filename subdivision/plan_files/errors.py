"""Errors raised while reading an uploaded subdivision plan file.

Each error carries the HTTP status and machine-readable code that the API layer
answers with; the message names the problem for the surveyor.
"""

from __future__ import annotations


class PlanFileError(Exception):
    """The uploaded plan file cannot be used (a client error)."""

    code: str = "PLAN_FILE_INVALID"
    http_status: int = 400


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


class BadCoordinates(PlanFileError):
    """A feature has non-finite or impossible coordinates."""

    code = "PLAN_FILE_BAD_COORDINATES"


class BadAttribute(PlanFileError):
    """A feature attribute has a value that cannot be used (unknown kind, non-numeric area)."""

    code = "PLAN_FILE_BAD_ATTRIBUTE"
