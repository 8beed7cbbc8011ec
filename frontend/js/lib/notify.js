// Residents opt in to messages: on the ticket page (a phone number for WhatsApp/SMS, or this
// browser through Web Push where it is supported), and "kirim ulang kode" for a lost tracking code
// or receipt (sent again only to the number given with the request; the answer is the same
// whether or not the number is known).

import { ApiError, api } from "../api.js";
import { busy, clearErrors, showErrors, showSuccess } from "./forms.js";
import { html, render as paint } from "./html.js";
import { t } from "../i18n.js";

const pushSupported = () => "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;

function base64UrlToBytes(text) {
  const padded = (text + "=".repeat((4 - (text.length % 4)) % 4)).replace(/-/g, "+").replace(/_/g, "/");
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}

/** The ticket page's "tell me when my turn is near" block, for ticket `ticketId`; its `code` proves
 * the resident holds it (nobody subscribes to someone else's ticket). */
export function ticketAlerts(container, ticketId, code, signal) {
  paint(
    container,
    html`<section class="group" aria-labelledby="alerts-title" data-ticket-alerts>
      <h2 id="alerts-title">${t("notify.ticket.title")}</h2>
      <p class="hint">${t("notify.ticket.lede")}</p>
      ${pushSupported() ? html`<p><button type="button" class="button" data-action="push">${t("notify.push")}</button> <span data-push-status role="status"></span></p>` : ""}
      <form class="form narrow" data-form="ticket-notify" novalidate>
        <div class="field">
          <label for="notify-phone">${t("notify.phone")}</label>
          <input id="notify-phone" name="phone" type="tel" inputmode="tel" autocomplete="tel" maxlength="24" aria-describedby="notify-phone-hint notify-phone-error">
          <p class="hint" id="notify-phone-hint">${t("notify.phoneHint")}</p>
          <p class="field-error" id="notify-phone-error" data-error-for="phone" hidden></p>
        </div>
        <div class="field">
          <label class="choice"><input type="checkbox" name="consent" value="yes" aria-describedby="notify-consent-error"> ${t("notify.consent")}</label>
          <p class="field-error" id="notify-consent-error" data-error-for="consent" hidden></p>
        </div>
        <div data-form-status tabindex="-1"></div>
        <p><button type="submit" class="button">${t("notify.submit")}</button></p>
      </form>
    </section>`,
  );
  const form = container.querySelector("[data-form=ticket-notify]");
  form.addEventListener(
    "submit",
    async (event) => {
      event.preventDefault();
      clearErrors(form);
      const data = { phone: form.elements.phone.value.trim(), channel: "whatsapp", consent: form.elements.consent.checked, code };
      const missing = {};
      if (!data.phone) missing.phone = t("form.required");
      if (!data.consent) missing.consent = t("notify.consentNeeded");
      if (Object.keys(missing).length) return showErrors(form, { message: t("form.fix"), fields: missing });
      try {
        await busy(form, () => api.post(`/tickets/${ticketId}/notify`, { json: data, signal }));
        form.elements.phone.value = "";
        showSuccess(form, t("notify.done"));
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        showErrors(form, error);
      }
    },
    { signal },
  );
  const button = container.querySelector("[data-action=push]");
  button?.addEventListener(
    "click",
    async () => {
      const status = container.querySelector("[data-push-status]");
      button.disabled = true;
      try {
        if ((await Notification.requestPermission()) !== "granted") throw new Error(t("notify.pushDenied"));
        const registration = await navigator.serviceWorker.register("./sw.js");
        const { public_key: key } = await api.get("/notifications/push-key", { signal });
        const subscription = await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: base64UrlToBytes(key) });
        await api.post(`/tickets/${ticketId}/push`, { json: { ...subscription.toJSON(), code }, signal });
        paint(status, t("notify.pushOn"));
      } catch (error) {
        button.disabled = false;
        paint(status, error instanceof ApiError ? (error.detail ?? error.message) : error.message || t("notify.pushFailed"));
      }
    },
    { signal },
  );
}

/** "Kirim ulang kode": a lost code goes again to the number given with the request. */
export function resendCode(container, signal) {
  paint(
    container,
    html`<details class="resend" data-resend>
      <summary>${t("notify.resend.title")}</summary>
      <form class="form narrow" data-form="resend" novalidate>
        <p class="hint">${t("notify.resend.lede")}</p>
        <div class="field">
          <label for="resend-phone">${t("notify.phone")}</label>
          <input id="resend-phone" name="phone" type="tel" inputmode="tel" autocomplete="tel" maxlength="24" aria-describedby="resend-phone-error">
          <p class="field-error" id="resend-phone-error" data-error-for="phone" hidden></p>
        </div>
        <div data-form-status tabindex="-1"></div>
        <p><button type="submit" class="button">${t("notify.resend.submit")}</button></p>
      </form>
    </details>`,
  );
  const form = container.querySelector("[data-form=resend]");
  form.addEventListener(
    "submit",
    async (event) => {
      event.preventDefault();
      clearErrors(form);
      const phone = form.elements.phone.value.trim();
      if (!phone) return showErrors(form, { message: t("form.fix"), fields: { phone: t("form.required") } });
      try {
        await busy(form, () => api.post("/notifications/resend-code", { json: { phone }, signal }));
        showSuccess(form, t("notify.resend.done"));
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        showErrors(form, error);
      }
    },
    { signal },
  );
}
