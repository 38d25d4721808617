// The plans pages' map: MapLibre GL JS (served by the platform) on the platform's own style, with the
// plan's features, its findings and the highlighted finding as GeoJSON layers over the parcels tiles.
import * as maplibregl from "../vendor/maplibre-gl.mjs";
import { bbox, collection, el, lang, strings } from "./common.js";

// ---- the map ----------------------------------------------------------------------------------

function rtlPlugin() {
  // Arabic labels are shaped and ordered by MapLibre's RTL text plugin, served by this platform.
  if (maplibregl.getRTLTextPluginStatus() === "unavailable") {
    const url = document.getElementById("map-config").dataset.rtlPlugin;
    maplibregl.setRTLTextPlugin(url, true).catch(() => {});
  }
}

/** Return a MapLibre map in CONTAINER on the platform's own style (labels in the page's language),
 * fitted to BOUNDS when given; resolves once the style is loaded. */
export function createMap(container, { bounds } = {}) {
  rtlPlugin();
  const map = new maplibregl.Map({
    container,
    style: `/styles/default.json?lang=${lang}`,
    bounds: bounds || undefined,
    fitBoundsOptions: { padding: 30 },
    center: bounds ? undefined : [46.63, 24.82],
    zoom: bounds ? undefined : 12,
    attributionControl: false,
    locale: strings.map_locale || {},
    cooperativeGestures: false,
  });
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), lang === "ar" ? "top-left" : "top-right");
  container.mapInstance = map; // for the browser tests (queryRenderedFeatures)
  return new Promise((resolve) => map.on("load", () => resolve(map)));
}

/** Fit MAP to a GeoJSON object's bounds, keeping sensible zoom for tiny shapes. */
export function zoomTo(map, geojson, { maxZoom = 18, padding = 60 } = {}) {
  const box = bbox(geojson);
  if (!box) return;
  map.fitBounds([[box[0], box[1]], [box[2], box[3]]], { padding, maxZoom, duration: 400 });
}

/** Add the plan's own layers (features coloured by result, their lot numbers) over SOURCE. */
export function addPlanLayers(map, source) {
  const fill = ["match", ["get", "_state"], "error", "#d32f2f", "warning", "#f9a825", "ok", "#43a047",
    "road", "#9e9e9e", "open_space", "#4db6ac", "#90a4ae"];
  map.addLayer({ id: `${source}-fill`, type: "fill", source, paint: { "fill-color": fill, "fill-opacity": 0.45 } });
  map.addLayer({ id: `${source}-line`, type: "line", source,
    paint: { "line-color": ["match", ["get", "_state"], "error", "#8e0000", "ok", "#1b5e20", "#37474f"], "line-width": 1.5 } });
  map.addLayer({ id: `${source}-label`, type: "symbol", source, minzoom: 15,
    layout: { "text-field": ["coalesce", ["get", "lot_no"], ""], "text-font": ["Noto Sans Regular"], "text-size": 12 },
    paint: { "text-color": "#212121", "text-halo-color": "#fff", "text-halo-width": 1.5 } });
}

/** Add the findings' locations (faint) and the highlighted finding (strong) over two GeoJSON sources. */
export function addFindingLayers(map) {
  map.addSource("findings", { type: "geojson", data: collection([]) });
  map.addSource("finding-highlight", { type: "geojson", data: collection([]) });
  const polygons = ["match", ["geometry-type"], ["Polygon", "MultiPolygon"], true, false];
  const lines = ["match", ["geometry-type"], ["LineString", "MultiLineString"], true, false];
  const points = ["match", ["geometry-type"], ["Point", "MultiPoint"], true, false];
  const colour = ["match", ["get", "severity"], "warning", "#f57f17", "#c62828"];
  map.addLayer({ id: "findings-fill", type: "fill", source: "findings", filter: polygons,
    paint: { "fill-color": colour, "fill-opacity": 0.25 } });
  map.addLayer({ id: "findings-line", type: "line", source: "findings", filter: ["any", polygons, lines],
    paint: { "line-color": colour, "line-width": 2, "line-dasharray": [2, 1] } });
  map.addLayer({ id: "findings-point", type: "circle", source: "findings", filter: points,
    paint: { "circle-color": colour, "circle-radius": 5, "circle-stroke-color": "#fff", "circle-stroke-width": 1 } });
  map.addLayer({ id: "finding-highlight-fill", type: "fill", source: "finding-highlight", filter: polygons,
    paint: { "fill-color": "#ffea00", "fill-opacity": 0.75 } });
  map.addLayer({ id: "finding-highlight-line", type: "line", source: "finding-highlight",
    filter: ["any", polygons, lines], paint: { "line-color": "#000", "line-width": 3 } });
  map.addLayer({ id: "finding-highlight-point", type: "circle", source: "finding-highlight", filter: points,
    paint: { "circle-color": "#ffea00", "circle-radius": 9, "circle-stroke-color": "#000", "circle-stroke-width": 2 } });
}

export function findingFeatures(findings) {
  return findings.filter((f) => f.location).map((f, i) => ({
    type: "Feature", id: i, geometry: f.location, properties: { code: f.code, severity: f.severity, index: i },
  }));
}

/** Return the finding list's items: one button each, in the page's language; a click zooms to it. */
export function renderFindings(list, findings, onChoose) {
  list.replaceChildren();
  findings.forEach((finding, i) => {
    const message = lang === "ar" ? finding.message_ar : finding.message_en;
    const named = (finding.features || []).join(lang === "ar" ? "، " : ", ");
    const button = el("button", {
      type: "button", class: `finding finding-${finding.severity}`, "data-code": finding.code,
      "data-index": i, "aria-pressed": "false",
    },
    el("span", { class: `badge badge-${finding.severity}`, text: (strings.severity || {})[finding.severity] || finding.severity }),
    " ", el("code", { text: finding.code }), " ", el("span", { class: "finding-message", text: message }),
    named ? el("span", { class: "finding-features", text: ` (${strings.features}: ${named})` }) : null);
    button.addEventListener("click", () => {
      list.querySelectorAll(".finding").forEach((b) => b.setAttribute("aria-pressed", "false"));
      button.setAttribute("aria-pressed", "true");
      onChoose(finding, i);
    });
    list.append(el("li", {}, button));
  });
}

/** Return the features of the highlighted finding, for the map's highlight source. */
export function highlight(map, finding) {
  const data = finding && finding.location
    ? collection([{ type: "Feature", geometry: finding.location, properties: { code: finding.code, severity: finding.severity } }])
    : collection([]);
  map.getSource("finding-highlight").setData(data);
  if (finding && finding.location) zoomTo(map, finding.location, { maxZoom: 19, padding: 120 });
}
