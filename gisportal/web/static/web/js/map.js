// The city map: MapLibre GL JS over the platform's own vector tiles and style, with search, a parcel
// panel, a layer switcher, a legend and a date slider. Everything it loads comes from this server.
const config = JSON.parse(document.getElementById("map-config").textContent);
const t = config.t;
const rtl = document.documentElement.dir === "rtl";
const fmt = (text, vars) => text.replace(/%\((\w+)\)s/g, (_, key) => vars[key]);
const numberFormat = new Intl.NumberFormat(config.lang === "ar" ? "ar-SA" : "en-GB", {maximumFractionDigits: 2});
const num = (value, unit) => (value === null || value === undefined ? "–" : `${numberFormat.format(value)} ${unit || ""}`.trim());
const $ = (id) => document.getElementById(id);

const PARCEL_LAYERS = ["parcels-fill", "parcels-line", "parcels-label"];
const PAST_LAYERS = ["past-parcels-fill", "past-parcels-line"];
const GROUPS = [
  ["parcels", [...PARCEL_LAYERS, ...PAST_LAYERS, "parcel-selected", "selected-parcel-line"]],
  ["blocks", ["blocks-line"]],
  ["streets", ["streets-casing", "streets", "streets-label"]],
  ["zoning", ["zoning-fill", "zoning-line", "zoning-label"]],
  ["districts", ["districts-line", "districts-label"]],
];

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

async function getJSON(url) {
  const response = await fetch(url, {credentials: "same-origin", headers: {Accept: "application/json"}});
  if (!response.ok) throw new Error(`${response.status} ${url}`);
  return response.json();
}

function bboxOf(geometry) {
  let box = [Infinity, Infinity, -Infinity, -Infinity];
  const walk = (coords) => {
    if (typeof coords[0] === "number") {
      box = [Math.min(box[0], coords[0]), Math.min(box[1], coords[1]), Math.max(box[2], coords[0]), Math.max(box[3], coords[1])];
    } else coords.forEach(walk);
  };
  walk(geometry.coordinates);
  return box;
}

const maplibregl = await import(config.maplibre);
// Arabic labels are shaped by the RTL text plugin, served by this server; loaded when a label needs it.
maplibregl.setRTLTextPlugin(new URL(config.rtlPlugin, window.location.href).href, true).catch((error) => console.warn(error));

const map = new maplibregl.Map({
  container: "map",
  style: new URL(config.style, window.location.href).href,
  bounds: config.extent,
  fitBoundsOptions: {padding: 24},
  attributionControl: {compact: true},
  cooperativeGestures: false,
});
window.gisportalMap = map; // the browser tests read the map through this
map.addControl(new maplibregl.NavigationControl(), rtl ? "top-left" : "top-right");
map.addControl(new maplibregl.ScaleControl({unit: "metric"}), rtl ? "bottom-right" : "bottom-left");

// ---- parcels of a past date and the selected parcel: layers of our own over the style's ----
map.on("load", () => {
  map.addSource("past-parcels", {type: "geojson", data: {type: "FeatureCollection", features: []}});
  map.addLayer({id: "past-parcels-fill", type: "fill", source: "past-parcels", layout: {visibility: "none"},
    paint: {"fill-color": "#c9b37e", "fill-opacity": 0.55}}, "blocks-line");
  map.addLayer({id: "past-parcels-line", type: "line", source: "past-parcels", layout: {visibility: "none"},
    paint: {"line-color": "#7a6234", "line-width": 0.8}}, "blocks-line");
  map.addLayer({id: "parcel-selected", type: "line", source: "gisportal", "source-layer": "parcels",
    filter: ["==", ["get", "parcel_code"], ""], paint: {"line-color": "#d1361b", "line-width": 3}});
  // The selected parcel as the parcels API answers it: a retired parent is not in the tiles any more.
  map.addSource("selected-parcel", {type: "geojson", data: {type: "FeatureCollection", features: []}});
  map.addLayer({id: "selected-parcel-line", type: "line", source: "selected-parcel",
    paint: {"line-color": "#d1361b", "line-width": 2.5, "line-dasharray": [2, 1.5]}});
  buildLayerSwitcher();
  buildLegend();
  map.once("idle", () => { $("map").dataset.ready = "1"; });
});
map.on("error", (event) => console.warn("map:", event.error && event.error.message));

