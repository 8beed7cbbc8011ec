// Closures of one point: holidays (closed all day) and days of reduced hours. Adding one that would
// cancel bookings lists them first (form.js's `withPreview`); removing one opens the weekday's hours again.

import { ApiError, api } from "../../api.js";
import { fmt, t } from "../../i18n.js";
import { on } from "../../lib/dom.js";
import { clearErrors, showErrors, showSuccess } from "../../lib/forms.js";
import { html, render as paint } from "../../lib/html.js";
import { allPages, field, slotError } from "../../lib/staffkit.js";
import { parseWindows, windowsText, withPreview } from "./form.js";

export function closuresSection(today) {
  return html`<section aria-labelledby="closures-title" data-section="closures" hidden>
    <h2 id="closures-title">${t("points.closuresTitle")}</h2>
    <p data-slot="closures-of"></p>
    <div data-slot="closures" aria-live="polite"></div>
    <form class="form" data-form="closure" novalidate>
      ${field("closure-day", "day", t("tallies.date"), html`<input id="closure-day" name="day" type="date" min="${today}" required aria-describedby="closure-day-error">`)}
      ${field("closure-hours", "hours", t("points.reducedHours"), html`<input id="closure-hours" name="hours" aria-describedby="closure-hours-hint closure-hours-error">`, t("points.reducedHint"))}
      ${field("closure-reason", "reason", t("points.reason"), html`<input id="closure-reason" name="reason" maxlength="200" required placeholder="${t("points.reasonExample")}" aria-describedby="closure-reason-error">`)}
      <div data-form-status tabindex="-1"></div>
      <div data-slot="closure-preview"></div>
      <p><button type="submit" class="button primary">${t("points.addClosure")}</button></p>
    </form>
  </section>`;
}

function closuresTable(closures) {
  if (!closures.length) return html`<p data-closures="none">${t("points.noClosures")}</p>`;
  return html`<ul class="closures">${closures.map(
    (c) => html`<li data-closure="${c.id}">${fmt.date(c.date)} · ${c.closed ? t("points.closedAllDay") : windowsText(c.hours)} · ${c.reason}
      <button type="button" class="button small" data-action="remove-closure" data-id="${c.id}">${t("points.remove")}</button></li>`,
  )}</ul>`;
}

/** Show the closures of `point` from today on, with the form to add one. */
export async function showClosures(root, { point, today, signal }) {
  const section = root.querySelector("[data-section=closures]");
  section.hidden = false;
  section.dataset.point = point.id;
  paint(root.querySelector("[data-slot=closures-of]"), t("points.of", { name: point.name }));
  clearErrors(root.querySelector("[data-form=closure]"));
  const slot = root.querySelector("[data-slot=closures]");
  try {
    paint(slot, closuresTable(await allPages(`/service-points/${point.id}/closures`, { params: { from: today }, signal, maxPages: 5 })));
  } catch (error) {
    paint(slot, slotError(error));
  }
}

export function wireClosures(root, { names, today, signal, changed }) {
  const section = root.querySelector("[data-section=closures]");
  const form = root.querySelector("[data-form=closure]");
  const pointOf = () => ({ id: Number(section.dataset.point), name: names.get(Number(section.dataset.point)) });
  form.addEventListener(
    "submit",
    async (event) => {
      event.preventDefault();
      clearErrors(form);
      const f = form.elements;
      const hours = parseWindows(f.hours.value);
      const wrong = {};
      if (!f.day.value) wrong.day = t("form.required");
      if (!f.reason.value.trim()) wrong.reason = t("form.required");
      if (hours === null) wrong.hours = t("points.hoursWrong");
      if (Object.keys(wrong).length) return showErrors(form, { message: t("form.fix"), fields: wrong });
      const point = pointOf();
      const body = { date: f.day.value, hours, reason: f.reason.value.trim() };
      try {
        await withPreview({
          form,
          slot: form.querySelector("[data-slot=closure-preview]"),
          names,
          signal,
          send: (dryRun) => api.post(`/service-points/${point.id}/closures`, { json: body, params: dryRun ? { dry_run: true } : {}, signal }),
          done: async (closure) => {
            showSuccess(form, t("points.closureAdded", { date: fmt.date(closure.date), count: fmt.number(closure.cancelled_appointments.length) }));
            await showClosures(root, { point, today, signal });
            changed?.();
          },
        });
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        showErrors(form, error);
      }
    },
    { signal },
  );
  on(
    root,
    "click",
    "[data-action=remove-closure]",
    async (_, button) => {
      button.disabled = true;
      const point = pointOf();
      try {
        await api.delete(`/service-points/${point.id}/closures/${button.dataset.id}`, { signal });
        await showClosures(root, { point, today, signal });
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        button.disabled = false;
        paint(root.querySelector("[data-slot=closures]"), slotError(error));
      }
    },
    { signal },
  );
}
