"""Attribute values read from any source, made plain: text without noise, numbers or None."""

from __future__ import annotations

import numpy as np


def text(value) -> str:
    """Return VALUE as trimmed text: '' for None or NaN, integral floats without '.0'.

    >>> text(12.0), text(None), text(" 7 ")
    ('12', '', '7')
    """
    if value is None:
        return ""
    if isinstance(value, (float, np.floating)):
        if not np.isfinite(value):
            return ""
        if float(value).is_integer():
            return str(int(value))
    return str(value).strip()


def number(value) -> float | None:
    """Return VALUE as a finite float, or None when it is not one.

    >>> number("12.5"), number(""), number("n/a")
    (12.5, None, None)
    """
    if value is None or value == "":
        return None
    try:
        result = float(value)
    except (TypeError, ValueError):
        return None
    return result if np.isfinite(result) else None


def text_column(values: np.ndarray | None, n: int) -> list[str]:
    """Return a column as text(), vectorised for the integer columns GDAL gives (most codes)."""
    if values is None:
        return [""] * n
    if values.dtype.kind in "iu":
        return values.astype(str).tolist()
    if values.dtype.kind == "b":
        return ["1" if v else "0" for v in values.tolist()]
    # Strings, nearly always: trimmed inline, the rest through text().
    return [v.strip() if type(v) is str else text(v) for v in values.tolist()]


def number_column(values: np.ndarray | None, n: int) -> list[float | None]:
    """Return a column as number()."""
    if values is None:
        return [None] * n
    if values.dtype.kind in "iuf":
        floats = values.astype(float)
        return [v if np.isfinite(v) else None for v in floats.tolist()]
    return [number(v) for v in values.tolist()]
