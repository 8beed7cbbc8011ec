// What the inbox and one complaint share: statuses and steps, money and dates as shown, the
// confidentiality notice, status badges, and the names of staff accounts.

import { ApiError } from "../../api.js";
import { html } from "../../lib/html.js";
import { allPages } from "../../lib/staffkit.js";
import { fmt, t } from "../../i18n.js";
import { session } from "../../store.js";

export const STATUSES = ["received", "investigating", "substantiated", "unsubstantiated", "action_taken", "closed"];
// The workflow as the API states it; only used to offer the next steps, the API still decides.
export const NEXT = {
  received: ["investigating"],
  investigating: ["substantiated", "unsubstantiated"],
  substantiated: ["action_taken"],
  unsubstantiated: ["closed"],
  action_taken: ["closed"],
  closed: [],
};
export const AGES = ["overdue", "7", "30"];
export const SANCTIONS = ["warning", "suspension", "removal"];

export const kecamatanOf = (code) => code.split(".").slice(0, 3).join(".");
export const rupiah = (amount) => fmt.money(amount);
export const receivedOn = (iso) => new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Jakarta" }).format(new Date(iso));

export function confidentiality() {
  return html`<div class="notice notice-confidential" data-confidential>
    <p><strong>${t("complaints.confidentialTitle")}</strong></p>
    <p>${t("complaints.confidential")}</p>
  </div>`;
}

export function statusBadge(status) {
  return html`<span class="badge complaint-status status-${status}" data-complaint-status="${status}">${t(`report.status.${status}`)}</span>`;
}

export function handlerText(id, people) {
  if (id === null || id === undefined) return t("complaints.unassigned");
  if (id === session.state.me?.id) return t("complaints.you");
  return people.get(id) ?? t("complaints.staffN", { id });
}

/** Admins can read the accounts (names for the log, handlers to assign); handlers cannot. */
export async function staffAccounts(signal) {
  if (session.state.me.role !== "admin") return [];
  return allPages("/users", { signal, maxPages: 10 }).catch((error) => {
    if (error instanceof ApiError) return [];
    throw error;
  });
}
