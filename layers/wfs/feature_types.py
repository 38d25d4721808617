"""WFS feature types made from the layer registry: one django-gisserver FeatureType per layer.

Nothing here is declared twice: a layer's name, titles, rows, geometry and fields all come from
``layers.registry``. A registry ``Field(name, source)`` becomes a gisserver field NAME that reads
the ORM path SOURCE (``municipality__code`` is gisserver's dotted ``municipality.code``).

Coordinate reference systems: every geometry is stored in EPSG:3857, but partners mostly work in
degrees, so the default CRS advertised and answered is ``urn:ogc:def:crs:EPSG::4326`` (WFS 2.0
axis order: latitude first in GML; GeoJSON is always longitude first). The other CRSs offered are
OGC CRS84 (longitude first), EPSG:3857 (the storage CRS, no transform) and the metric CRS of every
municipality (its UTM zone), in which surveyors and engineers measure.
"""

from __future__ import annotations

from functools import lru_cache

from gisserver.crs import CRS, CRS84, WEB_MERCATOR, WGS84
from gisserver.features import FeatureField, FeatureType

from layers.registry import LAYERS, Layer

# The XML namespace of the layers' feature types, and the prefix they are advertised with.
XML_NAMESPACE = "urn:gisportal:layers"
XML_PREFIX = "gisportal"
# The geometry property's name in every feature type, whatever the model calls its column.
GEOMETRY_NAME = "geometry"


class LayerFeatureType(FeatureType):
    """A gisserver FeatureType that reads its rows afresh from the registry on every request."""

    def __init__(self, layer: Layer, *, other_crs: list[CRS]):
        self.layer = layer
        super().__init__(
            layer.queryset(),
            name=layer.id,
            title=layer.title_en,
            abstract=" / ".join(text for text in (layer.description_en, layer.title_ar) if text) or None,
            keywords=[layer.access.value],
            fields=[_geometry_field(layer), *(_feature_field(field) for field in layer.fields)],
            geometry_field_name=layer.geometry_field,
            crs=WGS84,
            other_crs=other_crs,
            show_name_field=False,
            xml_namespace=XML_NAMESPACE,
        )

    def get_queryset(self):
        # The registry's rows() is called per request: a queryset kept since start-up would
        # still work, but only the selector knows what "the layer's rows" means today.
        return self.layer.queryset().only(*self._local_model_field_names)


def _geometry_field(layer: Layer) -> FeatureField:
    # One name on every layer, so a filter reads <fes:ValueReference>geometry</...> everywhere.
    return FeatureField(GEOMETRY_NAME, model_attribute=layer.geometry_field)


def _feature_field(field) -> FeatureField:
    attribute = field.source.replace("__", ".")
    return FeatureField(field.name, model_attribute=None if attribute == field.name else attribute,
                        abstract=field.title_en or None)


def layer_crs_list(metric_srids: tuple[int, ...]) -> list[CRS]:
    """Return the CRSs offered besides the default EPSG:4326: CRS84, 3857, each metric SRID."""
    return [CRS84, WEB_MERCATOR, *(CRS.from_srid(srid) for srid in sorted(set(metric_srids))
                                   if srid not in (4326, 3857))]


def metric_srids() -> tuple[int, ...]:
    """Return the metric SRIDs of every municipality (one small query per request).

    A municipality added at run time (the Cambridge import) is offered without a restart."""
    from parcels.selectors import municipality_metric_srids

    return municipality_metric_srids()


@lru_cache(maxsize=8)
def feature_types(metric_srids: tuple[int, ...]) -> dict[str, LayerFeatureType]:
    """Return a feature type for every registry layer, by layer id (built once per set of CRSs)."""
    other_crs = layer_crs_list(metric_srids)
    return {layer_id: LayerFeatureType(layer, other_crs=other_crs) for layer_id, layer in LAYERS.items()}
