from django.apps import AppConfig


class ParcelsConfig(AppConfig):
    name = "parcels"
    verbose_name = "Parcel registry"

    def ready(self):
        from parcels import layer_edits

        layer_edits.connect()  # single edits of reference layers send layer_changed like imports
