from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from gisportal import crs
from gisportal.errors import PlatformError
from parcels.importing import PREFERRED_LAYERS, import_parcels
from parcels.management.commands._common import get_municipality, parse_map
from parcels.services import municipality_create
from parcels.sources import SourceError, read_source


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
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, **o):
        try:
            # Read the source once, for the municipality's boundary and for the import.
            table = read_source(o["path"], layer=o["layer"], srid=o["srid"], preferred_layers=PREFERRED_LAYERS)
            with transaction.atomic():
                if o["create_municipality"]:
                    municipality = self._create(o, table)
                else:
                    municipality = get_municipality(o["municipality"])
                summary = import_parcels(
                    path=o["path"], municipality=municipality, layer=o["layer"], srid=o["srid"],
                    code_field=o["code_field"], field_map=parse_map(o["map"]), rejects_path=o["rejects"],
                    progress=not o["no_progress"], table=table,
                )
        except (SourceError, PlatformError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(summary.line())

    def _create(self, o, table):
        from parcels.models import Municipality

        existing = Municipality.objects.filter(code=o["municipality"]).first()
        if existing:
            return existing
        wgs84 = crs.transform(table.geoms[~_missing(table.geoms)], table.srid, 4326)
        import shapely

        hull = shapely.convex_hull(shapely.GeometryCollection(list(wgs84)))
        return municipality_create(code=o["municipality"], name_en=o["name"] or o["municipality"],
                                   boundary_wgs84=hull.buffer(0.001))


def _missing(geoms):
    import shapely

    return shapely.is_missing(geoms) | shapely.is_empty(geoms)
