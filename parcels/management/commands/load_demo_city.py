from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from parcels.demo import DEMO_CODE, load_demo_city
from parcels.models import Municipality


class Command(BaseCommand):
    help = "Generate and load the demo city (a north-Riyadh neighbourhood, about 2,000 lots)."

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true", help="do nothing if the demo city is loaded")
        parser.add_argument("--seed", type=int, default=82)

    def handle(self, *args, if_empty, seed, **options):
        if not settings.DEMO:
            raise CommandError("GISPORTAL_DEMO is off: the demo city is not loaded outside demo set-ups")
        if if_empty and Municipality.objects.filter(code=DEMO_CODE).exists():
            self.stdout.write(f"demo city {DEMO_CODE} already loaded")
            return
        for line in load_demo_city(seed=seed):
            self.stdout.write(line)