// ---- layer switcher -------------------------------------------------------------------------
function buildLayerSwitcher() {
  const box = $("layer-switcher");
  for (const [group, ids] of GROUPS) {
    const input = el("input", {type: "checkbox", id: `layer-${group}`, checked: ""});
    input.addEventListener("change", () => {
      for (const id of ids) {
        if (!map.getLayer(id)) continue;
        const pastMode = state.pastDate !== null;
        const visible = input.checked && (PAST_LAYERS.includes(id) ? pastMode : !(pastMode && PARCEL_LAYERS.slice(0, 2).includes(id)));
        map.setLayoutProperty(id, "visibility", visible ? "visible" : "none");
      }
    });
    box.append(el("label", {for: `layer-${group}`}, input, t[`layer_${group}`]));
  }
}

// ---- legend, read from the style's own colour expressions so it never disagrees with the map ----
function matchPairs(expression) {
  if (!Array.isArray(expression) || expression[0] !== "match") return [];
  const pairs = [];
  for (let i = 2; i < expression.length - 1; i += 2) pairs.push([expression[i], expression[i + 1]]);
  pairs.push(["", expression[expression.length - 1]]);
  return pairs;
}

function buildLegend() {
  const legend = $("legend");
  const section = (title, layerId, label) => {
    const pairs = matchPairs(map.getPaintProperty(layerId, "fill-color"));
    if (!pairs.length) return;
    legend.append(el("h3", {text: title}));
    const list = el("ul", {class: "legend-list", role: "list"});
    for (const [key, colour] of pairs) {
      list.append(el("li", {}, el("span", {class: "swatch", style: `background:${colour}`, "aria-hidden": "true"}), label(key)));
    }
    legend.append(list);
  };
  section(t.legend_land_use, "parcels-fill", (key) => t[key] || t.other);
  section(t.legend_zoning, "zoning-fill", (key) => t[`zone_${key}`] || t.other);
}

// ---- parcel panel ---------------------------------------------------------------------------
const state = {selected: null, pastDate: null};

function row(label, value) {
  return el("tr", {}, el("th", {scope: "row", text: label}), el("td", {text: value ?? "–"}));
}

function flyToBox(box, maxZoom = 18) {
  map.fitBounds([[box[0], box[1]], [box[2], box[3]]], {padding: 60, maxZoom, duration: 800});
}

function select(code, feature = null) {
  state.selected = code;
  const source = map.getSource("selected-parcel");
  if (source) source.setData({type: "FeatureCollection", features: feature && feature.geometry ? [feature] : []});
  if (map.getLayer("parcel-selected")) map.setFilter("parcel-selected", ["==", ["get", "parcel_code"], code || ""]);
}

async function openParcel(municipality, code, properties = {}, {fly = false} = {}) {
  const panel = $("parcel-panel");
  const body = $("parcel-body");
  panel.hidden = false;
  panel.dataset.parcel = code;
  $("parcel-title").textContent = `${t.parcel} ${code}`;
  select(code);
  body.replaceChildren();
  const table = el("table", {}, el("tbody", {},
    row(t.municipality, municipality),
    row(t.plan_no, properties.plan_no), row(t.block_no, properties.block_no), row(t.parcel_no, properties.parcel_no),
    row(t.land_use, t[properties.land_use] || properties.land_use), row(t.zone, properties.zone_code),
    row(t.area, properties.area_m2 !== undefined ? num(properties.area_m2, t.m2) : undefined)));
  body.append(table);
  panel.focus();
  if (!config.signedIn) {
    body.append(el("p", {class: "hint", text: t.login_for_more}));
    return;
  }
  const status = el("p", {class: "hint", text: t.loading});
  body.append(status);
  let feature;
  try {
    feature = await getJSON(`${config.parcelsApi}${encodeURIComponent(municipality)}/${encodeURIComponent(code)}/`);
  } catch (error) {
    status.textContent = t.load_failed;
    return;
  }
  if (panel.dataset.parcel !== code) return; // another parcel was chosen meanwhile
  select(code, feature);
  if (fly && feature.geometry) flyToBox(bboxOf(feature.geometry));
  renderDetail(body, municipality, feature.properties);
}

