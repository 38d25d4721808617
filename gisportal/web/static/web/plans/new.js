// /plans/new: a surveyor drops (or chooses) a plan file and its parent parcels, sees the validation report
// at once (POST /api/plans/validate/), saves the draft (POST /api/plans/) and submits it.
import { api, collection, el, fmt, number, pageData, showError, strings } from "./common.js";
import {
  addFindingLayers, addPlanLayers, createMap, findingFeatures, findingKey, highlight, renderFindings, zoomTo,
} from "./map.js";

const form = document.getElementById("plan-form");
const fileInput = document.getElementById("plan-file");
const dropzone = document.getElementById("dropzone");
const fileName = document.getElementById("file-name");
const municipalitySelect = document.getElementById("municipality");
const parentsInput = document.getElementById("parents");
const chips = document.getElementById("parent-chips");
const titleInput = document.getElementById("title");
const landUse = document.getElementById("land-use");
const statusLine = document.getElementById("plan-status");
const errorBox = document.getElementById("plan-error");
const reportBox = document.getElementById("report");
const verdict = document.getElementById("report-verdict");
const summaryList = document.getElementById("report-summary");
const findingsList = document.getElementById("findings");
const saveButton = document.getElementById("save-draft");
const submitButton = document.getElementById("submit-plan");
const correctedBox = document.getElementById("corrected");
const downloadButton = document.getElementById("download-corrected");
const mapContainer = document.getElementById("plan-map");
const municipalities = pageData("plans-municipalities");

const state = {
  file: null, fileFeatures: null, report: null, savedPlanId: null, controller: null, sequence: 0, map: null,
  chosen: null, // findingKey of the finding the user chose: still chosen in the next answer, if it has it
};

// ---- parents: typed codes and clicks on the map are one list ----------------------------------

function parentCodes() {
  const seen = new Set();
  return parentsInput.value.split(/[,،\s]+/).map((c) => c.trim()).filter((c) => c && !seen.has(c) && seen.add(c));
}

function setParentCodes(codes) {
  parentsInput.value = codes.join(", ");
  renderParents();
  changed();
}

function renderParents() {
  const codes = parentCodes();
  chips.replaceChildren(...codes.map((code) => el("li", { class: "chip" },
    el("span", { dir: "ltr", text: code }),
    el("button", { type: "button", class: "chip-remove", "aria-label": fmt(strings.remove_parent, { code }),
      onclick: () => { setParentCodes(parentCodes().filter((c) => c !== code)); parentsInput.focus(); } }, "×"))));
  if (!codes.length) chips.append(el("li", { class: "hint", text: strings.no_parents }));
  if (state.map && state.map.getLayer("parents-selected-fill")) {
    const filter = ["all", ["==", ["get", "municipality"], municipalitySelect.value],
      ["in", ["get", "parcel_code"], ["literal", codes]]];
    state.map.setFilter("parents-selected-fill", filter);
    state.map.setFilter("parents-selected-line", filter);
  }
}

function toggleParent(code) {
  const codes = parentCodes();
  const present = codes.includes(code);
  setParentCodes(present ? codes.filter((c) => c !== code) : [...codes, code]);
  statusLine.textContent = fmt(present ? strings.parent_removed : strings.parent_added, { code });
}

// ---- the file: dropped or chosen --------------------------------------------------------------

async function useFile(file) {
  state.file = file || null;
  state.fileFeatures = null;
  state.chosen = null;
  fileName.textContent = file ? `${file.name} (${number(file.size / 1024, 1)} KB)` : "";
  if (file && /\.(geo)?json$/i.test(file.name)) {
    try {
      const parsed = JSON.parse(await file.text());
      if (parsed && Array.isArray(parsed.features)) state.fileFeatures = parsed.features;
    } catch (error) {
      state.fileFeatures = null; // the server names what is wrong with the file
    }
  }
  if (state.fileFeatures && state.map) zoomTo(state.map, collection(state.fileFeatures), { maxZoom: 18 });
  changed();
}

