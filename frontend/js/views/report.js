// Report a fee (public): the complaint form, confidential, name and contact optional; the
// receipt shown large with copy; and the status page with the city's replies and a form to add
// information. The receipt is a secret: it never goes into the address (history, shared phones),
// it is typed into the status page's form and kept in this module only while the page is open.

import { api } from "../api.js";
import { currentCampaign } from "../campaigns.js";
import { busy, clearErrors, fieldBlock, showErrors, showSuccess } from "../lib/forms.js";
import { html, render as paint } from "../lib/html.js";
import { areaPicker, clearOnEdit, showCode } from "../lib/public.js";
import { fmt, t, todayInJakarta } from "../i18n.js";
import { resendCode } from "../lib/notify.js";

// The receipt just made, or typed on the status page; forgotten when the tab closes.
let heldReceipt = null;

async function allPoints(signal) {
  const page = await api.get("/service-points", { params: { limit: 500 }, signal });
  return page.items.filter((p) => p.active);
}

async function renderForm(root, { signal }) {
  const [campaign, points] = await Promise.all([currentCampaign(), allPoints(signal)]);
  const picker = areaPicker({ idPrefix: "report-area", name: "area", levels: ["kecamatan", "kelurahan", "rw"], required: "kecamatan" });
  const today = todayInJakarta();
  paint(
    root,
    html`<h1>${t("report.title")}</h1>
      <p class="lede">${t("report.lede")}</p>
      <div class="notice notice-confidential" data-confidential>
        <p><strong>${t("report.confidentialTitle")}</strong></p>
        <p>${t("report.confidential")}</p>
      </div>
      <p><a href="#/report/track">${t("report.haveReceipt")}</a></p>
      <form class="form" data-form="report" novalidate>
        <fieldset class="group">
          <legend>${t("report.where")}</legend>
          ${fieldBlock({
            id: "report-point",
            name: "service_point",
            label: t("report.point"),
            input: html`<select id="report-point" name="service_point" aria-describedby="report-point-error">
              <option value="">${t("report.pointOther")}</option>
              ${points.map((p) => html`<option value="${p.id}">${p.name}${p.event_date ? ` (${fmt.mediumDate(p.event_date)})` : ""}</option>`)}
            </select>`,
          })}
          <div class="other-place" data-other-place>
            <div data-area-picker>${picker.markup}</div>
            ${fieldBlock({
              id: "report-place",
              name: "place",
              label: t("report.place"),
              hint: t("report.placeHint"),
              input: html`<input id="report-place" name="place" maxlength="500" aria-describedby="report-place-hint report-place-error">`,
            })}
          </div>
          ${fieldBlock({
            id: "report-date",
            name: "occurred_on",
            label: t("report.date"),
            input: html`<input id="report-date" name="occurred_on" type="date" max="${today}" value="${today}" required aria-describedby="report-date-error">`,
          })}
        </fieldset>
        <fieldset class="group">
          <legend>${t("report.what")}</legend>
          ${fieldBlock({
            id: "report-amount",
            name: "amount",
            label: t("report.amount"),
            hint: t("report.amountHint"),
            input: html`<input id="report-amount" name="amount" inputmode="numeric" autocomplete="off" required aria-describedby="report-amount-hint report-amount-error">`,
          })}
          ${fieldBlock({
            id: "report-who",
            name: "operator_description",
            label: t("report.who"),
            optional: true,
            hint: t("report.whoHint"),
            input: html`<input id="report-who" name="operator_description" maxlength="500" aria-describedby="report-who-hint report-who-error">`,
          })}
          ${fieldBlock({
            id: "report-description",
            name: "description",
            label: t("report.description"),
            input: html`<textarea id="report-description" name="description" class="prose" rows="5" maxlength="5000" required aria-describedby="report-description-error"></textarea>`,
          })}
        </fieldset>
        <fieldset class="group">
          <legend>${t("report.you")}</legend>
          <p class="hint">${t("report.youHint")}</p>
          ${fieldBlock({ id: "report-name", name: "reporter_name", label: t("report.name"), optional: true, input: html`<input id="report-name" name="reporter_name" autocomplete="name" maxlength="200" aria-describedby="report-name-error">` })}
          ${fieldBlock({
            id: "report-contact",
            name: "reporter_contact",
            label: t("report.contact"),
            optional: true,
            input: html`<input id="report-contact" name="reporter_contact" autocomplete="tel" maxlength="200" aria-describedby="report-contact-error">`,
          })}
          ${fieldBlock({
            id: "report-notify",
            name: "notify_phone",
            label: t("notify.reportPhone"),
            hint: t("notify.reportPhoneHint"),
            optional: true,
            input: html`<input id="report-notify" name="notify_phone" type="tel" inputmode="tel" autocomplete="tel" maxlength="24" aria-describedby="report-notify-hint report-notify-error">`,
          })}
        </fieldset>
        <div data-form-status tabindex="-1"></div>
        <p><button type="submit" class="button primary wide">${t("report.submit")}</button></p>
      </form>`,
  );
  const form = root.querySelector("[data-form=report]");
  const box = form.querySelector("[data-area-picker]");
  const other = form.querySelector("[data-other-place]");
  await picker.wire(box, campaign?.root_area ?? "36.74", signal);
  const sync = () => (other.hidden = Boolean(form.elements.service_point.value));
  form.elements.service_point.addEventListener("change", sync, { signal });
  sync();
  clearOnEdit(form, signal);
  form.addEventListener(
    "submit",
    async (event) => {
      event.preventDefault();
      clearErrors(form);
      const get = (name) => form.elements.namedItem(name).value.trim();
      const point = get("service_point");
      const amountText = get("amount").replace(/[.\s]/g, "").replace(/^rp/i, "");
      const data = {
        service_point_id: point ? Number(point) : null,
        area: point ? null : picker.value(box) || null,
        place: point ? null : get("place") || null,
        occurred_on: get("occurred_on"),
        operator_description: get("operator_description") || null,
        amount: /^\d+$/.test(amountText) ? Number(amountText) : null,
        description: get("description"),
        reporter_name: get("reporter_name") || null,
        reporter_contact: get("reporter_contact") || null,
        notify_phone: get("notify_phone") || null,
      };
      const missing = {};
      if (!point && !data.area) missing.area = t("report.err.area");
      if (!point && !data.place) missing.place = t("report.err.place");
      if (!data.occurred_on) missing.occurred_on = t("form.required");
      if (!get("amount")) missing.amount = t("form.required");
      else if (!data.amount) missing.amount = t("report.err.amount");
      if (!data.description) missing.description = t("form.required");
      if (Object.keys(missing).length) return showErrors(form, { message: t("form.fix"), fields: missing });
      try {
        const receipt = await busy(form, () => api.post("/complaints", { json: data, signal }));
        heldReceipt = receipt.receipt;
        renderReceipt(root, receipt, signal);
      } catch (error) {
        if (signal.aborted) return;
        showErrors(form, error);
      }
    },
    { signal },
  );
}

