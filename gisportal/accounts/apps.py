from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "gisportal.accounts"
    label = "accounts"
    verbose_name = "Accounts and API tokens"

    def ready(self):
        from gisportal.accounts import schema  # noqa: F401  (registers the OpenAPI extension)
