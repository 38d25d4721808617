// /plans/: the plans the user may see (GET /api/plans/ with the page's own filters), a page at a time.
import { api, el, fmt, number, showError, slaText, statusLabel, strings } from "./common.js";

const PAGE_SIZE = 20;
const body = document.querySelector("#queue tbody");
const statusLine = document.getElementById("queue-status");
const errorBox = document.getElementById("queue-error");
const pager = document.getElementById("pager");

function pageLink(link, page) {
  const params = new URLSearchParams(window.location.search);
  params.set("page", page);
  link.href = `?${params}`;
}

async function load() {
  const own = new URLSearchParams(window.location.search);
  const query = new URLSearchParams({ page_size: PAGE_SIZE });
  for (const name of ["status", "municipality", "overdue", "page"]) {
    if (own.get(name)) query.set(name, own.get(name));
  }
  const page = Math.max(1, parseInt(own.get("page") || "1", 10) || 1);
  statusLine.textContent = strings.loading;
  document.getElementById("queue").setAttribute("aria-busy", "true");
  try {
    const answer = await api(`/api/plans/?${query}`);
    body.replaceChildren(...answer.results.map(row));
    if (!answer.results.length) body.append(el("tr", {}, el("td", { colspan: 7, class: "hint", text: strings.empty })));
    const pages = Math.max(1, Math.ceil(answer.count / PAGE_SIZE));
    const text = fmt(strings.page_of, { page: number(page), pages: number(pages), count: number(answer.count) });
    document.getElementById("pager-text").textContent = text;
    statusLine.textContent = text;
    pager.hidden = pages <= 1;
    const previous = document.getElementById("pager-previous");
    const next = document.getElementById("pager-next");
    previous.hidden = !answer.previous;
    next.hidden = !answer.next;
    pageLink(previous, page - 1);
    pageLink(next, page + 1);
  } catch (error) {
    statusLine.textContent = "";
    showError(errorBox, error.message);
  } finally {
    document.getElementById("queue").removeAttribute("aria-busy");
  }
}

function row(plan) {
  const sla = slaText(plan.sla, plan.status);
  const findings = plan.findings_total ? fmt(strings.findings_count, { n: number(plan.findings_total) }) : "0";
  return el("tr", { "data-plan": plan.id, class: plan.sla && plan.sla.overdue ? "overdue" : "" },
    el("td", {}, el("a", { href: `/plans/${plan.id}` }, `#${plan.id} `, plan.title),
      plan.plan_number ? el("div", { class: "hint" }, el("bdi", { text: plan.plan_number })) : null),
    el("td", {}, el("span", { class: `status status-${plan.status}`, text: statusLabel(plan.status) })),
    el("td", {}, el("bdi", { text: plan.municipality })),
    el("td", {}, el("bdi", { text: plan.office || "–" })),
    el("td", { text: number(plan.version) }),
    el("td", { class: sla.cls }, sla.cls === "sla-overdue" ? el("strong", { text: sla.text }) : sla.text),
    el("td", { text: findings }));
}

load();
