// The allocation plan (admin, supervisor, viewer ask for one): what it would move, how each
// kecamatan's finish changes, and for the admin an apply button with a confirmation.

import { ApiError, api } from "../../api.js";
import { addDays, fmt, t } from "../../i18n.js";
import { on } from "../../lib/dom.js";
import { busy, clearErrors, showErrors } from "../../lib/forms.js";
import { html, render as paint } from "../../lib/html.js";
import { field, parseCount, slotError } from "../../lib/staffkit.js";
import { loading } from "../../lib/view.js";
import { describe } from "../../problems.js";
import { KINDS, placeCell } from "./places.js";

// API field names of a plan request → the inputs that show their messages.
const PLAN_FIELDS = {
  "extra_devices.0.count": "extra_count",
  "extra_devices.0.daily_capacity": "extra_capacity",
  "extra_devices.0.kind": "extra_kind",
};

export function planSection(today) {
  return html`<section aria-labelledby="plan-title">
      <h2 id="plan-title">${t("devices.planTitle")}</h2>
      <p>${t("devices.planHelp")}</p>
      <form class="form" data-form="plan" novalidate>
        ${field("plan-as-of", "as_of", t("devices.asOf"), html`<input id="plan-as-of" name="as_of" type="date" value="${today}" required aria-describedby="plan-as-of-error">`)}
        ${field("plan-operators", "extra_operators", t("devices.extraOperators"), html`<input id="plan-operators" name="extra_operators" inputmode="numeric" value="0" size="4" aria-describedby="plan-operators-error">`)}
        <fieldset class="group">
          <legend>${t("devices.extraDevices")}</legend>
          <div class="pair">
            ${field("plan-extra-count", "extra_count", t("devices.extraCount"), html`<input id="plan-extra-count" name="extra_count" inputmode="numeric" value="0" size="4" aria-describedby="plan-extra-count-error">`)}
            ${field("plan-extra-capacity", "extra_capacity", t("devices.extraCapacity"), html`<input id="plan-extra-capacity" name="extra_capacity" inputmode="numeric" value="80" size="4" aria-describedby="plan-extra-capacity-error">`)}
          </div>
          ${field("plan-extra-kind", "extra_kind", t("devices.kind"), html`<select id="plan-extra-kind" name="extra_kind">
            ${KINDS.map((k) => html`<option value="${k}">${t(`device.kind.${k}`)}</option>`)}
          </select>`)}
        </fieldset>
        <div data-form-status tabindex="-1"></div>
        <p><button type="submit" class="button primary">${t("devices.propose")}</button></p>
      </form>
      <div data-slot="plan" aria-live="polite"></div>
    </section>`;
}

const finish = (iso) => (iso ? fmt.date(iso) : t("devices.never"));

function moveLabel(move, devices) {
  if (move.kind === "device" && move.id !== null) return devices.get(move.id)?.serial ?? move.label;
  const label = describe(move.label_code, move.label_params, move.label);
  if (move.id === null) return t(move.kind === "device" ? "devices.newDevice" : "devices.newOperator", { label });
  return label;
}

