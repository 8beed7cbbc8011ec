// The weekend-service planner: for a coming Saturday or Sunday, the RW/RT of the caller's area
// ranked by expected yield (the API's rule, api/services/planner.py, shown in words), and the
// devices and operators free that day. "Plan here" fills the point form with a weekend service
// there, and the free crew is ticked once it is saved.

import { ApiError, api } from "../../api.js";
import { addDays, fmt, t } from "../../i18n.js";
import { busy, clearErrors, showErrors } from "../../lib/forms.js";
import { html, render as paint } from "../../lib/html.js";
import { field } from "../../lib/staffkit.js";

/** The next Saturday after `today` (a Saturday today counts: planning starts from the next one). */
export function nextSaturday(today) {
  const weekday = new Date(`${today}T00:00:00Z`).getUTCDay(); // 0 = Sunday
  return addDays(today, ((6 - weekday + 7) % 7) || 7);
}

export function plannerSection(today) {
  return html`<section aria-labelledby="planner-title">
    <h2 id="planner-title">${t("points.plannerTitle")}</h2>
    <p>${t("points.plannerLede")}</p>
    <form class="form inline-form" data-form="planner" novalidate>
      ${field("planner-date", "date", t("points.weekendDay"), html`<input id="planner-date" name="date" type="date" min="${today}" value="${nextSaturday(today)}" required aria-describedby="planner-date-error">`)}
      ${field("planner-level", "level", t("points.level"), html`<select id="planner-level" name="level"><option value="rw">RW</option><option value="rt">RT</option></select>`)}
      <div data-form-status tabindex="-1"></div>
      <p><button type="submit" class="button">${t("points.rank")}</button></p>
    </form>
    <div data-slot="planner" aria-live="polite"></div>
  </section>`;
}

function planTable(plan) {
  if (!plan.items.length) return html`<p data-plan="none">${t("points.plannerNone")}</p>`;
  return html`<p class="hint" data-rule>${t("points.rule")}</p>
    <div class="table-wrap" role="region" aria-labelledby="planner-caption" tabindex="0">
      <table class="table" data-table="planner">
        <caption id="planner-caption">${t("points.plannerCaption", { date: fmt.date(plan.date) })}</caption>
        <thead><tr>
          <th scope="col">${t("points.place")}</th>
          <th scope="col" class="num">${t("points.expected")}</th>
          <th scope="col" class="num wide-only">${t("points.stillToRecord")}</th>
          <th scope="col" class="wide-only">${t("points.lastNearby")}</th>
          <th scope="col">${t("dispatch.action")}</th>
        </tr></thead>
        <tbody>${plan.items.map(
          (u, i) => html`<tr data-unit="${u.code}">
            <th scope="row">${i + 1}. ${u.name} · ${u.kelurahan_name}<br><span class="code">${u.code} · ${t("points.population", { count: fmt.number(u.population) })}</span></th>
            <td class="num" data-col="yield">${fmt.number(u.expected_yield)}</td>
            <td class="num wide-only">${fmt.number(u.still_to_record)}</td>
            <td class="wide-only">${u.last_service_nearby ? fmt.shortDate(u.last_service_nearby) : t("points.never")}</td>
            <td><button type="button" class="button small" data-action="plan-here" data-code="${u.code}">${t("points.planHere")}</button></td>
          </tr>`,
        )}</tbody>
      </table>
    </div>
    <details data-free>
      <summary>${t("points.free", { devices: fmt.number(plan.free_devices.length), operators: fmt.number(plan.free_operators.length) })}</summary>
      <p>${plan.free_devices.map((d) => d.serial).join(", ") || "—"}</p>
      <p>${plan.free_operators.map((o) => o.name).join(", ") || "—"}</p>
    </details>`;
}

/** Wire the planner; `planHere(unit, plan)` opens the point form filled in for that RW/RT. */
export function wirePlanner(root, { scope, signal, planHere }) {
  const form = root.querySelector("[data-form=planner]");
  const slot = root.querySelector("[data-slot=planner]");
  let plan = null;
  form.addEventListener(
    "submit",
    async (event) => {
      event.preventDefault();
      clearErrors(form);
      try {
        plan = await busy(form, () => api.get("/weekend-events/plan", { params: { date: form.elements.date.value, level: form.elements.level.value, area: scope }, signal }));
        paint(slot, planTable(plan));
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        showErrors(form, error);
      }
    },
    { signal },
  );
  slot.addEventListener(
    "click",
    (event) => {
      const button = event.target.closest("[data-action=plan-here]");
      if (button && plan) planHere(plan.items.find((u) => u.code === button.dataset.code), plan);
    },
    { signal },
  );
}
