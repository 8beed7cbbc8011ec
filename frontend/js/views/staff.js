// The staff home: who is signed in, their scope, and the tools their role may use; then their
// account: failed sign-ins to it in the last 30 days (someone guessing the password shows here),
// the API keys they answer for with each one's expiry, and for admins the keys about to expire.

import { api } from "../api.js";
import { html, render as paint } from "../lib/html.js";
import { EXPIRY_WARNING_DAYS, expiryText } from "../lib/keys.js";
import { fmt, t } from "../i18n.js";
import { session } from "../store.js";

async function scopeText(me, signal) {
  if (me.area) {
    const area = await api.get(`/areas/${me.area}`, { signal }).catch(() => null);
    return t("staff.scopeArea", { area: area ? `${area.name} (${me.area})` : me.area });
  }
  if (me.service_point_id) return t("staff.scopePoint", { id: me.service_point_id });
  return t("staff.scopeAll");
}

function failedSignIns(failures) {
  if (!failures.length) return html`<p data-failed-sign-ins="0">${t("account.noFailures")}</p>`;
  return html`<div class="notice notice-warning" data-failed-sign-ins="${failures.length}">
    <p><strong>${t("account.failedTitle", { count: fmt.number(failures.length) })}</strong></p>
    <ul>${failures.map(
      (f) => html`<li data-failed-sign-in>${t("account.failedItem", { date: fmt.dateTime(f.at), client: f.client ?? t("account.clientUnknown") })}${
        f.refused ? html` <span class="hint">(${t("account.refused")})</span>` : ""
      }</li>`,
    )}</ul>
    <p>${t("account.failedHelp")}</p>
  </div>`;
}

function ownKeys(keys) {
  if (!keys.length) return "";
  return html`<h3>${t("account.keysTitle")}</h3>
    <ul data-own-keys>${keys.map((k) => html`<li data-own-key="${k.id}"><strong>${k.name}</strong> <span class="code">${k.prefix}…</span> · ${expiryText(k)}</li>`)}</ul>`;
}

function expiringKeys(keys) {
  if (!keys.length) return "";
  return html`<div class="notice notice-warning" data-expiring-keys="${keys.length}">
    <p><strong>${t("account.expiringTitle", { count: fmt.number(keys.length), days: fmt.number(EXPIRY_WARNING_DAYS) })}</strong></p>
    <ul>${keys.map((k) => html`<li data-expiring-key="${k.id}">${k.name} <span class="code">${k.prefix}…</span> · ${expiryText(k)}</li>`)}</ul>
    <p><a href="#/staff/users">${t("account.manageKeys")}</a></p>
  </div>`;
}

export async function render(root, { signal, tools }) {
  const me = session.state.me;
  const scope = await scopeText(me, signal);
  paint(
    root,
    html`<h1>${t("staff.title", { name: me.name })}</h1>
      <p class="lede"><span data-role="${me.role}">${t(`role.${me.role}`)}</span> · ${scope}</p>
      <div data-slot="expiring-keys"></div>
      <h2>${t("staff.tools")}</h2>
      <ul class="cards">
        ${tools.map(
          (tool) => html`<li class="card">
            <h3><a href="#${tool.path}">${t(tool.label)}</a></h3>
            <p>${t(tool.description)}</p>
          </li>`,
        )}
      </ul>
      <section aria-labelledby="account-title" data-account>
        <h2 id="account-title">${t("account.title")}</h2>
        <div data-slot="account" aria-live="polite"></div>
      </section>`,
  );
  // Fresh, after the tools are on the page: failures and keys change while a session lasts.
  const [fresh, expiring] = await Promise.all([
    api.get("/auth/me", { signal }).catch(() => me),
    me.role === "admin"
      ? api
          .get("/api-keys", { params: { expiring_within: `${EXPIRY_WARNING_DAYS}d`, limit: 100 }, signal })
          .then((page) => page.items)
          .catch(() => [])
      : [],
  ]);
  if (signal.aborted) return;
  paint(root.querySelector("[data-slot=account]"), html`${failedSignIns(fresh.recent_failed_sign_ins ?? [])}${ownKeys(fresh.api_keys ?? [])}`);
  paint(root.querySelector("[data-slot=expiring-keys]"), expiringKeys(expiring));
}
