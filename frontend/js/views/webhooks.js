// Webhooks (admins only): integrations' https endpoints and the events each receives. The signing
// secret is given by the API once, so it is shown once here with a copy button and never again.
// Each subscription opens its delivery log (status, tries, last response code and error) with a
// "send again" button; a subscription disabled after persistent failures shows why and can be
// turned back on. Removing asks for a second click instead of a dialog.

import { ApiError, api } from "../api.js";
import { on } from "../lib/dom.js";
import { busy, clearErrors, showErrors, showSuccess } from "../lib/forms.js";
import { html, render as paint } from "../lib/html.js";
import { showSecret, wireSecret } from "../lib/secret.js";
import { allPages, field, slotError } from "../lib/staffkit.js";
import { fmt, t } from "../i18n.js";

const EVENTS = [
  "ticket.called",
  "ticket.near",
  "appointment.reminder",
  "home_visit.scheduled",
  "home_visit.rescheduled",
  "home_visit.visited",
  "complaint.replied",
  "complaint.status_changed",
  "tallies.imported",
  "progress.milestone",
];
const STATUS_BADGE = { succeeded: "badge-ok", pending: "badge-muted", failed: "badge-behind", dead: "badge-behind" };

function subscriptionsTable(items) {
  if (!items.length) return html`<p data-webhooks="none">${t("webhooks.none")}</p>`;
  return html`<div class="table-wrap" role="region" aria-labelledby="webhooks-caption" tabindex="0">
    <table class="table" data-table="webhooks">
      <caption id="webhooks-caption">${t("webhooks.caption", { count: fmt.number(items.length) })}</caption>
      <thead><tr>
        <th scope="col">${t("webhooks.url")}</th>
        <th scope="col" class="wide-only">${t("webhooks.events")}</th>
        <th scope="col">${t("webhooks.state")}</th>
        <th scope="col">${t("webhooks.actions")}</th>
      </tr></thead>
      <tbody>${items.map(
        (s) => html`<tr data-webhook="${s.id}" data-active="${String(s.active)}">
          <th scope="row"><span class="code">${s.url}</span>${s.description ? html`<br><span class="hint">${s.description}</span>` : ""}</th>
          <td class="wide-only">${s.events.map((e) => html`<span class="badge badge-muted">${e}</span> `)}</td>
          <td>${
            s.active
              ? html`<span class="badge badge-ok">${t("webhooks.active")}</span>`
              : html`<span class="badge badge-behind">${t("webhooks.disabled")}</span><br><span class="hint" data-disabled-reason>${s.disabled_reason ?? ""}</span>`
          }</td>
          <td class="actions">
            <button type="button" class="button small" data-action="deliveries" data-id="${s.id}">${t("webhooks.showDeliveries")}</button>
            ${s.active ? "" : html`<button type="button" class="button small" data-action="enable" data-id="${s.id}">${t("webhooks.enable")}</button>`}
            <button type="button" class="button small" data-action="remove" data-id="${s.id}">${t("webhooks.remove")}</button>
          </td>
        </tr>`,
      )}</tbody>
    </table>
  </div>`;
}

function deliveriesTable(subscription, items) {
  return html`<h3 id="deliveries-title" tabindex="-1">${t("webhooks.deliveriesTitle", { url: subscription.url })}</h3>
    ${
      items.length
        ? html`<div class="table-wrap" role="region" aria-labelledby="deliveries-title" tabindex="0">
      <table class="table" data-table="deliveries">
        <thead><tr>
          <th scope="col">${t("webhooks.event")}</th>
          <th scope="col">${t("webhooks.status")}</th>
          <th scope="col" class="wide-only">${t("webhooks.attempts")}</th>
          <th scope="col" class="wide-only">${t("webhooks.lastAnswer")}</th>
          <th scope="col">${t("webhooks.actions")}</th>
        </tr></thead>
        <tbody>${items.map(
          (d) => html`<tr data-delivery="${d.id}" data-status="${d.status}">
            <th scope="row">${d.event_type}<br><span class="code hint">${d.event_uid}</span><br><span class="hint">${fmt.dateTime(d.created_at)}</span></th>
            <td><span class="badge ${STATUS_BADGE[d.status] ?? "badge-muted"}">${t(`webhooks.status.${d.status}`)}</span>
              ${d.next_attempt_at && d.status === "failed" ? html`<br><span class="hint">${t("webhooks.nextTry", { date: fmt.dateTime(d.next_attempt_at) })}</span>` : ""}</td>
            <td class="wide-only">${fmt.number(d.attempts)}</td>
            <td class="wide-only">${d.last_status_code ?? "–"}${d.last_error ? html`<br><span class="hint">${d.last_error}</span>` : ""}</td>
            <td class="actions">${
              d.status === "pending" ? "" : html`<button type="button" class="button small" data-action="redeliver" data-id="${d.id}">${t("webhooks.redeliver")}</button>`
            }</td>
          </tr>`,
        )}</tbody>
      </table></div>`
        : html`<p>${t("webhooks.noDeliveries")}</p>`
    }`;
}