dropzone.addEventListener("dragover", (event) => {
  event.preventDefault();
  dropzone.classList.add("dragging");
});
dropzone.addEventListener("dragleave", () => dropzone.classList.remove("dragging"));
dropzone.addEventListener("drop", (event) => {
  event.preventDefault();
  dropzone.classList.remove("dragging");
  const files = event.dataTransfer && event.dataTransfer.files;
  if (!files || !files.length) return;
  try { fileInput.files = files; } catch (error) { /* older browsers: the input keeps its value */ }
  useFile(files[0]);
});
fileInput.addEventListener("change", () => useFile(fileInput.files[0]));

// ---- validation at once -----------------------------------------------------------------------

let timer = null;
function changed() {
  state.savedPlanId = null; // the saved draft no longer matches the form
  state.report = null;
  updateButtons();
  clearTimeout(timer);
  timer = setTimeout(validate, 350);
}

function uploadForm() {
  const data = new FormData();
  data.append("file", state.file, state.file.name);
  data.append("municipality", municipalitySelect.value);
  data.append("parents", parentCodes().join(","));
  if (titleInput.value.trim()) data.append("title", titleInput.value.trim());
  data.append("land_use", landUse.value);
  return data;
}

async function validate() {
  if (state.controller) state.controller.abort();
  showError(errorBox, "");
  if (!state.file) { statusLine.textContent = strings.choose_file; drawReport(null); return; }
  if (!parentCodes().length) { statusLine.textContent = strings.choose_parents; drawReport(null); return; }
  const controller = new AbortController();
  state.controller = controller;
  const sequence = ++state.sequence;
  statusLine.textContent = strings.validating;
  form.setAttribute("aria-busy", "true");
  try {
    const report = await api("/api/plans/validate/", { method: "POST", form: uploadForm(), signal: controller.signal });
    if (sequence !== state.sequence) return;
    drawReport(report);
  } catch (error) {
    if (error.name === "AbortError" || sequence !== state.sequence) return;
    drawReport(null);
    statusLine.textContent = "";
    showError(errorBox, error.message);
  } finally {
    if (sequence === state.sequence) form.removeAttribute("aria-busy");
  }
}

function summaryRows(summary) {
  const m2 = strings.sq_m;
  return [
    [strings.summary_lots, number(summary.lots_count)],
    [strings.summary_parent_area, `${number(summary.parent_area_m2, 2)} ${m2}`],
    [strings.summary_lots_area, `${number(summary.lots_area_m2, 2)} ${m2}`],
    [strings.summary_roads_area, `${number(summary.roads_area_m2, 2)} ${m2}`],
    [strings.summary_open_space_area, `${number(summary.open_space_area_m2, 2)} ${m2}`],
    [strings.summary_public_share, `${number(summary.public_share_pct, 1)} %`],
    [strings.summary_overlap, `${number(summary.overlap_area_m2, 2)} ${m2}`],
    [strings.summary_uncovered, `${number(summary.uncovered_area_m2, 2)} ${m2}`],
  ];
}

/** Return LABEL's worst severity over the report's findings ("error", "warning" or null). */
function severityByLabel(report) {
  const worst = new Map();
  for (const finding of report.findings) {
    for (const label of finding.features || []) {
      if (worst.get(label) !== "error") worst.set(label, finding.severity);
    }
  }
  return worst;
}

function featureState(kind, worst) {
  if (worst) return worst;
  return kind === "lot" ? "ok" : kind;
}

