// The devices and operators of a weekend service. Offered: those assigned now and those free that
// day (the planner's answer for the event's date, which the API limits to what the caller may
// book). A refusal (409: already at another place that day) is shown in words, per device or
// operator, by name.

import { ApiError, api } from "../../api.js";
import { fmt, t } from "../../i18n.js";
import { busy, clearErrors, showSuccess } from "../../lib/forms.js";
import { html, render as paint } from "../../lib/html.js";

export function crewSection() {
  return html`<section aria-labelledby="crew-title" data-section="crew" hidden>
    <h2 id="crew-title">${t("points.crewTitle")}</h2>
    <p data-slot="crew-of"></p>
    <form class="form wide" data-form="crew" novalidate>
      <div data-slot="crew-choices"></div>
      <div data-form-status tabindex="-1"></div>
      <p><button type="submit" class="button primary">${t("points.saveCrew")}</button></p>
    </form>
  </section>`;
}

function boxes(kind, items, ticked, label) {
  return html`<ul class="choice-list">${items.map(
    (item) => html`<li><label class="check"><input type="checkbox" name="${kind}" value="${item.id}" ${ticked.has(item.id) ? html`checked` : ""}> ${label(item)}</label></li>`,
  )}</ul>`;
}

// Those ticked and those posted today in the service's kecamatan first; the rest of the city's
// free crew behind a "more" disclosure, so that a supervisor does not scroll through 65 petugas.
function choices(kind, items, ticked, label, near) {
  const first = items.filter((item) => ticked.has(item.id) || near(item));
  const rest = items.filter((item) => !first.includes(item));
  return html`<fieldset data-choices="${kind}">
    <legend>${t(`points.crew.${kind}`)}</legend>
    ${items.length ? "" : html`<p>${t("points.crewNone")}</p>`}
    ${boxes(kind, first, ticked, label)}
    ${rest.length ? html`<details><summary>${t("points.crewMore", { count: fmt.number(rest.length) })}</summary>${boxes(kind, rest, ticked, label)}</details>` : ""}
  </fieldset>`;
}

/** Load and show the crew choices of a weekend service. `pick` pre-ticks ids (from the planner). */
export async function showCrew(root, { point, scope, devices, operators, signal, pick = null }) {
  const section = root.querySelector("[data-section=crew]");
  section.hidden = false;
  section.dataset.point = point.id;
  paint(root.querySelector("[data-slot=crew-of]"), t("points.crewOf", { name: point.name, date: fmt.date(point.event_date), from: point.event_start, to: point.event_end }));
  const form = root.querySelector("[data-form=crew]");
  clearErrors(form);
  const assigned = await api.get(`/service-points/${point.id}/assignments`, { signal });
  // Free that day: the planner's list for the date (a past date has none to offer).
  const free = await api.get("/weekend-events/plan", { params: { date: point.event_date, area: scope, limit: 1 }, signal }).catch((error) => {
    if (error instanceof ApiError && error.status === 422) return { free_devices: [], free_operators: [] };
    throw error;
  });
  const deviceIds = new Set([...assigned.device_ids, ...free.free_devices.map((d) => d.id)]);
  const operatorIds = new Set([...assigned.operator_ids, ...free.free_operators.map((o) => o.id)]);
  const deviceItems = [...deviceIds].map((id) => devices.get(id) ?? free.free_devices.find((d) => d.id === id) ?? { id, serial: `#${id}` });
  const operatorItems = [...operatorIds].map((id) => operators.get(id) ?? free.free_operators.find((o) => o.id === id) ?? { id, name: `#${id}` });
  const tick = (ids, picked) => new Set(picked ?? ids);
  const kecamatan = point.area.split(".").slice(0, 3).join(".");
  const near = (posting) => Boolean(posting?.area && (posting.area === kecamatan || posting.area.startsWith(`${kecamatan}.`)));
  paint(
    root.querySelector("[data-slot=crew-choices]"),
    html`${choices("device_ids", deviceItems, tick(assigned.device_ids, pick?.devices), (d) => `${d.serial}${d.kind ? ` · ${t(`device.kind.${d.kind}`)}` : ""}`, (d) => near(d.placed))}
      ${choices("operator_ids", operatorItems, tick(assigned.operator_ids, pick?.operators), (o) => `${o.name}${o.staff_number ? ` (${o.staff_number})` : ""}`, (o) => near(o.assigned))}`,
  );
}

/** A refusal's field errors ("device_ids.1": "...") as sentences naming the device or operator. */
function refusals(error, body, devices, operators) {
  return Object.entries(error.fields ?? {}).map(([fieldName, message]) => {
    const [kind, index] = fieldName.split(".");
    const id = body[kind]?.[Number(index)];
    const who = kind === "device_ids" ? t("points.crewDevice", { name: devices.get(id)?.serial ?? `#${id}` }) : t("points.crewOperator", { name: operators.get(id)?.name ?? `#${id}` });
    return html`<li data-refused="${kind}:${id}">${who}: ${message}</li>`;
  });
}

export function wireCrew(root, { devices, operators, signal, saved }) {
  const section = root.querySelector("[data-section=crew]");
  const form = root.querySelector("[data-form=crew]");
  form.addEventListener(
    "submit",
    async (event) => {
      event.preventDefault();
      clearErrors(form);
      const ids = (name) => [...form.querySelectorAll(`[name=${name}]:checked`)].map((box) => Number(box.value));
      const body = { device_ids: ids("device_ids"), operator_ids: ids("operator_ids") };
      try {
        const answer = await busy(form, () => api.put(`/service-points/${section.dataset.point}/assignments`, { json: body, signal }));
        showSuccess(form, t("points.crewSaved", { devices: fmt.number(answer.device_ids.length), operators: fmt.number(answer.operator_ids.length) }));
        saved?.(answer);
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        const status = form.querySelector("[data-form-status]");
        paint(
          status,
          html`<div class="notice notice-error" role="alert"><p><strong>${error.message}</strong></p>${error.detail ? html`<p>${error.detail}</p>` : ""}
            <ul>${refusals(error, body, devices, operators)}</ul></div>`,
        );
        status.focus();
      }
    },
    { signal },
  );
}
