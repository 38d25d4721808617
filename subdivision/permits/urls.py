"""The building-permit routes under /api/parcels/<municipality>/<parcel_code>/ (mounted in gisportal/urls.py)."""

from django.urls import path

from subdivision.permits import api

urlpatterns = [
    path("site-report/", api.site_report, name="parcel-site-report"),
    path("site-report.pdf", api.site_report_pdf, name="parcel-site-report-pdf"),
    path("footprint-check/", api.footprint_check, name="parcel-footprint-check"),
]
