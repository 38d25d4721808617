// /plans/{id}: the plan over the current parcels, its findings, versions with their diff on the map, its
// history, and the workflow moves the user may make now (the `actions` of GET /api/plans/{id}/).
import { api, collection, dateTime, el, fmt, lang, number, pageData, showError, slaText, statusLabel, strings } from "./common.js";
import { addFindingLayers, addPlanLayers, createMap, findingFeatures, highlight, renderFindings, zoomTo } from "./map.js";

const planId = document.getElementById("plan-page").dataset.plan;
const facts = document.getElementById("plan-facts");
const statusLine = document.getElementById("plan-status");
const errorBox = document.getElementById("plan-error");
const buttons = document.getElementById("action-buttons");
const comment = document.getElementById("action-comment");
const resubmitField = document.getElementById("resubmit-file-field");
const resubmitFile = document.getElementById("resubmit-file");
const findingsList = document.getElementById("findings");
const versionsList = document.getElementById("versions");
const diffBox = document.getElementById("diff");
const historyList = document.getElementById("history");
const mapContainer = document.getElementById("plan-map");

// The statuses in which this user may store the plan's suggested corrections as a new version (POST fix/):
// none unless the user acts for the plan's surveying office (the view asks the API's own rule).
const fixStatuses = pageData("plan-permissions").fix_statuses || [];

let map = null;
let plan = null;
let shownDiff = null;

// ---- the plan's facts and moves ---------------------------------------------------------------

function renderFacts() {
  const sla = slaText(plan.sla, plan.status);
  const rows = [
    [strings.status_label, el("span", { class: `status status-${plan.status}`, "data-testid": "plan-status",
      text: statusLabel(plan.status) })],
    [strings.sla_label, el("span", { class: sla.cls, text: sla.text })],
    [strings.municipality_label, el("bdi", { text: plan.municipality })],
    [strings.office_label, el("bdi", { text: plan.office || "–" })],
    [strings.version_label, number(plan.version)],
    [strings.parents_label, el("bdi", { text: plan.parents.join(", ") })],
    [strings.assigned_to, plan.assigned_to ? el("bdi", { text: plan.assigned_to }) : strings.nobody],
  ];
  if (plan.plan_number) rows.push([strings.plan_number, el("bdi", { "data-testid": "plan-number", text: plan.plan_number })]);
  facts.replaceChildren(...rows.flatMap(([term, value]) => [el("dt", { text: term }), el("dd", {}, value)]));
  facts.removeAttribute("aria-busy");
}

/** Return whether the plan's report has a finding with a suggested correction the user may apply now. */
function canFix() {
  return fixStatuses.includes(plan.status) && (plan.report.findings || []).some((f) => f.correction);
}

function renderActions() {
  const actions = [...(plan.actions || []), ...(canFix() ? ["fix"] : [])];
  resubmitField.hidden = !actions.includes("resubmit");
  buttons.replaceChildren(...actions.map((action) => el("button", {
    type: "button", class: `button ${["approve", "submit", "resubmit", "fix"].includes(action) ? "primary" : ""}
      ${["reject", "withdraw"].includes(action) ? "danger" : ""}`.replace(/\s+/g, " ").trim(),
    "data-action": action, text: (strings.action || {})[action] || action, onclick: () => act(action),
  })));
  document.getElementById("actions").hidden = !actions.length;
}

async function act(action) {
  showError(errorBox, "");
  const text = comment.value.trim();
  if (["return", "reject"].includes(action) && !text) {
    showError(errorBox, strings.comment_required);
    comment.focus();
    return;
  }
  if (action === "resubmit" && !resubmitFile.files.length) {
    showError(errorBox, strings.file_required);
    resubmitFile.focus();
    return;
  }
  buttons.querySelectorAll("button").forEach((b) => { b.disabled = true; });
  statusLine.textContent = strings.loading;
  try {
    if (action === "resubmit") {
      const form = new FormData();
      form.append("file", resubmitFile.files[0], resubmitFile.files[0].name);
      if (text) form.append("comment", text);
      plan = await api(`/api/plans/${planId}/resubmit/`, { method: "POST", form });
      resubmitFile.value = "";
    } else {
      plan = await api(`/api/plans/${planId}/${action}/`, { method: "POST", json: text ? { comment: text } : {} });
    }
    comment.value = "";
    statusLine.textContent = action === "fix" ? fmt(strings.fixed, { n: plan.version })
      : fmt(strings.done, { status: statusLabel(plan.status) });
    await showPlan({ refreshParcels: action === "approve" });
  } catch (error) {
    statusLine.textContent = "";
    showError(errorBox, error.message);
    if (error.body && error.body.report) renderReport(error.body.report);
    renderActions();
  }
}

