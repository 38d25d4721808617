from django.urls import path

from parcels import api

urlpatterns = [
    path("", api.parcel_list, name="parcel-list"),
    path("<str:municipality>/<str:parcel_code>/", api.parcel_detail, name="parcel-detail"),
    path("<str:municipality>/<str:parcel_code>/history/", api.parcel_history, name="parcel-history"),
]
