from django.conf import settings
from django.core.management.base import BaseCommand

from gisportal.accounts.services import (
    DEMO_ACCOUNTS,
    demo_accounts_ensure,
    roles_ensure,
)


class Command(BaseCommand):
    help = "Create the role groups, and the demo accounts when GISPORTAL_DEMO is on."

    def handle(self, *args, **options):
        if not settings.DEMO:
            roles_ensure()
            self.stdout.write("GISPORTAL_DEMO is off: role groups ensured, no demo accounts created")
            return
        created = demo_accounts_ensure()
        if created:
            self.stdout.write(f"demo accounts created: {', '.join(created)} (password: demo-password)")
        elif options["verbosity"] > 1:
            self.stdout.write(f"demo accounts present: {', '.join(DEMO_ACCOUNTS)}")