// ---- findings, features, versions, history ----------------------------------------------------

function renderReport(report) {
  const findings = report.findings || [];
  if (findings.length) {
    renderFindings(findingsList, findings, (finding) => map && highlight(map, finding));
  } else {
    findingsList.replaceChildren(el("li", { class: "hint", text: strings.no_findings }));
  }
  if (map) {
    map.getSource("findings").setData(collection(findingFeatures(findings)));
    highlight(map, null);
  }
}

async function drawFeatures(fit) {
  const page = await api(`/api/plans/${planId}/features/?page_size=5000`);
  const severity = new Map((plan.report.findings || []).map((f) => [f.code, f.severity]));
  for (const feature of page.features) {
    const codes = feature.properties.findings || [];
    const worst = codes.some((c) => severity.get(c) === "error") ? "error"
      : codes.some((c) => severity.get(c) === "warning") ? "warning" : null;
    const kind = feature.properties.kind;
    feature.properties._state = worst || (kind === "lot" ? "ok" : kind);
  }
  // An approved plan's lots are parcels now: show them through the parcels layer, outlined only.
  map.setLayoutProperty("plan-fill", "visibility", plan.status === "approved" ? "none" : "visible");
  map.getSource("plan").setData(page);
  if (fit) zoomTo(map, page, { maxZoom: 18 });
}

async function renderVersions() {
  const versions = await api(`/api/plans/${planId}/versions/`);
  versionsList.replaceChildren(...versions.map((version) => {
    const item = el("li", {},
      el("strong", { text: fmt(strings.version_n, { n: version.number }) }), " · ",
      el("bdi", { text: version.source.name }), " · ", dateTime(version.created_at), " · ",
      fmt(strings.by, { user: version.uploaded_by }), " · ",
      version.valid ? strings.valid : strings.invalid, " · ",
      fmt(strings.findings_count, { n: number(version.findings_total) }));
    if (version.number > 1) {
      const button = el("button", { type: "button", class: "link-button", "data-diff": version.number,
        "aria-expanded": "false", "aria-controls": "diff", text: fmt(strings.show_diff, { from: version.number - 1 }) });
      button.addEventListener("click", () => toggleDiff(version.number, button));
      item.append(" ", button);
    }
    return item;
  }));
}

function lotNames(items) {
  return items.length ? items.map((i) => (i.lot_no ? fmt(strings.lot_n, { n: i.lot_no }) : `${(strings.kind || {})[i.kind] || i.kind} #${i.index}`)).join(", ")
    : strings.none;
}

