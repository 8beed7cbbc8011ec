// The day's count of a service point, entered by whoever runs it (a weekend service's operator at
// the end of the day, often without signal at an RW hall). Without signal it goes to the outbox
// (lib/outbox.js) and is sent when the network returns; the PUT replaces the point's count of that
// day, so sending it twice is harmless.

import { ApiError, api } from "../api.js";
import { clearErrors, showErrors } from "../lib/forms.js";
import { html, render as paint } from "../lib/html.js";
import { enqueue } from "../lib/outbox.js";
import { mountOutbox } from "../lib/outboxpanel.js";
import { field } from "../lib/staffkit.js";
import { fmt, t, todayInJakarta } from "../i18n.js";

/** The count form of `point` in `slot`: today's count, or a weekend service's count of its date. */
export function mountDayCount(slot, { point, signal }) {
  const today = todayInJakarta();
  const day = point.kind === "weekend_event" ? point.event_date : today;
  if (!day || day > today) {
    paint(slot, html`<p class="hint" data-daycount="later">${t("daycount.later", { date: fmt.date(day ?? today) })}</p>`);
    return;
  }
  const path = `/service-points/${point.id}/counts/${day}`;
  paint(
    slot,
    html`<section class="daycount" aria-labelledby="daycount-title">
      <h2 id="daycount-title">${t("daycount.title", { date: fmt.date(day) })}</h2>
      <p class="hint">${t("daycount.hint")}</p>
      <form class="form narrow" data-form="daycount" novalidate>
        ${field("daycount-count", "count", t("daycount.count"), html`<input id="daycount-count" name="count" type="number" inputmode="numeric" min="0" step="1" required>`)}
        <p><button type="submit" class="button primary">${t("daycount.save")}</button></p>
        <p data-daycount-state role="status"></p>
      </form>
      <div data-slot="daycount-outbox"></div>
    </section>`,
  );
  mountOutbox(slot.querySelector("[data-slot=daycount-outbox]"), { signal });
  const form = slot.querySelector("[data-form=daycount]");
  const state = form.querySelector("[data-daycount-state]");
  form.addEventListener(
    "submit",
    async (event) => {
      event.preventDefault();
      clearErrors(form);
      const raw = form.elements.count.value.trim();
      const count = Number(raw);
      if (raw === "" || !Number.isInteger(count) || count < 0) {
        showErrors(form, { fields: { count: t("daycount.invalid") } });
        return;
      }
      const keep = async () => {
        await enqueue({ method: "PUT", path, body: { count }, label: t("daycount.label", { count: fmt.number(count), name: point.name }), ref: { count: point.id } });
        paint(state, t("daycount.queued", { count: fmt.number(count) }));
      };
      if (!navigator.onLine) return keep();
      try {
        const saved = await api.put(path, { json: { count }, signal });
        paint(state, t("daycount.saved", { count: fmt.number(saved.count) }));
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        if (error.status === 0) return keep();
        showErrors(form, error);
      }
    },
    { signal },
  );
}
