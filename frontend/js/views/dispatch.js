// Home-visit dispatch (supervisor/admin): open requests by urgency (set at intake from the reason)
// and waiting time, personal fields masked; scheduling onto a mobile kit, an operator (the kit's
// crew offered first), a date and a time window, straight from a new request (the API sets the
// priority triage would); and a kit's day plan to print for the crew: their names, the stops in
// route order with map links, and a box to tick at each door.

import { ApiError, api } from "../api.js";
import { currentCampaign } from "../campaigns.js";
import { on } from "../lib/dom.js";
import { busy, clearErrors, showErrors, showSuccess } from "../lib/forms.js";
import { html, render as paint } from "../lib/html.js";
import { allPages, areasIn, field, slotError } from "../lib/staffkit.js";
import { addDays, fmt, t, todayInJakarta } from "../i18n.js";
import { session } from "../store.js";

const PRIORITY_ORDER = { urgent: 0, high: 1, normal: 2, low: 3 };
const STATUSES = ["submitted", "triaged", "scheduled", "visited", "unreachable", "cancelled"];
const OPEN = new Set(["submitted", "triaged", "scheduled"]);

const kelurahanOf = (code) => code.split(".").slice(0, 4).join(".");

function byPriority(a, b) {
  return (
    (PRIORITY_ORDER[a.priority] ?? 9) - (PRIORITY_ORDER[b.priority] ?? 9) ||
    (b.waiting_days ?? -1) - (a.waiting_days ?? -1) ||
    a.id - b.id
  );
}

function requestsTable(items, names, kits) {
  if (!items.length) return html`<p data-requests="none">${t("dispatch.none")}</p>`;
  return html`<div class="table-wrap" role="region" aria-labelledby="requests-caption" tabindex="0">
    <table class="table" data-table="requests">
      <caption id="requests-caption">${t("dispatch.caption")}</caption>
      <thead><tr>
        <th scope="col">${t("dispatch.request")}</th>
        <th scope="col">${t("dispatch.status")}</th>
        <th scope="col" class="num wide-only">${t("dispatch.waiting")}</th><th scope="col" class="wide-only">${t("dispatch.visit")}</th>
        <th scope="col">${t("dispatch.action")}</th>
      </tr></thead>
      <tbody>${items.map(
        (v) => html`<tr data-visit="${v.id}" data-status="${v.status}">
          <th scope="row"><span data-name>${names.get(kelurahanOf(v.area)) ?? v.area}</span>
            ${v.priority ? html`<span class="badge prio-${v.priority}">${t(`visitPriority.${v.priority}`)}</span>` : ""}${v.overdue ? html` <span class="badge badge-behind">${t("dispatch.overdue")}</span>` : ""}<br><span class="code">#${v.id} · ${t(`visitReason.${v.reason}`)}<span class="wide-only"> · ${v.phone_masked}</span></span></th>
          <td>${t(`visitStatus.${v.status}`)}</td>
          <td class="num wide-only">${v.waiting_days === null ? "—" : fmt.number(v.waiting_days)}</td>
          <td class="wide-only">${v.visit_date ? html`${fmt.shortDate(v.visit_date)} ${fmt.timeRange(v.window_start, v.window_end)}<br><span class="code">${kits.get(v.device_id)?.serial ?? ""}</span>` : "—"}</td>
          <td class="actions">
            ${OPEN.has(v.status) ? html`<button type="button" class="button small" data-action="schedule" data-id="${v.id}">${t(v.status === "scheduled" ? "dispatch.reschedule" : "dispatch.schedule")}</button>` : ""}
          </td>
        </tr>`,
      )}</tbody>
    </table>
  </div>`;
}

/** A map search for a stop's address (the day plan has addresses, not coordinates). */
function mapLink(stop) {
  const query = encodeURIComponent(`${stop.address}, ${stop.kelurahan_name}, Tangerang Selatan`);
  return `https://www.openstreetmap.org/search?query=${query}`;
}

function dayPlan(plan, operators) {
  const crew = [...new Set(plan.stops.map((s) => s.operator_id))].map((id) => operators.get(id)?.name ?? `#${id}`);
  return html`<article class="day-plan" data-plan="${plan.device_id}">
    <h3>${t("dispatch.planOf", { serial: plan.serial, date: fmt.date(plan.date) })}</h3>
    <p data-crew>${t("dispatch.crew")}: ${crew.length ? crew.join(", ") : "—"}</p>
    <p>${t("dispatch.booked", { booked: fmt.number(plan.booked), capacity: fmt.number(plan.daily_capacity) })}</p>
    ${
      plan.stops.length
        ? html`<ol class="stops">${plan.stops.map(
            (s) => html`<li data-stop="${s.id}">
              <p class="stop-time"><span class="tick" aria-hidden="true"></span>${fmt.timeRange(s.window_start, s.window_end)} · ${s.kelurahan_name}${s.rw ? ` · RW ${s.rw}` : ""}${s.rt ? ` · RT ${s.rt}` : ""}</p>
              <p class="stop-name">${s.name}${plan.stops.some((o) => o.operator_id !== s.operator_id) ? html` <span class="hint">(${operators.get(s.operator_id)?.name ?? `#${s.operator_id}`})</span>` : ""}</p>
              <p>${s.address} · <a href="${mapLink(s)}" rel="noopener" target="_blank" data-map>${t("dispatch.map")}</a></p>
              <p>${t("dispatch.phone")}: <a href="tel:${s.phone}">${s.phone}</a> · NIK ${s.nik_masked} · ${t(`visitReason.${s.reason}`)}</p>
              ${s.note ? html`<p class="hint">${s.note}</p>` : ""}
              <p class="print-only">${t("dispatch.tickVisited")} ☐ · ${t("dispatch.tickAway")} ☐</p>
            </li>`,
          )}</ol>`
        : html`<p>${t("dispatch.planEmpty")}</p>`
    }
  </article>`;
}

