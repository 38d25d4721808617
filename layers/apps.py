from django.apps import AppConfig


class LayersConfig(AppConfig):
    name = "layers"
    verbose_name = "Map layers for partners (vector tiles, WFS, OGC API Features)"

    def ready(self):
        from layers.tiles import invalidation

        invalidation.connect()  # drop the cached tiles a data change touches
