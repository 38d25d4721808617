from django.core.management.base import BaseCommand, CommandError

from parcels.layer_import import KINDS, import_layer
from parcels.management.commands._common import get_municipality, parse_map
from parcels.sources import SourceError


class Command(BaseCommand):
    help = "Import a reference layer (districts, zoning, streets, street_rows, blocks) for a municipality."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=sorted(KINDS))
        parser.add_argument("path")
        parser.add_argument("--municipality", required=True)
        parser.add_argument("--layer")
        parser.add_argument("--srid", type=int)
        parser.add_argument("--map", action="append", default=[], metavar="TARGET=SOURCE")

    def handle(self, *args, kind, path, **o):
        try:
            summary = import_layer(kind=kind, path=path, municipality=get_municipality(o["municipality"]),
                                   layer=o["layer"], srid=o["srid"], field_map=parse_map(o["map"]))
        except SourceError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(summary.line())