/** The operator choices for a kit: its crew (posted where the kit is today) first, then the others. */
function operatorOptions(operators, kit, names) {
  const crewArea = kit?.placed?.area;
  const isCrew = (o) => Boolean(crewArea && o.assigned?.area && (o.assigned.area === crewArea || o.assigned.area.startsWith(`${crewArea}.`)));
  const option = (o) => html`<option value="${o.id}">${o.name}${o.assigned?.area ? ` (${names.get(o.assigned.area) ?? o.assigned.area})` : ""}</option>`;
  const crew = operators.filter(isCrew);
  const others = operators.filter((o) => !isCrew(o));
  return html`${crew.length ? html`<optgroup label="${t("dispatch.kitCrew")}" data-crew-options>${crew.map(option)}</optgroup>` : ""}
    <optgroup label="${t("dispatch.otherOperators")}">${others.map(option)}</optgroup>`;
}

export async function render(root, { signal }) {
  const me = session.state.me;
  const campaign = await currentCampaign();
  const scope = me.area ?? campaign?.root_area ?? undefined;
  const [areas, kitList, operators] = await Promise.all([
    scope ? areasIn(scope, signal) : [],
    allPages("/devices", { params: { kind: "mobile", area: scope }, signal, maxPages: 5 }),
    allPages("/operators", { params: { area: scope, status: "active" }, signal, maxPages: 10 }),
  ]);
  const names = new Map(areas.map((a) => [a.code, a.name]));
  const kelurahan = areas.filter((a) => a.level === "kelurahan");
  const kits = new Map(kitList.map((k) => [k.id, k]));
  const operatorNames = new Map(operators.map((o) => [o.id, o]));
  const today = todayInJakarta();
  const tomorrow = addDays(today, 1);

  paint(
    root,
    html`<h1>${t("dispatch.title")}</h1>
      <p class="lede no-print">${t("dispatch.lede")}</p>
      <section class="no-print" aria-labelledby="requests-title">
        <h2 id="requests-title">${t("dispatch.requests")}</h2>
        <form class="form inline-form" data-form="filter" novalidate>
          ${field("filter-status", "status", t("dispatch.status"), html`<select id="filter-status" name="status">
            <option value="open">${t("dispatch.open")}</option>
            ${STATUSES.map((s) => html`<option value="${s}">${t(`visitStatus.${s}`)}</option>`)}
            <option value="">${t("dispatch.all")}</option>
          </select>`)}
          ${field("filter-area", "area", t("level.kelurahan.one"), html`<select id="filter-area" name="area">
            <option value="">${t("dispatch.allAreas")}</option>
            ${kelurahan.map((a) => html`<option value="${a.code}">${a.name}</option>`)}
          </select>`)}
          <p><button type="submit" class="button">${t("tallies.show")}</button></p>
        </form>
        <div data-slot="requests" aria-live="polite"></div>
      </section>

      <section class="no-print" aria-labelledby="schedule-title">
        <h2 id="schedule-title">${t("dispatch.scheduleTitle")}</h2>
        <p data-slot="chosen">${t("dispatch.choose")}</p>
        <form class="form" data-form="schedule" novalidate hidden>
          <input type="hidden" name="id">
          ${field("schedule-device", "device", t("dispatch.kit"), html`<select id="schedule-device" name="device" aria-describedby="schedule-device-error">
            ${kitList.map((k) => html`<option value="${k.id}">${k.serial}${k.placed?.area ? ` (${names.get(k.placed.area) ?? k.placed.area})` : ""}</option>`)}
          </select>`)}
          ${field("schedule-operator", "operator", t("dispatch.operator"), html`<select id="schedule-operator" name="operator" aria-describedby="schedule-operator-hint schedule-operator-error">
            ${operatorOptions(operators, kitList[0], names)}
          </select>`, t("dispatch.operatorHint"))}
          ${field("schedule-date", "date", t("tallies.date"), html`<input id="schedule-date" name="date" type="date" min="${today}" value="${tomorrow}" required aria-describedby="schedule-date-error">`)}
          <div class="field-pair">
            ${field("schedule-start", "start", t("dispatch.from"), html`<input id="schedule-start" name="start" type="time" value="09:00" required aria-describedby="schedule-start-error">`)}
            ${field("schedule-end", "end", t("dispatch.to"), html`<input id="schedule-end" name="end" type="time" value="10:00" required aria-describedby="schedule-end-error">`)}
          </div>
          ${field("schedule-note", "note", t("dispatch.note"), html`<input id="schedule-note" name="note" maxlength="2000" aria-describedby="schedule-note-error">`)}
          <div data-form-status tabindex="-1"></div>
          <p><button type="submit" class="button primary">${t("dispatch.save")}</button></p>
        </form>
      </section>

      <section aria-labelledby="plan-title">
        <h2 id="plan-title" class="no-print">${t("dispatch.planTitle")}</h2>
        <form class="form inline-form no-print" data-form="plan" novalidate>
          ${field("plan-device", "device", t("dispatch.kit"), html`<select id="plan-device" name="device">
            ${kitList.map((k) => html`<option value="${k.id}">${k.serial}</option>`)}
          </select>`)}
          ${field("plan-date", "date", t("tallies.date"), html`<input id="plan-date" name="date" type="date" value="${tomorrow}" required>`)}
          <div data-form-status tabindex="-1"></div>
          <p><button type="submit" class="button">${t("dispatch.showPlan")}</button></p>
        </form>
        <div data-slot="plan"></div>
      </section>`,
  );

  const requestsSlot = root.querySelector("[data-slot=requests]");
  const filter = root.querySelector("[data-form=filter]");
  const loadRequests = async () => {
    const status = filter.elements.status.value;
    const area = filter.elements.area.value || scope;
    paint(requestsSlot, html`<p class="loading" role="status"><span class="spinner" aria-hidden="true"></span>${t("common.loading")}</p>`);
    try {
      let items = await allPages("/home-visits", { params: { area, status: status === "open" ? undefined : status }, signal, maxPages: 10 });
      if (status === "open") items = items.filter((v) => OPEN.has(v.status));
      paint(requestsSlot, requestsTable(items.sort(byPriority), names, kits));
    } catch (error) {
      paint(requestsSlot, slotError(error));
    }
  };
  await loadRequests();
  filter.addEventListener("submit", (event) => (event.preventDefault(), loadRequests()), { signal });

  const form = root.querySelector("[data-form=schedule]");
  const chosen = root.querySelector("[data-slot=chosen]");
  on(
    root,
    "click",
    "[data-action=schedule]",
    (_, button) => {
      const row = button.closest("tr");
      clearErrors(form);
      form.hidden = false;
      form.elements.id.value = button.dataset.id;
      paint(chosen, html`${t("dispatch.chosen", { id: button.dataset.id, area: row.querySelector("[data-name]").textContent.trim() })}`);
      form.elements.device.focus();
    },
    { signal },
  );
  form.elements.device.addEventListener("change", () => paint(form.elements.operator, operatorOptions(operators, kits.get(Number(form.elements.device.value)), names)), { signal });
  form.addEventListener(
    "submit",
    async (event) => {
      event.preventDefault();
      clearErrors(form);
      const f = form.elements;
      const missing = {};
      for (const name of ["device", "operator", "date", "start", "end"]) if (!f[name].value) missing[name] = t("form.required");
      if (Object.keys(missing).length) return showErrors(form, { message: t("form.fix"), fields: missing });
      const data = {
        device_id: Number(f.device.value),
        operator_id: Number(f.operator.value),
        date: f.date.value,
        window: { start: f.start.value, end: f.end.value },
        note: f.note.value.trim() || null,
      };
      try {
        const done = await busy(form, () => api.post(`/home-visits/${f.id.value}/schedule`, { json: data, signal }));
        showSuccess(form, t("dispatch.scheduled", { id: f.id.value, date: fmt.date(done.visit_date), from: fmt.time(done.window_start), to: fmt.time(done.window_end) }));
        await loadRequests();
        const plan = root.querySelector("[data-form=plan]").elements;
        plan.device.value = String(data.device_id);
        plan.date.value = data.date;
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        showErrors(form, error, { fieldAlias: { "window.start": "start", "window.end": "end", window: "end" } });
      }
    },
    { signal },
  );

  const planForm = root.querySelector("[data-form=plan]");
  const planSlot = root.querySelector("[data-slot=plan]");
  planForm.addEventListener(
    "submit",
    async (event) => {
      event.preventDefault();
      clearErrors(planForm);
      try {
        const plan = await busy(planForm, () => api.get(`/mobile-kits/${planForm.elements.device.value}/day-plan`, { params: { date: planForm.elements.date.value }, signal }));
        paint(planSlot, html`${dayPlan(plan, operatorNames)}<p class="no-print"><button type="button" class="button" data-action="print">${t("dispatch.print")}</button></p>`);
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        paint(planSlot, slotError(error));
      }
    },
    { signal },
  );
  on(root, "click", "[data-action=print]", () => window.print(), { signal });
}
