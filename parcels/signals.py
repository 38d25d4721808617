"""The signals sent when the map's data changes: what a tile cache or a search index needs to refresh.

``layer_changed`` (at the end) is the same for the reference layers that parcels.layer_import replaces.

``parcels_changed`` is sent by parcels.services, once per operation (an import, an edit, a
retirement), after the transaction commits (never for a rolled-back change). Receivers get
``change``, a ParcelsChanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from django.dispatch import Signal

parcels_changed = Signal()

MAX_BBOXES = 256  # more boxes than this are merged on a grid: a tile cache needs areas, not parcels


@dataclass(frozen=True)
class ParcelsChanged:
    """What changed in one operation. Boxes are (minx, miny, maxx, maxy) in the storage SRID
    (EPSG:3857, the CRS of vector tiles), covering the old AND the new geometry of every parcel
    created, updated or retired; at most MAX_BBOXES of them (merged on a grid beyond that)."""

    municipality_id: int
    municipality_code: str
    operation: str  # "import", "create", "update", "retire", "record" (a record applied: parents retired, children created)
    source: str
    created: int = 0
    updated: int = 0
    retired: int = 0
    srid: int = 3857
    bboxes: tuple[tuple[float, float, float, float], ...] = ()
    extent: tuple[float, float, float, float] | None = None  # the union of bboxes
    extra: dict = field(default_factory=dict)

    @property
    def count(self) -> int:
        return self.created + self.updated + self.retired


def merge_boxes(boxes: np.ndarray, *, max_boxes: int = MAX_BBOXES) -> list[tuple[float, float, float, float]]:
    """Return BOXES (an n x 4 array) as at most MAX_BOXES boxes covering them all.

    Identical boxes collapse; beyond MAX_BOXES, boxes are grouped by the grid cell of their centre
    and each group becomes its bounding box.

    >>> merge_boxes(np.array([[0, 0, 1, 1], [0, 0, 1, 1], [5, 5, 6, 6]]), max_boxes=1)
    [(0.0, 0.0, 6.0, 6.0)]
    """
    boxes = np.unique(np.asarray(boxes, dtype=float).reshape(-1, 4), axis=0)
    if len(boxes) <= max_boxes:
        return [tuple(map(float, b)) for b in boxes]
    side = max(1, int(np.sqrt(max_boxes)))
    cx, cy = (boxes[:, 0] + boxes[:, 2]) / 2, (boxes[:, 1] + boxes[:, 3]) / 2
    x0, y0 = cx.min(), cy.min()
    w, h = max(cx.max() - x0, 1e-9), max(cy.max() - y0, 1e-9)
    cell = (np.minimum(((cx - x0) / w * side).astype(int), side - 1) * side
            + np.minimum(((cy - y0) / h * side).astype(int), side - 1))
    cells, group = np.unique(cell, return_inverse=True)
    merged = np.empty((len(cells), 4))
    merged[:, :2], merged[:, 2:] = np.inf, -np.inf
    np.minimum.at(merged[:, 0], group, boxes[:, 0])
    np.minimum.at(merged[:, 1], group, boxes[:, 1])
    np.maximum.at(merged[:, 2], group, boxes[:, 2])
    np.maximum.at(merged[:, 3], group, boxes[:, 3])
    return [tuple(map(float, b)) for b in merged]


# ---- the reference layers (districts, zoning, streets, right-of-way, blocks) -------------------
layer_changed = Signal()


@dataclass(frozen=True)
class LayerChanged:
    """A reference layer of one municipality replaced (parcels.layer_import), sent after commit as
    ``change``. KIND is the import kind (``streets``, ``zoning``, ...); boxes are EPSG:3857 and
    cover the layer before and after the change."""

    municipality_id: int
    municipality_code: str
    kind: str
    bboxes: tuple[tuple[float, float, float, float], ...] = ()
