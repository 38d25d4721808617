"""The parcel API: thin views that parse, call one selector, and answer GeoJSON."""

from __future__ import annotations

from urllib.parse import urlencode

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.decorators import api_view
from rest_framework.response import Response

from gisportal.params import parse_srid
from gisportal.serializers import error_responses
from parcels import selectors
from parcels.queries import parse_parcel_query
from parcels.serializers import (
    ParcelDetailSerializer,
    ParcelHistorySerializer,
    ParcelPageSerializer,
)

LIST_PARAMETERS = [
    OpenApiParameter("bbox", str, description="minlon,minlat,maxlon,maxlat in EPSG:4326"),
    OpenApiParameter("municipality", str, description="municipality code"),
    OpenApiParameter("district", str, description="district code"),
    OpenApiParameter("land_use", str, description="residential, commercial, mixed, industrial, public_facility, open_space or road"),
    OpenApiParameter("status", str, description="active (default), retired or all"),
    OpenApiParameter("as_of", str, description="YYYY-MM-DD (state at the end of that day) or ISO datetime"),
    OpenApiParameter("srid", int, description="EPSG code of the output geometry (default 4326, lon/lat)"),
    OpenApiParameter("page", int),
    OpenApiParameter("page_size", int, description="at most 1000 (default 100)"),
]
SRID_PARAMETER = [OpenApiParameter("srid", int, description="EPSG code of the output geometry (default 4326)")]


def _output_srid(request) -> int:
    """Return the checked ?srid= of REQUEST (4326 when absent)."""
    srid = parse_srid(request.query_params.get("srid"))
    if srid != 4326:
        selectors.check_srid_known(srid)
    return srid


def _page_link(request, page: int) -> str:
    params = request.query_params.copy()
    params["page"] = str(page)
    return request.build_absolute_uri(request.path) + "?" + urlencode(sorted(params.items()))


@extend_schema(operation_id="parcels_list", parameters=LIST_PARAMETERS,
               responses={200: ParcelPageSerializer, **error_responses(400, 401)}, tags=["parcels"])
@api_view(["GET"])
def parcel_list(request):
    """Return the parcels matching the filters as a paginated GeoJSON FeatureCollection."""
    query = parse_parcel_query(request.query_params)
    _output_srid(request)  # the srid is parsed with the rest; this checks the database knows it
    qs = selectors.parcels_matching(query)
    count = qs.count()
    start = (query.page - 1) * query.page_size
    features = [selectors.to_feature(row) for row in qs[start:start + query.page_size]]
    last_page = max(1, -(-count // query.page_size))
    body = {
        "type": "FeatureCollection",
        "count": count,
        "next": _page_link(request, query.page + 1) if query.page < last_page else None,
        "previous": _page_link(request, query.page - 1) if query.page > 1 else None,
        "features": features,
    }
    if query.srid != 4326:
        body["crs"] = {"type": "name", "properties": {"name": f"urn:ogc:def:crs:EPSG::{query.srid}"}}
    return Response(ParcelPageSerializer(body).data, content_type="application/geo+json")


@extend_schema(parameters=SRID_PARAMETER, responses={200: ParcelDetailSerializer, **error_responses(400, 401, 404)},
               tags=["parcels"])
@api_view(["GET"])
def parcel_detail(request, municipality: str, parcel_code: str):
    """Return one parcel with its measurements, neighbours, zoning and lineage."""
    parcel = selectors.parcel_get(municipality=municipality, parcel_code=parcel_code)
    feature = selectors.parcel_detail(parcel=parcel, srid=_output_srid(request))
    return Response(ParcelDetailSerializer(feature).data, content_type="application/geo+json")


@extend_schema(parameters=SRID_PARAMETER, responses={200: ParcelHistorySerializer, **error_responses(400, 401, 404)},
               tags=["parcels"])
@api_view(["GET"])
def parcel_history(request, municipality: str, parcel_code: str):
    """Return every version of a parcel, newest first."""
    parcel = selectors.parcel_get(municipality=municipality, parcel_code=parcel_code)
    features = selectors.parcel_history(parcel=parcel, srid=_output_srid(request))
    body = {"type": "FeatureCollection", "count": len(features), "features": features}
    return Response(ParcelHistorySerializer(body).data, content_type="application/geo+json")