export async function render(root, { signal }) {
  let subscriptions = [];
  let shown = null; // the subscription whose deliveries are open

  paint(
    root,
    html`<h1>${t("webhooks.title")}</h1>
      <p class="lede">${t("webhooks.lede")}</p>
      <section aria-labelledby="webhooks-list-title">
        <h2 id="webhooks-list-title" tabindex="-1">${t("webhooks.listTitle")}</h2>
        <div data-slot="secret"></div>
        <div data-slot="webhooks" aria-live="polite"></div>
        <div data-slot="deliveries" aria-live="polite"></div>
      </section>
      <section aria-labelledby="webhook-create-title">
        <h2 id="webhook-create-title">${t("webhooks.createTitle")}</h2>
        <form class="form" data-form="create-webhook" novalidate>
          ${field("webhook-url", "url", t("webhooks.url"), html`<input id="webhook-url" name="url" type="url" inputmode="url" maxlength="2000" required placeholder="https://" aria-describedby="webhook-url-hint webhook-url-error">`, t("webhooks.urlHint"))}
          <fieldset name="events" tabindex="-1" aria-describedby="webhook-events-error"><legend>${t("webhooks.events")}</legend>
            ${EVENTS.map((e) => html`<label class="check"><input type="checkbox" name="event" value="${e}"> <span>${e}<span class="hint">${t(`webhooks.event.${e}`)}</span></span></label>`)}
            <p class="field-error" id="webhook-events-error" data-error-for="events" hidden></p>
          </fieldset>
          ${field("webhook-description", "description", t("webhooks.description"), html`<input id="webhook-description" name="description" maxlength="500" aria-describedby="webhook-description-error">`)}
          <div data-form-status tabindex="-1"></div>
          <p><button type="submit" class="button primary">${t("webhooks.create")}</button></p>
        </form>
      </section>`,
  );

  const listSlot = root.querySelector("[data-slot=webhooks]");
  const deliveriesSlot = root.querySelector("[data-slot=deliveries]");
  const secretSlot = root.querySelector("[data-slot=secret]");
  const load = async () => {
    try {
      subscriptions = await allPages("/webhooks", { signal, maxPages: 10 });
      paint(listSlot, subscriptionsTable(subscriptions));
    } catch (error) {
      paint(listSlot, slotError(error));
    }
  };
  const loadDeliveries = async (id, { focus = true } = {}) => {
    shown = subscriptions.find((s) => s.id === id) ?? null;
    if (!shown) return paint(deliveriesSlot, "");
    try {
      const page = await api.get(`/webhooks/${id}/deliveries`, { params: { limit: 100 }, signal });
      paint(deliveriesSlot, deliveriesTable(shown, page.items));
      if (focus) deliveriesSlot.querySelector("#deliveries-title")?.focus();
    } catch (error) {
      paint(deliveriesSlot, slotError(error));
    }
  };
  // Loaded while the handlers are wired: the form is never live without its handler (a submit
  // before it would be the browser's own, a page load with the URL in the address).
  const loaded = load();
  wireSecret(root, secretSlot, signal, () => root.querySelector("#webhooks-list-title").focus());

  const rowError = (button, error) => {
    if (!(error instanceof ApiError)) throw error;
    button.disabled = false;
    button.closest("td").querySelector("[data-row-error]")?.remove();
    button.insertAdjacentHTML("afterend", html`<span class="field-error" role="alert" data-row-error>${error.detail ?? error.message}</span>`.value);
  };

  on(root, "click", "[data-action=deliveries]", (_, button) => loadDeliveries(Number(button.dataset.id)), { signal });
  on(
    root,
    "click",
    "[data-action=redeliver]",
    async (_, button) => {
      button.disabled = true;
      try {
        await api.post(`/webhooks/deliveries/${button.dataset.id}/redeliver`, { signal });
        await loadDeliveries(shown.id, { focus: false });
      } catch (error) {
        rowError(button, error);
      }
    },
    { signal },
  );
  on(
    root,
    "click",
    "[data-action=enable]",
    async (_, button) => {
      button.disabled = true;
      try {
        await api.post(`/webhooks/${button.dataset.id}/enable`, { signal });
        await load();
      } catch (error) {
        rowError(button, error);
      }
    },
    { signal },
  );
  on(
    root,
    "click",
    "[data-action=remove]",
    async (_, button) => {
      if (button.dataset.confirm !== "yes") {
        button.dataset.confirm = "yes";
        button.textContent = t("webhooks.confirmRemove");
        button.classList.add("danger");
        return;
      }
      button.disabled = true;
      try {
        await api.delete(`/webhooks/${button.dataset.id}`, { signal });
        if (shown?.id === Number(button.dataset.id)) paint(deliveriesSlot, "");
        await load();
        root.querySelector("#webhooks-list-title").focus();
      } catch (error) {
        rowError(button, error);
      }
    },
    { signal },
  );

  const form = root.querySelector("[data-form=create-webhook]");
  form.addEventListener(
    "submit",
    async (event) => {
      event.preventDefault();
      clearErrors(form);
      const data = {
        url: form.elements.url.value.trim(),
        events: [...form.querySelectorAll("input[name=event]:checked")].map((input) => input.value),
        description: form.elements.description.value.trim(),
      };
      const missing = {};
      if (!data.url) missing.url = t("form.required");
      if (!data.events.length) missing.events = t("webhooks.eventsNeeded");
      if (Object.keys(missing).length) return showErrors(form, { message: t("form.fix"), fields: missing });
      try {
        const created = await busy(form, () => api.post("/webhooks", { json: data, signal }));
        form.reset();
        showSecret(secretSlot, created.secret, {
          id: "webhook-secret",
          title: t("webhooks.createdTitle", { url: created.url }),
          once: t("webhooks.once"),
          help: t("webhooks.onceHelp"),
          label: t("webhooks.secret"),
          stored: t("webhooks.stored"),
        });
        await load();
        showSuccess(form, t("webhooks.created"));
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        showErrors(form, error);
      }
    },
    { signal },
  );
  await loaded;
}