function codeButtons(municipality, codes) {
  if (!codes || !codes.length) return el("p", {class: "hint", text: t.none});
  const list = el("ul", {class: "codes"});
  for (const code of codes) {
    list.append(el("li", {}, el("button", {type: "button", class: "button small", "aria-label": fmt(t.fly_to, {code}),
      text: code, onclick: () => openParcel(municipality, code, {}, {fly: true})})));
  }
  return list;
}

function renderDetail(body, municipality, p) {
  const m = p.measurements || {};
  const lineage = p.lineage || {};
  body.replaceChildren(...[
    el("table", {}, el("tbody", {},
      row(t.municipality, municipality), row(t.district, p.district_name_en),
      row(t.plan_no, p.plan_no), row(t.block_no, p.block_no), row(t.parcel_no, p.parcel_no),
      row(t.land_use, t[p.land_use] || p.land_use), row(t.area, num(m.area_m2, t.m2)),
      row(t.perimeter, num(m.perimeter_m, t.m)), row(t.frontage, num(m.frontage_m, t.m)),
      row(t.depth, num(m.depth_m, t.m)), row(t.edges, m.edges ? String(m.edges.length) : undefined),
      row(t.valid_from, (p.lifetime && p.lifetime.from || "").slice(0, 10)),
      p.lifetime && p.lifetime.to ? row(t.retired, p.lifetime.to.slice(0, 10)) : null)),
    el("h3", {text: t.zoning}),
    (p.zoning && p.zoning.length)
      ? el("ul", {}, ...p.zoning.map((z) => el("li", {text: `${z.zone_code} · ${config.lang === "ar" ? (z.name_ar || z.name_en) : (z.name_en || z.name_ar)} (${num(z.share_pct, "%")})`})))
      : el("p", {class: "hint", text: t.none}),
    el("h3", {text: t.lineage}),
    el("p", {class: "lineage-label", text: t.parents}), codeButtons(municipality, lineage.parents),
    el("p", {class: "lineage-label", text: t.children}), codeButtons(municipality, lineage.children),
    lineage.created_by_plan ? el("p", {}, el("a", {href: `${config.plansPage}${lineage.created_by_plan}`, text: t.open_plan})) : null,
    el("p", {}, el("a", {class: "button", id: "site-report-link",
      href: `${config.parcelsApi}${encodeURIComponent(municipality)}/${encodeURIComponent(p.parcel_code)}/site-report.pdf`,
      text: t.site_report})),
  ].filter((node) => node !== null));
}

$("parcel-close").addEventListener("click", () => {
  $("parcel-panel").hidden = true;
  select(null);
  $("search-input").focus();
});

map.on("click", (event) => {
  const layers = ["parcels-fill", "past-parcels-fill"].filter((id) => map.getLayer(id));
  const [feature] = map.queryRenderedFeatures(event.point, {layers});
  if (feature) openParcel(feature.properties.municipality, feature.properties.parcel_code, feature.properties);
});
for (const id of ["parcels-fill", "past-parcels-fill"]) {
  map.on("mouseenter", id, () => { map.getCanvas().style.cursor = "pointer"; });
  map.on("mouseleave", id, () => { map.getCanvas().style.cursor = ""; });
}