function renderReceipt(root, receipt, signal) {
  showCode(
    root,
    {
      title: t("report.sent.title"), body: t("report.sent.body"), code: receipt.receipt, label: t("report.sent.receipt"), id: "report-receipt",
      more: html`<div class="notice notice-warning"><p><strong>${t("report.sent.once")}</strong></p></div>
        <p class="actions"><a class="button primary" href="#/report/track" data-link="track">${t("report.sent.track")}</a></p>`,
    },
    signal,
  );
}

function receiptForm(value = "") {
  return html`<form class="form narrow track-form" data-form="report-track" novalidate>
    <div class="field">
      <label for="report-track-receipt">${t("report.track.receipt")}</label>
      <input id="report-track-receipt" name="receipt" value="${value}" autocomplete="off" autocapitalize="characters" spellcheck="false" placeholder="PGL-XXXX-XXXX-XXXX-XXXX" aria-describedby="report-track-receipt-error">
      <p class="field-error" id="report-track-receipt-error" data-error-for="receipt" hidden></p>
    </div>
    <div data-form-status tabindex="-1"></div>
    <p><button type="submit" class="button primary">${t("report.track.submit")}</button></p>
  </form>`;
}

function statusMarkup(tracking) {
  return html`<div class="status-card status-${tracking.status}" data-status="${tracking.status}">
      <p class="status-label">${t(`report.status.${tracking.status}`)}</p>
      <p>${t(`report.status.${tracking.status}.help`)}</p>
    </div>
    <dl class="figures">
      <div><dt>${t("report.track.received")}</dt><dd>${fmt.date(tracking.received_on)}</dd></div>
      <div><dt>${t("report.track.due")}</dt><dd>${fmt.date(tracking.reply_due_on)}</dd></div>
    </dl>
    <h2 id="conversation-title">${t("report.track.conversation")}</h2>
    ${
      tracking.conversation.length
        ? html`<ol class="conversation" aria-labelledby="conversation-title" data-conversation>
            ${tracking.conversation.map(
              (line) => html`<li class="message message-${line.author}" data-author="${line.author}">
                <p class="message-meta"><strong>${t(`report.track.author.${line.author}`)}</strong> · <time datetime="${line.at}">${fmt.dateTime(line.at)}</time></p>
                <p class="message-text">${line.text}</p>
              </li>`,
            )}
          </ol>`
        : html`<p class="hint" data-conversation-empty>${t("report.track.noReplies")}</p>`
    }
    ${
      tracking.status === "closed"
        ? html`<p class="hint">${t("report.track.closed")}</p>`
        : html`<form class="form" data-form="report-message" novalidate>
            <div class="field">
              <label for="report-message-text">${t("report.track.add")}</label>
              <p class="hint" id="report-message-text-hint">${t("report.track.addHint")}</p>
              <textarea id="report-message-text" name="text" class="prose" rows="4" maxlength="5000" aria-describedby="report-message-text-hint report-message-text-error"></textarea>
              <p class="field-error" id="report-message-text-error" data-error-for="text" hidden></p>
            </div>
            <div data-form-status tabindex="-1"></div>
            <p><button type="submit" class="button primary">${t("report.track.send")}</button></p>
          </form>`
    }`;
}

