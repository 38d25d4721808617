from django.apps import AppConfig
from django.db import DEFAULT_DB_ALIAS
from django.db.models.signals import post_migrate


def _roles_after_migrate(sender, using=DEFAULT_DB_ALIAS, **kwargs):
    """Ensure the role groups and their permissions after every migrate, as Django does for permissions."""
    if using != DEFAULT_DB_ALIAS:
        return
    from gisportal.accounts.services import roles_ensure

    roles_ensure()


class AccountsConfig(AppConfig):
    name = "gisportal.accounts"
    label = "accounts"
    verbose_name = "Accounts and API tokens"

    def ready(self):
        from gisportal.accounts import schema  # noqa: F401  (registers the OpenAPI extension)

        # Every deployment runs migrate, demo or not: the groups exist with their permissions
        # without a further command. ensure_demo_accounts runs the same step.
        post_migrate.connect(_roles_after_migrate, sender=self, dispatch_uid="gisportal.accounts.roles")
