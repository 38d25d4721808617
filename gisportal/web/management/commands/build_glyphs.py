from django.core.management.base import BaseCommand

from gisportal.web import glyphs


class Command(BaseCommand):
    help = "Build the map labels' glyph PBFs (Noto Sans + Noto Sans Arabic) into gisportal/web/glyphs/."

    def handle(self, *args, **options):
        glyphs.build(progress=self.stdout.write)
