// /dashboard: a municipality's plans against its approval target (GET /api/stats/plans/?municipality=),
// drawn as small inline SVG charts; each chart has a table beside it for screen readers.
import { api, dateTime, el, fmt, lang, number, showError, slaText, statusLabel, strings } from "./common.js";

const SVG = "http://www.w3.org/2000/svg";
const RTL = lang === "ar";
const OPEN_STATUSES = ["draft", "submitted", "under_review", "returned", "resubmitted"];
const select = document.getElementById("dashboard-municipality");
const statusLine = document.getElementById("dashboard-status");
const errorBox = document.getElementById("dashboard-error");
const board = document.getElementById("dashboard");

function svg(tag, attributes = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Return an SVG of horizontal bars ROWS ({label, value, cls}); MARK ({value, label}) draws a dashed line. */
function barChart(rows, { mark = null, unit = "" } = {}) {
  const width = 360;
  const labelW = 125;
  const barH = 26;
  const gap = 10;
  const top = mark ? 28 : 8;
  const height = top + rows.length * (barH + gap) + 4;
  const max = Math.max(1, ...rows.map((r) => r.value || 0), mark ? mark.value : 0) * 1.15;
  const plotW = width - labelW - 40;
  const x = (v) => (RTL ? width - labelW - (v / max) * plotW : labelW + (v / max) * plotW);
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "bar-chart", role: "presentation", focusable: "false" });
  rows.forEach((row, i) => {
    const y = top + i * (barH + gap);
    const value = row.value || 0;
    const x0 = x(0);
    const x1 = x(value);
    chart.append(svg("text", { x: RTL ? width - 4 : 4, y: y + barH * 0.68, class: "chart-label",
      "text-anchor": "start" }, row.label));
    chart.append(svg("rect", { x: Math.min(x0, x1), y, width: Math.max(Math.abs(x1 - x0), value ? 2 : 0),
      height: barH, rx: 3, class: `bar ${row.cls || ""}` }));
    const valueText = row.value === null || row.value === undefined ? "–" : `${number(row.value, 1)}${unit}`;
    chart.append(svg("text", { x: x1 + (RTL ? -6 : 6), y: y + barH * 0.68, class: "chart-value",
      "text-anchor": "start" }, valueText));
  });
  if (mark) {
    const mx = x(mark.value);
    chart.append(svg("line", { x1: mx, x2: mx, y1: top - 6, y2: height, class: "target-line" }));
    chart.append(svg("text", { x: mx, y: 16, class: "target-label", "text-anchor": "middle" }, mark.label));
  }
  return chart;
}

/** Return an SVG ring: the share decided within the target, the rest late. */
function shareChart(share) {
  const r = 60;
  const c = 2 * Math.PI * r;
  const chart = svg("svg", { viewBox: "0 0 340 160", class: "share-chart", role: "presentation", focusable: "false" });
  const cx = RTL ? 260 : 80;
  chart.append(svg("circle", { cx, cy: 80, r, class: "ring-late", fill: "none", "stroke-width": 24 }));
  if (share > 0) {
    chart.append(svg("circle", { cx, cy: 80, r, class: "ring-within", fill: "none", "stroke-width": 24,
      "stroke-dasharray": `${share * c} ${c}`, transform: `rotate(-90 ${cx} 80)` }));
  }
  chart.append(svg("text", { x: cx, y: 88, class: "ring-value", "text-anchor": "middle" }, `${number(share * 100)} %`));
  const lx = 170;
  [["ring-within", strings.within], ["ring-late", strings.late]].forEach(([cls, label], i) => {
    chart.append(svg("rect", { x: RTL ? lx - 14 : lx, y: 58 + i * 30, width: 14, height: 14, class: `${cls}-key` }));
    chart.append(svg("text", { x: RTL ? lx - 20 : lx + 20, y: 70 + i * 30, class: "chart-label",
      "text-anchor": "start" }, label));
  });
  return chart;
}