async function toggleDiff(number_, button) {
  versionsList.querySelectorAll("[data-diff]").forEach((b) => {
    b.setAttribute("aria-expanded", "false");
    b.textContent = fmt(strings.show_diff, { from: Number(b.dataset.diff) - 1 });
  });
  if (shownDiff === number_) {
    shownDiff = null;
    diffBox.hidden = true;
    map.getSource("diff").setData(collection([]));
    return;
  }
  showError(errorBox, "");
  try {
    const diff = await api(`/api/plans/${planId}/versions/${number_}/diff/`);
    shownDiff = number_;
    button.setAttribute("aria-expanded", "true");
    button.textContent = strings.hide_diff;
    const features = [
      ...diff.lots.reshaped.map((c) => ({ type: "Feature", geometry: c.changed_geometry, properties: { change: "changed", lot_no: c.lot_no } })),
      ...diff.other_features.changed.map((c) => ({ type: "Feature", geometry: c.changed_geometry, properties: { change: "changed", lot_no: "" } })),
      ...diff.lots.added.map((f) => ({ type: "Feature", geometry: f.geometry, properties: { change: "added", lot_no: f.lot_no } })),
      ...diff.lots.removed.map((f) => ({ type: "Feature", geometry: f.geometry, properties: { change: "removed", lot_no: f.lot_no } })),
    ].filter((f) => f.geometry);
    map.getSource("diff").setData(collection(features));
    if (features.length) zoomTo(map, collection(features), { maxZoom: 18 });
    const reshaped = diff.lots.reshaped.map((c) => `${c.lot_no ? fmt(strings.lot_n, { n: c.lot_no }) : c.kind}: ${fmt(strings.area_change, {
      before: number(c.area_before_m2, 2), after: number(c.area_after_m2, 2) })}`);
    const findingNames = (items) => (items.length ? items.map((f) => f.code).join(", ") : strings.none);
    diffBox.replaceChildren(
      el("h3", { text: fmt(strings.diff_title, { from: diff.from_version, to: diff.to_version }) }),
      el("dl", { class: "facts" },
        el("dt", { text: strings.added }), el("dd", { "data-testid": "diff-added", text: lotNames(diff.lots.added) }),
        el("dt", { text: strings.removed }), el("dd", { "data-testid": "diff-removed", text: lotNames(diff.lots.removed) }),
        el("dt", { text: strings.reshaped }), el("dd", { "data-testid": "diff-reshaped", text: reshaped.length ? reshaped.join("; ") : strings.none }),
        el("dt", { text: strings.other_changed }), el("dd", { text: number(diff.other_features.changed.length) }),
        el("dt", { text: strings.findings_resolved }), el("dd", { text: findingNames(diff.findings.resolved) }),
        el("dt", { text: strings.findings_new }), el("dd", { text: findingNames(diff.findings.new) })));
    diffBox.hidden = false;
  } catch (error) {
    showError(errorBox, error.message);
  }
}

async function renderHistory() {
  const events = await api(`/api/plans/${planId}/history/`);
  historyList.replaceChildren(...events.map((event) => el("li", { "data-action": event.action },
    el("time", { datetime: event.at, text: dateTime(event.at) }), " ",
    el("strong", { text: (strings.event || {})[event.action] || event.action }), " ",
    fmt(strings.by, { user: event.actor }), " · ",
    event.from_status ? `${statusLabel(event.from_status)} ${lang === "ar" ? "←" : "→"} ` : "", statusLabel(event.to_status), " · ",
    fmt(strings.version_n, { n: event.version }),
    event.comment ? el("blockquote", { class: "comment", text: event.comment }) : null)));
}

async function refreshParcels() {
  // The approval made new parcels: fetch fresh tiles rather than the 60-second browser copies.
  const tilejson = await api("/tiles/public.json");
  const stamp = Date.now();
  map.getSource("gisportal").setTiles(tilejson.tiles.map((url) => `${url}${url.includes("?") ? "&" : "?"}fresh=${stamp}`));
}

async function showPlan({ fit = false, refreshParcels: fresh = false } = {}) {
  renderFacts();
  renderActions();
  renderReport(plan.report);
  await Promise.all([renderVersions(), renderHistory(), map ? drawFeatures(fit) : null]);
  if (fresh && map) await refreshParcels();
}

async function start() {
  plan = await api(`/api/plans/${planId}/`);
  await showPlan();
  map = await createMap(mapContainer, {});
  map.addSource("plan", { type: "geojson", data: collection([]) });
  addPlanLayers(map, "plan");
  map.addSource("diff", { type: "geojson", data: collection([]) });
  const colour = ["match", ["get", "change"], "added", "#2e7d32", "removed", "#c62828", "#ef6c00"];
  map.addLayer({ id: "diff-fill", type: "fill", source: "diff", paint: { "fill-color": colour, "fill-opacity": 0.55 } });
  map.addLayer({ id: "diff-line", type: "line", source: "diff", filter: ["!=", ["get", "change"], "removed"],
    paint: { "line-color": colour, "line-width": 2.5 } });
  map.addLayer({ id: "diff-line-removed", type: "line", source: "diff", filter: ["==", ["get", "change"], "removed"],
    paint: { "line-color": colour, "line-width": 2.5, "line-dasharray": [2, 2] } });
  addFindingLayers(map);
  renderReport(plan.report);
  await drawFeatures(true);
  mapContainer.dataset.ready = "true";
}

start().catch((error) => showError(errorBox, error.message));