function planBlock(plan, { book, devices, mayApply }) {
  const applicable = plan.moves.filter((m) => m.id !== null).length;
  return html`<div class="summary" data-plan-headline>
      <p><strong>${t("devices.latestFinish")}</strong></p>
      <p class="headline"><span data-finish="before">${finish(plan.latest_finish_before)}</span> <span aria-hidden="true">→</span><span class="visually-hidden">${t("devices.becomes")}</span> <strong data-finish="after">${finish(plan.latest_finish_after)}</strong></p>
      <p class="hint">${t("devices.planFor", { date: fmt.date(plan.as_of), deadline: fmt.date(plan.deadline) })}</p>
    </div>
    ${
      plan.moves.length
        ? html`<div class="table-wrap" role="region" aria-labelledby="moves-caption" tabindex="0">
            <table class="table" data-table="moves">
              <caption id="moves-caption">${t("devices.movesCaption", { count: fmt.number(plan.moves.length) })}</caption>
              <thead><tr><th scope="col">${t("devices.what")}</th><th scope="col">${t("devices.fromTo")}</th></tr></thead>
              <tbody>${plan.moves.map(
                (m, i) => html`<tr data-move-kind="${m.kind}" data-move-id="${m.id ?? ""}" class="move-row">
                  <th scope="row" id="move-${i}"><span class="serial">${moveLabel(m, devices)}</span><br><span class="code">${t(`devices.moveKind.${m.kind}`)}</span></th>
                  <td><span class="visually-hidden">${t("devices.from")}: </span><span data-from>${placeCell(m.from, book)}</span>
                    <span class="to-arrow" aria-hidden="true">↓</span><span class="visually-hidden">${t("devices.to")}: </span><strong data-to>${placeCell(m.to, book)}</strong></td>
                </tr>
                <tr class="reason-row"><td colspan="2" headers="move-${i}"><span class="visually-hidden">${t("devices.why")}: </span>${describe(m.reason_code, m.reason_params, m.reason)}</td></tr>`,
              )}</tbody>
            </table>
          </div>`
        : html`<p class="notice" data-moves="none">${t("devices.noMoves")}</p>`
    }
    <div class="table-wrap" role="region" aria-labelledby="effect-caption" tabindex="0">
      <table class="table" data-table="effect">
        <caption id="effect-caption">${t("devices.effectCaption")}</caption>
        <thead><tr>
          <th scope="col">${t("level.kecamatan.one")}</th>
          <th scope="col" class="num wide-only">${t("devices.capacity")}</th>
          <th scope="col">${t("devices.finish")}</th>
        </tr></thead>
        <tbody>${plan.kecamatan.map(
          (k) => html`<tr data-kecamatan="${k.code}">
            <th scope="row">${k.name}<span class="narrow-only"><br><span class="code">${t("devices.perDay", { count: `${fmt.number(k.capacity_before)} → ${fmt.number(k.capacity_after)}` })}</span></span></th>
            <td class="num wide-only">${fmt.number(k.capacity_before)} → ${fmt.number(k.capacity_after)}</td>
            <td>${k.finish_before ? fmt.mediumDate(k.finish_before) : t("devices.never")} → <strong>${k.finish_after ? fmt.mediumDate(k.finish_after) : t("devices.never")}</strong>
              ${k.feasible_after ? html`<span class="badge badge-ok">${t("devices.onPace")}</span>` : html`<span class="badge badge-behind">${t("devices.late")}</span>`}</td>
          </tr>`,
        )}</tbody>
      </table>
    </div>
    <details class="about"><summary>${t("devices.method")}</summary><p>${plan.method}</p></details>
    ${
      mayApply && applicable
        ? html`<div class="apply" data-slot="apply">
            <p><button type="button" class="button primary" data-action="apply">${t("devices.apply")}</button></p>
          </div>`
        : ""
    }`;
}

function confirmBlock(count, starts) {
  return html`<div class="notice notice-warning confirm" role="group" aria-labelledby="confirm-text" data-confirm>
    <p id="confirm-text"><strong>${t("devices.confirm", { count: fmt.number(count), date: fmt.date(starts) })}</strong></p>
    <p class="actions">
      <button type="button" class="button primary" data-action="apply-confirm">${t("devices.applyYes")}</button>
      <button type="button" class="button" data-action="apply-cancel">${t("devices.applyNo")}</button>
    </p>
  </div>`;
}

function appliedBlock(result, { book, devices, starts }) {
  return html`<div class="notice notice-ok" role="status" data-applied tabindex="-1">
    <p><strong>${t("devices.applied", { devices: fmt.number(result.allocations.length), operators: fmt.number(result.assignments.length), date: fmt.date(starts) })}</strong></p>
    ${
      result.allocations.length
        ? html`<ul data-applied-list>${result.allocations.map(
            (a) => html`<li data-allocation="${a.device_id}">${devices.get(a.device_id)?.serial ?? `#${a.device_id}`}: ${placeCell(a, book)}</li>`,
          )}</ul>`
        : ""
    }
    ${
      result.not_applied.length
        ? html`<p>${t("devices.notApplied")}</p><ul>${result.not_applied.map((m) => html`<li>${moveLabel(m, devices)}</li>`)}</ul>`
        : ""
    }
  </div>`;
}

