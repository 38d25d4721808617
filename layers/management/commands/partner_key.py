"""Partner API keys: create (prints the key once), list, revoke."""

from django.core.management.base import BaseCommand, CommandError

from gisportal.errors import PlatformError
from layers.models import PartnerKey
from layers.services import partner_key_create, partner_key_revoke


class Command(BaseCommand):
    help = "Manage partner API keys: create ORG --layers a,b | list | revoke ORG"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a key and print it once")
        create.add_argument("organisation")
        create.add_argument("--layers", required=True, help="comma-separated layer ids")
        sub.add_parser("list", help="list keys (never the keys themselves)")
        revoke = sub.add_parser("revoke", help="revoke every active key of an organisation")
        revoke.add_argument("organisation")

    def handle(self, *args, **options):
        action = options["action"]
        try:
            if action == "create":
                key = partner_key_create(organisation=options["organisation"],
                                         layers=options["layers"].split(","))
                self.stdout.write(key)
                return
        except PlatformError as exc:
            raise CommandError(exc.message) from exc
        if action == "list":
            for key in PartnerKey.objects.all():
                state = "active" if key.active else f"revoked {key.revoked_at:%Y-%m-%d %H:%M}"
                used = f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never"
                self.stdout.write(f"{key.organisation}\t{key.prefix}…\t{','.join(key.layers)}\t{state}\t"
                                  f"created {key.created_at:%Y-%m-%d %H:%M}\tlast used {used}")
            return
        count = partner_key_revoke(organisation=options["organisation"])
        if count == 0:
            raise CommandError(f"no active key for {options['organisation']!r}")
        self.stdout.write(f"revoked {count} key(s) of {options['organisation']}")
