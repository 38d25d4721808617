"""URLs of the WFS 2.0 service: one endpoint, /wfs, for every operation (KVP GET and XML POST)."""

from django.urls import path

from layers.wfs.views import LayerWFSView

urlpatterns = [
    path("", LayerWFSView.as_view(), name="wfs"),
]