async function renderTrack(root, { signal }) {
  paint(
    root,
    html`<h1>${t("report.track.title")}</h1>
      <p class="lede">${t("report.track.lede")}</p>
      ${receiptForm(heldReceipt ?? "")}
      <div data-resend-slot></div>
      <div data-tracking aria-live="polite"></div>`,
  );
  resendCode(root.querySelector("[data-resend-slot]"), signal);
  const form = root.querySelector("[data-form=report-track]");
  const out = root.querySelector("[data-tracking]");

  function wireMessage(receipt) {
    const messageForm = out.querySelector("[data-form=report-message]");
    messageForm?.addEventListener(
      "submit",
      async (event) => {
        event.preventDefault();
        clearErrors(messageForm);
        const text = messageForm.elements.text.value.trim();
        if (!text) return showErrors(messageForm, { message: t("form.fix"), fields: { text: t("form.required") } });
        try {
          const tracking = await busy(messageForm, () => api.post(`/complaints/track/${encodeURIComponent(receipt)}/messages`, { json: { text }, signal }));
          paint(out, statusMarkup(tracking));
          wireMessage(receipt);
          showSuccess(out.querySelector("[data-form=report-message]") ?? out, t("report.track.sent"));
          out.querySelector("[data-conversation] li:last-child")?.setAttribute("data-new", "");
        } catch (error) {
          if (signal.aborted) return;
          if (error.status === 409) error.message = t("report.track.closed");
          showErrors(messageForm, error);
        }
      },
      { signal },
    );
  }

  async function show(receipt) {
    clearErrors(form);
    try {
      const tracking = await busy(form, () => api.get(`/complaints/track/${encodeURIComponent(receipt)}`, { signal }));
      heldReceipt = receipt;
      paint(out, statusMarkup(tracking));
      wireMessage(receipt);
    } catch (error) {
      if (signal.aborted) return;
      paint(out, "");
      if (error.status === 404 || error.status === 422) {
        showErrors(form, { message: t("report.track.notFound"), fields: { receipt: t("report.track.notFoundHelp") } });
      } else showErrors(form, error);
    }
  }

  form.addEventListener(
    "submit",
    (event) => {
      event.preventDefault();
      const receipt = form.elements.receipt.value.trim();
      if (!receipt) return showErrors(form, { message: t("form.fix"), fields: { receipt: t("form.required") } });
      show(receipt);
    },
    { signal },
  );
  if (heldReceipt) await show(heldReceipt);
}

export async function render(root, context) {
  if (context.params.page === "track") return renderTrack(root, context);
  return renderForm(root, context);
}
