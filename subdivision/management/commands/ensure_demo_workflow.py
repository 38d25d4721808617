from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from subdivision.demo import demo_workflow_ensure


class Command(BaseCommand):
    help = "Put the demo surveyor in a demo surveying office and make the demo planner a planner of every municipality."

    def handle(self, *args, **options):
        if not settings.DEMO:
            raise CommandError("GISPORTAL_DEMO is off: no demo workflow outside demo set-ups")
        added = demo_workflow_ensure()
        self.stdout.write(f"demo workflow: {', '.join(added)}" if added else "demo workflow present")