function fillTable(id, rows) {
  document.querySelector(`#${id} tbody`).replaceChildren(
    ...rows.map(([label, value]) => el("tr", {}, el("th", { scope: "row", text: label }), el("td", { text: value }))));
}

function render(stats) {
  const target = stats.target_days;
  const counting = (strings.counting || {})[stats.counting] || stats.counting;
  const headline = [
    [strings.target_label, `${number(target)} ${counting}`],
    [strings.plans_total, number(stats.plans_total)],
    [strings.open_label, number(stats.open)],
    [strings.overdue_label, number(stats.overdue)],
    [strings.decided_label, number(stats.decided)],
    [strings.late_label, number(stats.late)],
  ];
  document.getElementById("headline").replaceChildren(...headline.flatMap(([term, value]) => [
    el("div", { class: "headline-item" }, el("dt", { text: term }), el("dd", { text: value }))]));

  const days = document.getElementById("chart-days");
  const decided = stats.median_days_to_decision !== null;
  const cls = (v) => (v !== null && v > target ? "bar-late" : "bar-ok");
  days.replaceChildren(decided
    ? barChart([
      { label: strings.median, value: stats.median_days_to_decision, cls: cls(stats.median_days_to_decision) },
      { label: strings.p90, value: stats.p90_days_to_decision, cls: cls(stats.p90_days_to_decision) },
    ], { mark: { value: target, label: fmt(strings.target, { n: number(target) }) } })
    : el("p", { class: "hint", text: strings.no_decisions }));
  fillTable("table-days", [
    [strings.median, decided ? `${number(stats.median_days_to_decision, 1)} ${strings.days}` : strings.no_decisions],
    [strings.p90, decided ? `${number(stats.p90_days_to_decision, 1)} ${strings.days}` : strings.no_decisions],
    [strings.target_label, `${number(target)} ${counting}`],
  ]);

  const backlog = OPEN_STATUSES.map((status) => ({ label: statusLabel(status), value: stats.counts_by_status[status],
    cls: `bar-${status}` }));
  document.getElementById("chart-backlog").replaceChildren(barChart(backlog));
  fillTable("table-backlog", backlog.map((row) => [row.label, number(row.value)]));

  const share = stats.decided_within_target_share;
  document.getElementById("chart-share").replaceChildren(share === null
    ? el("p", { class: "hint", text: strings.no_decisions }) : shareChart(share));
  fillTable("table-share", share === null ? [[strings.within, strings.no_decisions]] : [
    [strings.within, `${number(share * 100, 1)} %`],
    [strings.late, `${number((1 - share) * 100, 1)} %`],
  ]);

  document.querySelector("#oldest tbody").replaceChildren(...(stats.oldest_open.length ? stats.oldest_open.map((plan) => {
    const sla = slaText({ ...plan, days_left: plan.days_left }, plan.status);
    return el("tr", {},
      el("td", {}, el("a", { href: `/plans/${plan.id}` }, `#${plan.id} `, plan.title)),
      el("td", { text: statusLabel(plan.status) }),
      el("td", { text: dateTime(plan.submitted_at) }),
      el("td", { text: number(plan.days_used) }),
      el("td", { class: sla.cls }, sla.cls === "sla-overdue" ? el("strong", { text: sla.text }) : sla.text));
  }) : [el("tr", {}, el("td", { colspan: 5, class: "hint", text: strings.no_open }))]));
  board.hidden = false;
}

async function load() {
  showError(errorBox, "");
  statusLine.textContent = strings.loading;
  try {
    const stats = await api(`/api/stats/plans/?municipality=${encodeURIComponent(select.value)}`);
    render(stats);
    statusLine.textContent = fmt(strings.as_of, { when: dateTime(stats.as_of) });
  } catch (error) {
    statusLine.textContent = "";
    board.hidden = true;
    showError(errorBox, error.message);
  }
}

if (select) {
  select.addEventListener("change", () => {
    const url = new URL(window.location.href);
    url.searchParams.set("municipality", select.value);
    window.history.replaceState(null, "", url);
    load();
  });
  load();
}
