"""The layer registry: every layer the platform serves, declared once.

Vector tiles, WFS 2.0 and OGC API Features all serve from LAYERS and nothing else. A layer reads
its rows through the owning app's selectors (``parcels.selectors``, ``subdivision.selectors``),
never through another app's models directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Callable

from django.db.models import QuerySet


class Access(str, Enum):
    """Who may read a layer: anyone; partners whose key grants it (and staff); planners and admins."""

    PUBLIC = "public"
    PARTNER = "partner"
    INTERNAL = "internal"


@dataclass(frozen=True)
class Field:
    """An exposed attribute: NAME as served, SOURCE as the ORM path on the layer's rows."""

    name: str
    source: str
    type: str = "string"  # string, integer, number, date-time, boolean
    title_en: str = ""
    title_ar: str = ""


@dataclass(frozen=True)
class Layer:
    id: str
    title_en: str
    title_ar: str
    access: Access
    rows: Callable[[], QuerySet]  # the layer's rows, from the owning app's selectors
    geometry_field: str
    geometry_type: str  # MultiPolygon, MultiLineString, Geometry
    id_field: str  # the ORM path of the stable feature identifier
    fields: tuple[Field, ...]
    min_zoom: int = 0
    max_zoom: int = 22
    # ORM paths of the validity interval [valid_from, valid_to) for datetime filters, if any.
    time_fields: tuple[str, str] | None = None
    description_en: str = ""
    extra: dict = field(default_factory=dict)

    def queryset(self) -> QuerySet:
        return self.rows()

    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)


def _parcels():
    from parcels import selectors

    return selectors


def _plans():
    from subdivision import selectors

    return selectors


_MUNICIPALITY = Field("municipality", "municipality__code", title_en="Municipality", title_ar="البلدية")
_NAMES = (Field("name_en", "name_en", title_en="Name", title_ar="الاسم بالإنجليزية"),
          Field("name_ar", "name_ar", title_en="Arabic name", title_ar="الاسم"))