function drawFileFeatures(report) {
  if (!state.map) return;
  const source = state.map.getSource("plan");
  if (!state.fileFeatures || !report) { source.setData(collection([])); return; }
  const worst = severityByLabel(report);
  const features = state.fileFeatures.filter((f) => f && f.geometry).map((feature, index) => {
    const props = feature.properties || {};
    const kind = String(props.kind || props.type || "lot").toLowerCase().replace(/[\s-]/g, "_");
    const lot = props.lot_no === undefined || props.lot_no === null ? "" : String(props.lot_no).trim();
    const label = lot || `${kind}#${index}`;
    return { type: "Feature", id: index, geometry: feature.geometry,
      properties: { kind, lot_no: lot, _state: featureState(kind, worst.get(label)) } };
  });
  source.setData(collection(features));
}

async function drawSavedFeatures(planId, report) {
  const page = await api(`/api/plans/${planId}/features/?page_size=5000`);
  const severity = new Map(report.findings.map((f) => [f.code, f.severity]));
  for (const feature of page.features) {
    const codes = feature.properties.findings || [];
    const worst = codes.some((c) => severity.get(c) === "error") ? "error"
      : codes.some((c) => severity.get(c) === "warning") ? "warning" : null;
    feature.properties._state = featureState(feature.properties.kind, worst);
  }
  state.map.getSource("plan").setData(page);
  zoomTo(state.map, page, { maxZoom: 18 });
}

function drawReport(report) {
  state.report = report;
  updateButtons();
  if (state.map) {
    state.map.getSource("findings").setData(collection(report ? findingFeatures(report.findings) : []));
    highlight(state.map, null);
  }
  drawFileFeatures(report);
  if (!report) { reportBox.hidden = true; return; }
  reportBox.hidden = false;
  correctedBox.hidden = !report.findings.some((f) => f.correction);
  verdict.className = `verdict ${report.valid ? "verdict-ok" : "verdict-bad"}`;
  verdict.textContent = report.valid ? (report.findings.length ? strings.warnings_only : strings.valid) : strings.invalid;
  statusLine.textContent = fmt(strings.checked, { n: number(report.findings_total) });
  if (!state.fileFeatures) statusLine.textContent += ` ${strings.file_not_drawn}`;
  summaryList.replaceChildren(...summaryRows(report.summary || {}).flatMap(([term, value]) => [
    el("dt", { text: term }), el("dd", { text: value })]));
  if (report.findings.length) {
    // Every change re-validates: the finding the user chose stays chosen (and drawn, without zooming again).
    const chosen = report.findings.findIndex((finding) => findingKey(finding) === state.chosen);
    renderFindings(findingsList, report.findings, (finding) => {
      state.chosen = findingKey(finding);
      if (state.map) highlight(state.map, finding);
    }, chosen);
    if (chosen >= 0 && state.map) highlight(state.map, report.findings[chosen], { zoom: false });
  } else {
    findingsList.replaceChildren(el("li", { class: "hint", text: strings.no_findings }));
  }
  if (report.findings_total > report.findings.length) {
    findingsList.append(el("li", { class: "hint", text: fmt(strings.findings_cut, {
      shown: number(report.findings.length), total: number(report.findings_total) }) }));
  }
}

function updateButtons() {
  const ready = Boolean(state.file && parentCodes().length && state.report);
  saveButton.disabled = !ready || Boolean(state.savedPlanId);
  submitButton.disabled = !(ready && state.report.valid);
}

// ---- save and submit --------------------------------------------------------------------------

async function save() {
  statusLine.textContent = strings.saving;
  const created = await api("/api/plans/", { method: "POST", form: uploadForm() });
  state.savedPlanId = created.id;
  state.report = created.report;
  updateButtons();
  statusLine.replaceChildren(fmt(strings.saved, { id: created.id }), " ",
    el("a", { href: `/plans/${created.id}`, text: strings.open_plan }));
  if (state.map) await drawSavedFeatures(created.id, created.report).catch(() => {});
  return created;
}

// ---- the corrected plan: POST /api/plans/validate/?fix=snap answers the file with its corrections applied ----

