from django.apps import AppConfig


class SubdivisionConfig(AppConfig):
    name = "subdivision"
    verbose_name = "Subdivision plans"
