"""The default MapLibre style over the public tile: districts, zoning, blocks, parcels, streets.

No outside basemap: every source is this server's. Labels are in Arabic and English: by default
both (Arabic above English), with ``?lang=ar`` or ``?lang=en`` one, falling back to the other
where a feature has only one name. Glyphs are fetched from this server's ``/fonts/{fontstack}/
{range}.pbf`` (served by the web map's part of the platform); Arabic shaping in MapLibre GL JS
also needs its RTL text plugin, which the web map loads.
"""

from __future__ import annotations

SOURCE = "gisportal"
FONT = ["Noto Sans Regular"]
LANGUAGES = ("", "ar", "en")  # "" = both


def _name(field: str) -> list:
    return ["coalesce", ["get", field], ""]


def label(lang: str, *, ar: str = "name_ar", en: str = "name_en") -> list:
    """Return a text-field expression: the LANG name falling back to the other, or both when LANG is ""."""
    if lang in ("ar", "en"):
        first, second = (ar, en) if lang == "ar" else (en, ar)
        return ["case", ["!=", _name(first), ""], _name(first), _name(second)]
    both = ["all", ["!=", _name(ar), ""], ["!=", _name(en), ""]]
    return ["case", both, ["concat", _name(ar), "\n", _name(en)], ["concat", _name(ar), _name(en)]]


def _layer(id_: str, type_: str, source_layer: str, *, minzoom: int | None = None, **parts) -> dict:
    layer = {"id": id_, "type": type_, "source": SOURCE, "source-layer": source_layer}
    if minzoom is not None:
        layer["minzoom"] = minzoom
    layer.update(parts)
    return layer


ZONE_COLOURS = ["match", ["slice", ["coalesce", ["get", "zone_code"], ""], 0, 1],
                "R", "#f3e3a1", "C", "#f2b5b0", "M", "#f5c98f", "I", "#cfc2ea", "P", "#b9ddb1", "#dddddd"]
LAND_USE_COLOURS = ["match", ["coalesce", ["get", "land_use"], ""],
                    "residential", "#fbf1c7", "commercial", "#f7cfcb", "mixed", "#f8dcb4",
                    "industrial", "#e1d8f3", "public_facility", "#d6e6f5", "open_space", "#cfe8c6",
                    "road", "#eeeeee", "#f4f4f4"]


def default_style(*, base_url: str, lang: str = "") -> dict:
    """Return the style document; BASE_URL is this server's origin (URLs in a style are absolute)."""
    text = {"text-font": FONT, "text-max-width": 8}
    halo = {"text-color": "#333333", "text-halo-color": "#ffffff", "text-halo-width": 1.5}
    return {
        "version": 8,
        "name": "gisportal default" + (f" ({lang})" if lang else ""),
        "metadata": {"gisportal:lang": lang or "ar+en"},
        "center": [0, 0],
        "zoom": 1,
        "sources": {SOURCE: {"type": "vector", "url": f"{base_url}/tiles/public.json"}},
        "glyphs": f"{base_url}/fonts/{{fontstack}}/{{range}}.pbf",
        "layers": [
            {"id": "background", "type": "background", "paint": {"background-color": "#f8f6f2"}},
            _layer("municipality-fill", "fill", "municipalities", paint={"fill-color": "#efece6"}),
            _layer("zoning-fill", "fill", "zoning", paint={"fill-color": ZONE_COLOURS, "fill-opacity": 0.45}),
            _layer("parcels-fill", "fill", "parcels", minzoom=13,
                   paint={"fill-color": LAND_USE_COLOURS, "fill-opacity": 0.8}),
            _layer("parcels-line", "line", "parcels", minzoom=15,
                   paint={"line-color": "#b0a58f", "line-width": ["interpolate", ["linear"], ["zoom"], 15, 0.3, 19, 1]}),
            _layer("blocks-line", "line", "blocks", minzoom=13,
                   paint={"line-color": "#8c8273", "line-width": ["interpolate", ["linear"], ["zoom"], 13, 0.5, 18, 1.5]}),
            _layer("zoning-line", "line", "zoning", paint={"line-color": "#9a8f7a", "line-dasharray": [3, 2],
                                                          "line-width": 0.8}),
            _layer("districts-line", "line", "districts",
                   paint={"line-color": "#6b5f8a", "line-width": ["interpolate", ["linear"], ["zoom"], 8, 0.8, 16, 2.5]}),
            _layer("municipality-line", "line", "municipalities", paint={"line-color": "#4b3f6b", "line-width": 2}),
            _layer("streets-casing", "line", "streets", layout={"line-cap": "round", "line-join": "round"},
                   paint={"line-color": "#c9c2b5",
                          "line-width": ["interpolate", ["exponential", 1.6], ["zoom"],
                                         10, ["*", 0.06, ["coalesce", ["get", "width_m"], 15]],
                                         18, ["*", 0.9, ["coalesce", ["get", "width_m"], 15]]]}),
            _layer("streets", "line", "streets", layout={"line-cap": "round", "line-join": "round"},
                   paint={"line-color": "#ffffff",
                          "line-width": ["interpolate", ["exponential", 1.6], ["zoom"],
                                         10, ["*", 0.04, ["coalesce", ["get", "width_m"], 15]],
                                         18, ["*", 0.75, ["coalesce", ["get", "width_m"], 15]]]}),
            _layer("parcels-label", "symbol", "parcels", minzoom=17,
                   layout={**text, "text-field": ["coalesce", ["get", "parcel_no"], ""], "text-size": 11},
                   paint={"text-color": "#6d6250", "text-halo-color": "#ffffff", "text-halo-width": 1}),
            _layer("streets-label", "symbol", "streets", minzoom=13,
                   layout={**text, "symbol-placement": "line", "text-field": label(lang), "text-size": 12,
                           "text-max-angle": 30},
                   paint=halo),
            _layer("zoning-label", "symbol", "zoning", minzoom=14,
                   layout={**text, "text-field": ["coalesce", ["get", "zone_code"], ""], "text-size": 11},
                   paint={"text-color": "#7a6e55", "text-halo-color": "#ffffff", "text-halo-width": 1}),
            _layer("districts-label", "symbol", "districts", minzoom=10,
                   layout={**text, "text-field": label(lang), "text-size": 14}, paint=halo),
            _layer("municipality-label", "symbol", "municipalities", maxzoom=11,
                   layout={**text, "text-field": label(lang), "text-size": 16}, paint=halo),
        ],
    }
