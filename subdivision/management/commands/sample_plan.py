import json

import shapely
from django.core.management.base import BaseCommand, CommandError

from gisportal import crs
from parcels.models import Parcel
from subdivision.sample_plan import sample_plan


class Command(BaseCommand):
    help = "Write a sample subdivision plan (GeoJSON, EPSG:4326) for a rectangular parent parcel."

    def add_arguments(self, parser):
        parser.add_argument("municipality")
        parser.add_argument("parcel_code")
        parser.add_argument("out", help="the GeoJSON file to write")

    def handle(self, *args, municipality, parcel_code, out, **options):
        parcel = Parcel.objects.select_related("municipality").filter(
            municipality__code=municipality, parcel_code=parcel_code).first()
        if parcel is None:
            raise CommandError(f"no parcel {parcel_code!r} in municipality {municipality!r}")
        metric = parcel.municipality.metric_srid
        parent = crs.transform(shapely.from_wkb(bytes(parcel.geom.wkb)), parcel.geom.srid, metric)
        try:
            features = sample_plan(parent)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        collection = {"type": "FeatureCollection", "features": [
            {"type": "Feature",
             "properties": {k: v for k, v in f.items() if k != "geometry"},
             "geometry": shapely.geometry.mapping(crs.transform(f["geometry"], metric, crs.WGS84))}
            for f in features]}
        with open(out, "w", encoding="utf-8") as handle:
            json.dump(collection, handle)
        lots = sum(f["kind"] == "lot" for f in features)
        self.stdout.write(f"wrote {out}: {lots} lots, {len(features) - lots} roads and open spaces")
