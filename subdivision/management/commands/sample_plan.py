import json

from django.core.management.base import BaseCommand, CommandError

from gisportal.errors import PlatformError
from subdivision.layout.service import layout_propose, parse_targets


class Command(BaseCommand):
    help = ("Write a proposed compliant subdivision plan (GeoJSON, EPSG:4326) for a parent parcel of any shape: "
            "roads joined to the streets, lots meeting the municipality's rules, open space (the layout service "
            "of POST /api/parcels/{municipality}/{code}/layout/), validated against the registry.")

    def add_arguments(self, parser):
        parser.add_argument("municipality")
        parser.add_argument("parcel_code")
        parser.add_argument("out", help="the GeoJSON file to write")
        parser.add_argument("--lot-area", type=float, help="target lot area, m²")
        parser.add_argument("--road-width", type=float, help="width of the new roads, m")
        parser.add_argument("--public-share", type=float, help="public share to reach, %%")
        parser.add_argument("--land-use", default="residential")

    def handle(self, *args, municipality, parcel_code, out, **options):
        body = {"lot_area_m2": options["lot_area"], "road_width_m": options["road_width"],
                "public_share_pct": options["public_share"], "land_use": options["land_use"]}
        try:
            answer = layout_propose(municipality=municipality, parcel_code=parcel_code,
                                    targets=parse_targets({k: v for k, v in body.items() if v is not None}))
        except PlatformError as exc:
            reasons = exc.extra.get("reasons") or []
            raise CommandError("; ".join([exc.message, *reasons]) if reasons else exc.message) from None
        with open(out, "w", encoding="utf-8") as handle:
            json.dump(answer["plan"], handle)
        s = answer["summary"]
        kinds = [f["properties"]["kind"] for f in answer["plan"]["features"]]
        self.stdout.write(f"wrote {out}: {s['lots']} lots ({s['lots_per_ha']} per ha), {kinds.count('road')} roads "
                          f"of {s['road_width_m']:g} m, {kinds.count('open_space')} open spaces, public share "
                          f"{s['public_share_pct']} %; valid: {answer['report']['valid']}")