/** Save BODY's corrected file ({name, media_type, base64}) through the browser's download. */
function download(file) {
  const bytes = Uint8Array.from(atob(file.base64), (c) => c.charCodeAt(0));
  const url = URL.createObjectURL(new Blob([bytes], { type: file.media_type }));
  const link = el("a", { href: url, download: file.name, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

downloadButton.addEventListener("click", async () => {
  showError(errorBox, "");
  downloadButton.disabled = true;
  statusLine.textContent = strings.correcting;
  try {
    const answer = await api("/api/plans/validate/?fix=snap", { method: "POST", form: uploadForm() });
    download(answer.file);
    statusLine.textContent = fmt(strings.corrected_downloaded, {
      name: answer.file.name, n: number(answer.corrections_applied),
      left: number(answer.corrected_report.findings_total) });
  } catch (error) {
    statusLine.textContent = "";
    showError(errorBox, error.message);
  } finally {
    downloadButton.disabled = false;
  }
});

saveButton.addEventListener("click", async () => {
  showError(errorBox, "");
  saveButton.disabled = true;
  try { await save(); } catch (error) { showError(errorBox, error.message); updateButtons(); }
});

submitButton.addEventListener("click", async () => {
  showError(errorBox, "");
  submitButton.disabled = true;
  try {
    const planId = state.savedPlanId || (await save()).id;
    statusLine.textContent = strings.submitting;
    await api(`/api/plans/${planId}/submit/`, { method: "POST", json: {} });
    window.location.assign(`/plans/${planId}`);
  } catch (error) {
    showError(errorBox, error.message);
    if (error.body && error.body.report) drawReport(error.body.report);
    updateButtons();
  }
});

for (const input of [municipalitySelect, landUse]) input.addEventListener("change", () => {
  renderParents();
  changed();
});
titleInput.addEventListener("change", () => { state.savedPlanId = null; updateButtons(); });
let typing = null;
parentsInput.addEventListener("input", () => {
  clearTimeout(typing);
  typing = setTimeout(() => { renderParents(); changed(); }, 500);
});
municipalitySelect.addEventListener("change", () => {
  const chosen = municipalities.find((m) => m.code === municipalitySelect.value);
  if (chosen && chosen.bounds && state.map) state.map.fitBounds(chosen.bounds, { padding: 30 });
});

// ---- the map ----------------------------------------------------------------------------------

async function startMap() {
  const chosen = municipalities.find((m) => m.code === municipalitySelect.value);
  const map = await createMap(mapContainer, { bounds: chosen && chosen.bounds });
  map.addLayer({ id: "parents-selected-fill", type: "fill", source: "gisportal", "source-layer": "parcels",
    filter: ["==", ["get", "parcel_code"], "\u0000"], paint: { "fill-color": "#1565c0", "fill-opacity": 0.25 } });
  map.addLayer({ id: "parents-selected-line", type: "line", source: "gisportal", "source-layer": "parcels",
    filter: ["==", ["get", "parcel_code"], "\u0000"], paint: { "line-color": "#0d47a1", "line-width": 3 } });
  map.addSource("plan", { type: "geojson", data: collection([]) });
  addPlanLayers(map, "plan");
  addFindingLayers(map);
  map.on("click", "parcels-fill", (event) => {
    const parcel = event.features && event.features[0];
    if (parcel && parcel.properties.municipality === municipalitySelect.value) toggleParent(parcel.properties.parcel_code);
  });
  map.on("mouseenter", "parcels-fill", () => { map.getCanvas().style.cursor = "pointer"; });
  map.on("mouseleave", "parcels-fill", () => { map.getCanvas().style.cursor = ""; });
  state.map = map;
  renderParents();
  if (state.report) drawReport(state.report);
  if (state.fileFeatures) zoomTo(map, collection(state.fileFeatures), { maxZoom: 18 });
  mapContainer.dataset.ready = "true";
}

renderParents();
statusLine.textContent = strings.choose_file;
startMap().catch((error) => showError(errorBox, error.message));
