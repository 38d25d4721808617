"""GML geometries in FES filters that leave out srsName, read in the feature type's default CRS.

GML 3.2 lets a geometry inherit its CRS, and GDAL's WFS driver (``ogr2ogr -spat``, QGIS through
GDAL) sends ``<fes:BBOX><gml:Envelope>`` without ``srsName`` when the extent is in the layer's
default CRS. django-gisserver 2.5 refuses such a geometry ("misses required attribute
'srsName'"); its BBOX *parameter* already falls back to the default CRS, so the same fallback is
applied here: the coordinates are read in the default CRS (EPSG:4326, latitude first, as the
standard orders it and as GDAL sends it).

``install()`` puts this parser in place of gisserver's for the GML 3.2 geometry tags; gisserver
has no public hook to replace a tag's parser (``register`` refuses a second one).
"""

from __future__ import annotations

from xml.etree.ElementTree import tostring

from django.contrib.gis.gdal import AxisOrder
from django.contrib.gis.geos import GEOSGeometry
from gisserver.crs import CRS
from gisserver.parsers.ast import tag_registry
from gisserver.parsers.gml.geometries import GEOSGMLGeometry
from gisserver.parsers.xml import xmlns


class GMLGeometryDefaultCRS(GEOSGMLGeometry):
    """A GML 3.2 geometry whose missing srsName means the feature type's default CRS."""

    @classmethod
    def from_xml(cls, element):
        if element.get("srsName"):
            return super().from_xml(element)
        geos_data = GEOSGeometry.from_gml(tostring(element))
        # Coordinates in the default CRS's own axis order; build_rhs() assigns that CRS (srs=None).
        CRS.tag_geometry(geos_data, axis_order=AxisOrder.AUTHORITY)
        return cls(srs=None, geos_data=geos_data)


def install() -> None:
    """Parse every GML 3.2 geometry tag gisserver reads with GMLGeometryDefaultCRS."""
    prefix = f"{{{xmlns.gml32.value}}}"
    for tag, parser in list(tag_registry.parsers.items()):
        if tag.startswith(prefix) and parser is GEOSGMLGeometry:
            tag_registry.parsers[tag] = GMLGeometryDefaultCRS