// ---- search ---------------------------------------------------------------------------------
$("map-search").addEventListener("submit", async (event) => {
  event.preventDefault();
  const text = $("search-input").value.trim();
  const list = $("search-results");
  const status = $("search-status");
  list.replaceChildren();
  if (text.length < 2) { status.textContent = t.too_short; return; }
  status.textContent = t.searching;
  let results;
  try {
    results = (await getJSON(`${config.search}?q=${encodeURIComponent(text)}`)).results;
  } catch (error) {
    status.textContent = t.no_results;
    return;
  }
  status.textContent = results.length ? fmt(t.results, {count: numberFormat.format(results.length)}) : t.no_results;
  for (const hit of results) {
    const label = hit.kind === "street" ? (config.lang === "ar" ? (hit.label_ar || hit.label_en) : (hit.label_en || hit.label_ar)) : hit.label;
    const go = () => {
      flyToBox(hit.bbox, hit.kind === "parcel" ? 18 : 17);
      if (hit.kind === "parcel") openParcel(hit.municipality, hit.code, {});
    };
    list.append(el("li", {}, el("button", {type: "button", class: "search-hit", "data-kind": hit.kind, onclick: go},
      label, el("span", {class: "kind", text: `${t[hit.kind]} · ${hit.municipality}`}))));
  }
  const exact = results.find((hit) => hit.kind === "parcel" && hit.code.toLowerCase() === text.toLowerCase());
  if (exact) list.querySelector(`button[data-kind="parcel"]`).click();
});

// ---- parcels as of a past date (the parcels API's as_of, for the visible area) ----------------
const DAY = 86400000;
const first = Date.parse(`${config.firstDate}T00:00:00Z`);
const lastDay = Math.max(0, Math.round((Date.parse(`${config.today}T00:00:00Z`) - first) / DAY));
const slider = $("date-slider");
slider.min = "0";
slider.max = String(lastDay);
slider.value = String(lastDay);
const dayText = (offset) => new Date(first + offset * DAY).toISOString().slice(0, 10);
function showSliderValue() {
  const offset = Number(slider.value);
  const text = offset >= lastDay ? `${t.today} (${config.today})` : dayText(offset);
  $("date-output").textContent = text;
  slider.setAttribute("aria-valuetext", text);
}
showSliderValue();

function setPastMode(on) {
  const parcelsOn = $("layer-parcels") ? $("layer-parcels").checked : true;
  for (const id of PAST_LAYERS) if (map.getLayer(id)) map.setLayoutProperty(id, "visibility", on && parcelsOn ? "visible" : "none");
  for (const id of PARCEL_LAYERS.slice(0, 2)) if (map.getLayer(id)) map.setLayoutProperty(id, "visibility", !on && parcelsOn ? "visible" : "none");
}

let pastRequest = 0;
async function loadPast() {
  if (state.pastDate === null) return;
  const status = $("date-status");
  if (map.getZoom() < 14) { status.textContent = t.zoom_in_past; map.getSource("past-parcels").setData({type: "FeatureCollection", features: []}); return; }
  const b = map.getBounds();
  const request = ++pastRequest;
  const url = `${config.parcelsApi}?as_of=${state.pastDate}&bbox=${[b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(6)).join(",")}&page_size=1000`;
  try {
    const data = await getJSON(url);
    if (request !== pastRequest) return;
    map.getSource("past-parcels").setData(data);
    status.textContent = fmt(t.past_count, {count: numberFormat.format(data.count ?? data.features.length), date: state.pastDate})
      + (data.next ? ` ${t.past_more}` : "");
  } catch (error) {
    status.textContent = t.past_failed;
  }
}

let sliderTimer = null;
slider.addEventListener("input", () => {
  showSliderValue();
  clearTimeout(sliderTimer);
  sliderTimer = setTimeout(() => {
    const offset = Number(slider.value);
    state.pastDate = offset >= lastDay ? null : dayText(offset);
    setPastMode(state.pastDate !== null);
    if (state.pastDate === null) $("date-status").textContent = t.current;
    else loadPast();
  }, 250);
});
$("date-today").addEventListener("click", () => {
  slider.value = String(lastDay);
  slider.dispatchEvent(new Event("input"));
});
map.on("moveend", () => { if (state.pastDate !== null) loadPast(); });