export function wirePlan(planForm, { root, signal, campaign, book, state, slot, canApply, loadWhere, loadCapacity }) {
  let lastRequest = null;
  let lastPlan = null;
  const planSlot = slot("plan");

  function planRequest() {
    const f = planForm.elements;
    const errors = {};
    const extraOperators = parseCount(f.extra_operators.value || "0");
    const extraCount = parseCount(f.extra_count.value || "0");
    const extraCapacity = parseCount(f.extra_capacity.value || "0");
    if (!f.as_of.value) errors.as_of = t("form.required");
    if (extraOperators === null) errors.extra_operators = t("form.wholeNumber");
    if (extraCount === null) errors.extra_count = t("form.wholeNumber");
    if (extraCount && extraCapacity === null) errors.extra_capacity = t("form.wholeNumber");
    if (Object.keys(errors).length) return { errors };
    return {
      request: {
        as_of: f.as_of.value,
        movable: "all",
        extra_operators: extraOperators,
        extra_devices: extraCount ? [{ kind: f.extra_kind.value, daily_capacity: extraCapacity, count: extraCount }] : [],
      },
    };
  }

  planForm.addEventListener(
    "submit",
    async (event) => {
      event.preventDefault();
      clearErrors(planForm);
      const { request, errors } = planRequest();
      if (errors) return showErrors(planForm, { message: t("form.fix"), fields: errors });
      paint(planSlot, loading());
      try {
        const plan = await busy(planForm, () => api.post(`/campaigns/${campaign.id}/allocation-plan`, { json: request, signal }));
        lastRequest = request;
        lastPlan = plan;
        paint(planSlot, planBlock(plan, { book, devices: state.byId, mayApply: canApply }));
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        paint(planSlot, "");
        showErrors(planForm, error, { fieldAlias: PLAN_FIELDS });
      }
    },
    { signal },
  );

  if (!canApply) return;
  const starts = () => addDays(lastPlan.as_of, 1);
  on(
    root,
    "click",
    "[data-action=apply]",
    () => {
      const applySlot = slot("apply");
      paint(applySlot, confirmBlock(lastPlan.moves.filter((m) => m.id !== null).length, starts()));
      applySlot.querySelector("[data-action=apply-confirm]").focus();
    },
    { signal },
  );
  on(
    root,
    "click",
    "[data-action=apply-cancel]",
    () => {
      const applySlot = slot("apply");
      paint(applySlot, html`<p><button type="button" class="button primary" data-action="apply">${t("devices.apply")}</button></p>`);
      applySlot.querySelector("[data-action=apply]").focus();
    },
    { signal },
  );
  on(
    root,
    "click",
    "[data-action=apply-confirm]",
    async (_, button) => {
      const applySlot = slot("apply");
      for (const b of applySlot.querySelectorAll("button")) b.disabled = true;
      button.textContent = t("common.saving");
      applySlot.setAttribute("aria-busy", "true");
      let result;
      try {
        result = await api.post(`/campaigns/${campaign.id}/allocation-plan/apply`, { json: lastRequest, signal });
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        paint(applySlot, html`${slotError(error)}<p><button type="button" class="button primary" data-action="apply">${t("devices.apply")}</button></p>`);
        return;
      } finally {
        applySlot.removeAttribute("aria-busy");
      }
      const from = result.allocations[0]?.from ?? result.assignments[0]?.from ?? starts();
      paint(applySlot, appliedBlock(result, { book, devices: state.byId, starts: from }));
      applySlot.querySelector("[data-applied]").focus();
      try {
        await loadWhere();
      } catch (error) {
        paint(slot("devices"), slotError(error)); // the plan is applied; only the refreshed list failed
      }
      await loadCapacity();
    },
    { signal },
  );
}
