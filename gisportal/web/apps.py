from django.apps import AppConfig


class WebConfig(AppConfig):
    """The web pages: the city map, the plans pages, the dashboard, log-in and log-out."""

    name = "gisportal.web"
    label = "web"
    verbose_name = "Web pages"
