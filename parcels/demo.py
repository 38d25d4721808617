"""Load the generated demo city (data/demo_city.py) through the same importers as real data."""

from __future__ import annotations

from pathlib import Path

import pyogrio
import shapely
from django.conf import settings
from django.db import transaction

from data import demo_city
from parcels.importing import import_parcels
from parcels.layer_import import import_layer
from parcels.models import Municipality
from parcels.services import municipality_create

DEMO_CODE = "RUH"
LAYER_KINDS = ("districts", "zoning", "blocks", "streets", "street_rows")


def demo_city_path() -> Path:
    return Path(settings.BASE_DIR) / "var" / "demo" / "demo_city.gpkg"


@transaction.atomic
def load_demo_city(*, seed: int = 82) -> list[str]:
    """Generate the demo city, create its municipality and import every layer; return summary lines."""
    path = demo_city_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    city = demo_city.generate(seed=seed)
    demo_city.write_gpkg(city, path)
    municipality = Municipality.objects.filter(code=DEMO_CODE).first()
    if municipality is None:
        boundary = pyogrio.read_dataframe(path, layer="municipality")
        row = boundary.iloc[0]
        municipality = municipality_create(code=DEMO_CODE, name_en=row["name_en"], name_ar=row["name_ar"],
                                           boundary_wgs84=shapely.force_2d(row.geometry))
    lines = [f"municipality {municipality.code} ({municipality.name_en}), metric CRS EPSG:{municipality.metric_srid}"]
    for kind in LAYER_KINDS:
        lines.append(import_layer(kind=kind, path=str(path), municipality=municipality, layer=kind).line())
    summary = import_parcels(path=str(path), municipality=municipality, layer="parcels")
    lines.append("parcels: " + summary.line())
    return lines
