// What the plans pages and the dashboard share: the page's words, API calls with the session's CSRF
// token, number and date formats in the page's language, and a MapLibre map on the platform's style.

export const lang = document.documentElement.lang && document.documentElement.lang.startsWith("ar") ? "ar" : "en";
export const locale = lang === "ar" ? "ar-SA-u-nu-latn" : "en-GB";

/** Return the JSON of the <script type="application/json" id=ID> block the page carries (CSP: not executed). */
export function pageData(id) {
  const node = document.getElementById(id);
  return node ? JSON.parse(node.textContent) : {};
}

export const strings = pageData("plans-strings");

/** Return TEMPLATE with each %(name)s replaced by VALUES[name]. */
export function fmt(template, values) {
  return String(template).replace(/%\((\w+)\)s/g, (_, key) => (key in values ? String(values[key]) : ""));
}

export function number(value, digits = 0) {
  if (value === null || value === undefined || Number.isNaN(Number(value))) return "–";
  return Number(value).toLocaleString(locale, { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

export function dateTime(iso) {
  if (!iso) return "–";
  return new Date(iso).toLocaleString(locale, { dateStyle: "medium", timeStyle: "short" });
}

export function statusLabel(status) {
  return (strings.status && strings.status[status]) || status;
}

/** Return the text and CSS class of a plan's SLA clock: days left, overdue (with words, not colour only). */
export function slaText(sla, status) {
  if (!sla) return { text: "–", cls: "" };
  if (["approved", "rejected", "withdrawn"].includes(status)) {
    return { text: `${strings.decided}`, cls: "sla-decided" };
  }
  const left = sla.days_left;
  let text;
  if (left < 0) text = left === -1 ? strings.overdue_by_one : fmt(strings.overdue_by, { n: number(-left) });
  else if (left === 0) text = strings.due_today;
  else text = left === 1 ? strings.day_left : fmt(strings.days_left, { n: number(left) });
  if (!sla.running) text += ` (${sla.days_used > 0 || status === "returned" ? strings.paused : strings.not_started})`;
  return { text, cls: sla.overdue || left < 0 ? "sla-overdue" : left <= 5 ? "sla-close" : "sla-ok" };
}

function csrfToken() {
  const input = document.querySelector("input[name=csrfmiddlewaretoken]");
  if (input) return input.value;
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

/** An API answer that is not 2xx: its status, code and detail (the API's {code, detail}). */
export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.detail) || `HTTP ${status}`);
    this.status = status;
    this.code = body && body.code;
    this.body = body || {};
  }
}

/** Call the JSON API with the session cookie (and the CSRF token on writes); return the JSON answer. */
export async function api(path, { method = "GET", json, form, signal } = {}) {
  const headers = { Accept: "application/json" };
  let body;
  if (method !== "GET") headers["X-CSRFToken"] = csrfToken();
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    body = form;
  }
  let response;
  try {
    response = await fetch(path, { method, headers, body, signal, credentials: "same-origin" });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, { detail: strings.network_error });
  }
  let data = null;
  const type = response.headers.get("Content-Type") || "";
  if (type.includes("json")) data = await response.json();
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

/** Show MESSAGE in the page's alert region ELEMENT (empty: hide it). */
export function showError(element, message) {
  element.textContent = message || "";
  element.hidden = !message;
}

export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// ---- geometry --------------------------------------------------------------------------------

/** Return [minLon, minLat, maxLon, maxLat] of a GeoJSON geometry, feature or collection, or null. */
export function bbox(geojson) {
  const box = [Infinity, Infinity, -Infinity, -Infinity];
  const visit = (coords) => {
    if (typeof coords[0] === "number") {
      box[0] = Math.min(box[0], coords[0]); box[1] = Math.min(box[1], coords[1]);
      box[2] = Math.max(box[2], coords[0]); box[3] = Math.max(box[3], coords[1]);
    } else coords.forEach(visit);
  };
  const walk = (g) => {
    if (!g) return;
    if (g.type === "FeatureCollection") g.features.forEach(walk);
    else if (g.type === "Feature") walk(g.geometry);
    else if (g.type === "GeometryCollection") g.geometries.forEach(walk);
    else if (g.coordinates) visit(g.coordinates);
  };
  walk(geojson);
  return box[0] === Infinity ? null : box;
}

export function collection(features) {
  return { type: "FeatureCollection", features };
}
