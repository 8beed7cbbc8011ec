// API keys' expiry, as staff see it: on the users screen (admins, every key) and on the staff home
// (each account's own keys, and for admins the keys about to expire). A key stops working at its
// expiry (REKAM_API_KEY_TTL_DAYS, 365 by default); it is flagged from EXPIRY_WARNING_DAYS before.

import { html } from "./html.js";
import { fmt, t } from "../i18n.js";

export const EXPIRY_WARNING_DAYS = 30;
const DAY_MS = 24 * 60 * 60 * 1000;

/** "expired", "soon" (within EXPIRY_WARNING_DAYS) or "ok". */
export function expiryState(key, now = Date.now()) {
  const left = new Date(key.expires_at).getTime() - now;
  if (left <= 0) return "expired";
  return left <= EXPIRY_WARNING_DAYS * DAY_MS ? "soon" : "ok";
}

/** "Expires <date>" with a badge when it is near or past. */
export function expiryText(key) {
  const state = expiryState(key);
  const badge =
    state === "expired"
      ? html` <span class="badge badge-behind" data-expiry="expired">${t("keys.expired")}</span>`
      : state === "soon"
        ? html` <span class="badge badge-behind" data-expiry="soon">${t("keys.expiringSoon")}</span>`
        : "";
  return html`<span data-expires-at="${key.expires_at}">${t("keys.expiresOn", { date: fmt.dateTime(key.expires_at) })}</span>${badge}`;
}
