"""The layout route under /api/parcels/<municipality>/<parcel_code>/ (mounted in gisportal/urls.py)."""

from django.urls import path

from subdivision.layout import api

urlpatterns = [
    path("layout/", api.parcel_layout, name="parcel-layout"),
]