LAYERS: dict[str, Layer] = {layer.id: layer for layer in (
    Layer(
        id="municipalities", title_en="Municipalities", title_ar="البلديات", access=Access.PUBLIC,
        rows=lambda: _parcels().layer_municipalities(), geometry_field="boundary",
        geometry_type="MultiPolygon", id_field="code", min_zoom=0, max_zoom=14,
        fields=(Field("code", "code", title_en="Code", title_ar="الرمز"), *_NAMES)),
    Layer(
        id="districts", title_en="Districts", title_ar="الأحياء", access=Access.PUBLIC,
        rows=lambda: _parcels().layer_districts(), geometry_field="geom", geometry_type="MultiPolygon",
        id_field="id", min_zoom=8, max_zoom=22,
        fields=(_MUNICIPALITY, Field("code", "code", title_en="Code", title_ar="الرمز"), *_NAMES)),
    Layer(
        id="streets", title_en="Streets", title_ar="الشوارع", access=Access.PUBLIC,
        rows=lambda: _parcels().layer_streets(), geometry_field="centreline",
        geometry_type="MultiLineString", id_field="id", min_zoom=10, max_zoom=22,
        fields=(_MUNICIPALITY, *_NAMES,
                Field("width_m", "row_width_m", "number", title_en="Right-of-way width (m)",
                      title_ar="عرض الشارع (م)"))),
    Layer(
        id="zoning", title_en="Zoning", title_ar="تصنيف الاستخدامات", access=Access.PUBLIC,
        rows=lambda: _parcels().layer_zoning(), geometry_field="geom", geometry_type="MultiPolygon",
        id_field="id", min_zoom=10, max_zoom=22,
        fields=(_MUNICIPALITY, Field("zone_code", "zone_code", title_en="Zone", title_ar="رمز المنطقة"), *_NAMES)),
    Layer(
        id="blocks", title_en="Blocks", title_ar="البلوكات", access=Access.PUBLIC,
        rows=lambda: _parcels().layer_blocks(), geometry_field="geom", geometry_type="MultiPolygon",
        id_field="id", min_zoom=12, max_zoom=22,
        fields=(_MUNICIPALITY, Field("plan_no", "plan_no", title_en="Plan", title_ar="رقم المخطط"),
                Field("block_no", "block_no", title_en="Block", title_ar="رقم البلوك"))),
    Layer(
        id="parcels", title_en="Parcels", title_ar="قطع الأراضي", access=Access.PUBLIC,
        rows=lambda: _parcels().layer_parcels_active(), geometry_field="geom", geometry_type="MultiPolygon",
        id_field="id", min_zoom=13, max_zoom=22, time_fields=("valid_from", "valid_to"),
        fields=(_MUNICIPALITY, Field("parcel_code", "parcel_code", title_en="Parcel code", title_ar="رمز القطعة"),
                Field("plan_no", "plan_no", title_en="Plan", title_ar="رقم المخطط"),
                Field("block_no", "block_no", title_en="Block", title_ar="رقم البلوك"),
                Field("parcel_no", "parcel_no", title_en="Parcel", title_ar="رقم القطعة"),
                Field("land_use", "land_use", title_en="Land use", title_ar="الاستخدام"),
                Field("zone_code", "zone_code", title_en="Zone", title_ar="رمز المنطقة"),
                Field("area_m2", "area_m2", "number", title_en="Area (m²)", title_ar="المساحة (م²)"),
                Field("valid_from", "valid_from", "date-time", title_en="Valid from", title_ar="تاريخ الإنشاء"))),
    Layer(
        id="parcel_history", title_en="Parcel history (retired parcels)", title_ar="سجل القطع (الملغاة)",
        access=Access.PARTNER, rows=lambda: _parcels().layer_parcels_retired(), geometry_field="geom",
        geometry_type="MultiPolygon", id_field="id", min_zoom=13, max_zoom=22,
        time_fields=("valid_from", "valid_to"),
        fields=(_MUNICIPALITY, Field("parcel_code", "parcel_code", title_en="Parcel code", title_ar="رمز القطعة"),
                Field("land_use", "land_use", title_en="Land use", title_ar="الاستخدام"),
                Field("area_m2", "area_m2", "number", title_en="Area (m²)", title_ar="المساحة (م²)"),
                Field("valid_from", "valid_from", "date-time", title_en="Valid from", title_ar="تاريخ الإنشاء"),
                Field("valid_to", "valid_to", "date-time", title_en="Retired", title_ar="تاريخ الإلغاء"),
                Field("created_by", "created_by_record__reference", title_en="Created by record",
                      title_ar="أنشئت بموجب"),
                Field("retired_by", "retired_by_record__reference", title_en="Retired by record",
                      title_ar="ألغيت بموجب"))),
    Layer(
        id="plans", title_en="Plans under review", title_ar="المخططات قيد الدراسة", access=Access.INTERNAL,
        rows=lambda: _plans().layer_undecided_plan_features(), geometry_field="geom",
        geometry_type="Geometry", id_field="id", min_zoom=12, max_zoom=22,
        fields=(Field("municipality", "plan__municipality__code", title_en="Municipality", title_ar="البلدية"),
                Field("plan_id", "plan_id", "integer", title_en="Plan", title_ar="المخطط"),
                Field("title", "plan__title", title_en="Title", title_ar="العنوان"),
                Field("status", "plan__status", title_en="Status", title_ar="الحالة"),
                Field("kind", "kind", title_en="Kind", title_ar="النوع"),
                Field("lot_no", "lot_no", title_en="Lot", title_ar="رقم القطعة"),
                Field("area_m2", "area_m2", "number", title_en="Area (m²)", title_ar="المساحة (م²)"))),
)}


def layer_get(layer_id: str) -> Layer | None:
    return LAYERS.get(layer_id)
