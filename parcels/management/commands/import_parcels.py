import sys

import shapely
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from gisportal import crs
from gisportal.errors import PlatformError
from parcels.importing import PREFERRED_LAYERS, import_parcels
from parcels.management.commands._common import get_municipality, parse_map
from parcels.models import Municipality
from parcels.services import municipality_create, municipality_set_boundary
from parcels.sources import SourceError, open_source


class Command(BaseCommand):
    help = "Import parcels from any source GDAL reads; upsert by parcel code, keeping history."
    requires_system_checks = []  # a data-loading command: the URL/admin/model checks cost ~0.1 s a run

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--municipality", required=True, help="municipality code")
        parser.add_argument("--create-municipality", action="store_true",
                            help="create the municipality (metric CRS: UTM zone of the data's centroid)")
        parser.add_argument("--name", help="English name for --create-municipality")
        parser.add_argument("--layer")
        parser.add_argument("--srid", type=int, help="EPSG code of the data when the file has no CRS")
        parser.add_argument("--code-field", help="source field holding the parcel code")
        parser.add_argument("--map", action="append", default=[], metavar="TARGET=SOURCE",
                            help="map a target field (plan_no, block_no, parcel_no, district, land_use, "
                                 "zone_code, stated_area, parcel_code) to a source field")
        parser.add_argument("--rejects", help="where to write rejected rows (CSV)")
        parser.add_argument("--chunk-rows", type=int, default=None, help="features read and merged at a time")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, **o):
        try:
            source = open_source(o["path"], layer=o["layer"], srid=o["srid"], preferred_layers=PREFERRED_LAYERS)
            with transaction.atomic():
                created = None
                if o["create_municipality"] and not Municipality.objects.filter(code=o["municipality"]).exists():
                    municipality = created = self._create(o, source)
                else:
                    municipality = get_municipality(o["municipality"])
                extra = {"chunk_rows": o["chunk_rows"]} if o["chunk_rows"] else {}
                summary = import_parcels(
                    path=o["path"], municipality=municipality, code_field=o["code_field"],
                    field_map=parse_map(o["map"]), rejects_path=o["rejects"], source=source,
                    progress=not o["no_progress"] and sys.stderr.isatty(), want_hull=created is not None, **extra,
                )
                if created is not None and summary.hull is not None:
                    # The boundary of a new municipality: the hull of its parcels, gathered chunk by chunk.
                    hull = crs.transform(summary.hull, summary.source_srid, 4326)
                    municipality_set_boundary(municipality=created, boundary_wgs84=hull.buffer(0.001))
        except (SourceError, PlatformError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(summary.line())

    def _create(self, o, source):
        minx, miny, maxx, maxy = source.bounds
        centre = crs.transform(shapely.Point((minx + maxx) / 2, (miny + maxy) / 2), source.srid, 4326)
        return municipality_create(code=o["municipality"], name_en=o["name"] or o["municipality"],
                                   centroid_lonlat=(centre.x, centre.y))
