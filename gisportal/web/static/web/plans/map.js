// The plans pages' map: MapLibre GL JS (served by the platform) on the platform's own style, with the
// plan's features, its findings, the highlighted finding and its suggested correction as GeoJSON layers over the
// parcels tiles.
import * as maplibregl from "../vendor/maplibre-gl.mjs";
import { bbox, collection, el, fmt, lang, number, strings } from "./common.js";

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

const CORRECTION_COLOUR = "#0d47a1";

/** Add the findings' locations (faint), the chosen finding (strong) and its suggested correction (dashed). */
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
  // The chosen finding's suggested correction: the corrected features, outlined dashed over everything else.
  map.addSource("finding-correction", { type: "geojson", data: collection([]) });
  map.addLayer({ id: "finding-correction-fill", type: "fill", source: "finding-correction",
    paint: { "fill-color": CORRECTION_COLOUR, "fill-opacity": 0.12 } });
  map.addLayer({ id: "finding-correction-line", type: "line", source: "finding-correction",
    layout: { "line-join": "round" },
    paint: { "line-color": CORRECTION_COLOUR, "line-width": 3, "line-dasharray": [2, 1.5] } });
}

export function findingFeatures(findings) {
  return findings.filter((f) => f.location).map((f, i) => ({
    type: "Feature", id: i, geometry: f.location, properties: { code: f.code, severity: f.severity, index: i },
  }));
}

// The API's correction_note is English only: each known note read back into the page's language.
const NOTES = [
  [/^a vertex would move ([\d.e+-]+) m, over the ([\d.e+-]+) m tolerance$/,
    (m) => fmt(strings.note_vertex_too_far, { m: number(m[1], 1), tolerance: number(m[2], 2) })],
  [/^snapping to the parent's boundary and the neighbouring features leaves ([\d.e+-]+) m² of it$/,
    (m) => fmt(strings.note_left_over, { area: number(m[1], 2) })],
  [/^it has no location to snap to$/, () => strings.note_no_location],
  [/^the corner faces streets of the registry, not a road of the plan/, () => strings.note_registry_corner],
];

/** Return why a finding has no correction, in the page's language (the API's words when the note is new). */
export function correctionNote(note) {
  for (const [pattern, say] of NOTES) {
    const match = pattern.exec(note || "");
    if (match) return say(match) || note;
  }
  return note || "";
}

/** Return the line a finding shows about its suggested correction, or null for codes that never have one. */
function correctionLine(finding) {
  if (!("correction" in finding)) return null;
  if (finding.correction) {
    return el("span", { class: "finding-correction", "data-testid": "correction",
      text: fmt(strings.correction_suggested, { m: number(finding.correction.max_displacement_m, 2) }) });
  }
  // The API says why in both languages; a finding stored before it did is matched against the known wordings.
  const why = lang === "ar" && finding.correction_note_ar ? finding.correction_note_ar
    : correctionNote(finding.correction_note);
  return el("span", { class: "finding-correction finding-no-correction", "data-testid": "no-correction",
    text: why ? fmt(strings.correction_none_because, { why }) : strings.correction_none });
}

/** Return the finding list's items: one button each, in the page's language; a click zooms to it.
 *  CHOSEN: the index of the finding shown as chosen (-1: none). */
export function renderFindings(list, findings, onChoose, chosen = -1) {
  list.replaceChildren();
  findings.forEach((finding, i) => {
    const message = lang === "ar" ? finding.message_ar : finding.message_en;
    const named = (finding.features || []).join(lang === "ar" ? "، " : ", ");
    const button = el("button", {
      type: "button", class: `finding finding-${finding.severity}`, "data-code": finding.code,
      "data-index": i, "aria-pressed": i === chosen ? "true" : "false",
    },
    el("span", { class: `badge badge-${finding.severity}`, text: (strings.severity || {})[finding.severity] || finding.severity }),
    " ", el("code", { text: finding.code }), " ", el("span", { class: "finding-message", text: message }),
    named ? el("span", { class: "finding-features", text: ` (${strings.features}: ${named})` }) : null,
    correctionLine(finding));
    button.addEventListener("click", () => {
      list.querySelectorAll(".finding").forEach((b) => b.setAttribute("aria-pressed", "false"));
      button.setAttribute("aria-pressed", "true");
      onChoose(finding, i);
    });
    list.append(el("li", {}, button));
  });
}

/** Return the corrected features of FINDING's suggested correction as GeoJSON features (none without one). */
export function correctionFeatures(finding) {
  const correction = finding && finding.correction;
  return correction ? (correction.features || []).filter((f) => f.geometry).map((f) => ({
    type: "Feature", geometry: f.geometry,
    properties: { code: finding.code, label: f.label, max_displacement_m: correction.max_displacement_m },
  })) : [];
}

/** Return what tells a finding apart from another in the next answer to the same plan: its code, its
 *  features and its location. */
export function findingKey(finding) {
  return JSON.stringify([finding.code, finding.features || [], finding.location || null]);
}

/** Show FINDING on the map (null: none): its location highlighted, its suggested correction outlined dashed;
 *  the map zooms to it unless ZOOM is false. */
export function highlight(map, finding, { zoom = true } = {}) {
  const data = finding && finding.location
    ? collection([{ type: "Feature", geometry: finding.location, properties: { code: finding.code, severity: finding.severity } }])
    : collection([]);
  map.getSource("finding-highlight").setData(data);
  map.getSource("finding-correction").setData(collection(correctionFeatures(finding)));
  if (zoom && finding && finding.location) zoomTo(map, finding.location, { maxZoom: 19, padding: 120 });
}
