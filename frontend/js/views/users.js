// Users and API keys (admins only): staff accounts with their role and scope (a supervisor's
// area, an operator's service point), created, changed and deactivated; API keys for scripts,
// whose secret the API gives once, so it is shown once here with a copy button and never again
// (lib/secret.js), with each live key's expiry, flagged when it is near (lib/keys.js).
// Deactivating and revoking ask for a second click instead of a dialog that a kiosk could hide.

import { ApiError, api } from "../api.js";
import { currentCampaign } from "../campaigns.js";
import { on } from "../lib/dom.js";
import { busy, clearErrors, showErrors, showSuccess } from "../lib/forms.js";
import { html, render as paint } from "../lib/html.js";
import { expiryText } from "../lib/keys.js";
import { showSecret, wireSecret } from "../lib/secret.js";
import { allPages, areasIn, field, slotError } from "../lib/staffkit.js";
import { fmt, t } from "../i18n.js";
import { session } from "../store.js";

const ROLES = ["admin", "supervisor", "operator", "viewer", "handler"];
const AREA_LEVELS = new Set(["city", "kecamatan", "kelurahan"]);

function scopeText(item, areaNames, pointNames) {
  if (item.area) return `${areaNames.get(item.area) ?? item.area} (${item.area})`;
  if (item.service_point_id) return pointNames.get(item.service_point_id) ?? t("complaints.pointN", { id: item.service_point_id });
  return t("staff.scopeAll");
}

/** Role, area and service point fields; the scope fields show for the role that needs them. */
function scopeFields(prefix, { areas, points, role = "viewer", area = "", point = null }) {
  return html`${field(`${prefix}-role`, "role", t("users.role"), html`<select id="${prefix}-role" name="role" data-role-select aria-describedby="${prefix}-role-error">
      ${ROLES.map((r) => html`<option value="${r}" ${r === role ? html`selected` : ""}>${t(`role.${r}`)}</option>`)}
    </select>`)}
    <div data-scope-for="supervisor" ${role === "supervisor" ? "" : html`hidden`}>
      ${field(`${prefix}-area`, "area", t("users.area"), html`<select id="${prefix}-area" name="area" aria-describedby="${prefix}-area-hint ${prefix}-area-error">
        <option value="">${t("public.choose")}</option>
        ${areas.map((a) => html`<option value="${a.code}" ${a.code === area ? html`selected` : ""}>${a.level === "kelurahan" ? "— " : ""}${a.name} (${a.code})</option>`)}
      </select>`, t("users.areaHint"))}
    </div>
    <div data-scope-for="operator" ${role === "operator" ? "" : html`hidden`}>
      ${field(`${prefix}-point`, "service_point_id", t("users.point"), html`<select id="${prefix}-point" name="service_point_id" aria-describedby="${prefix}-point-error">
        <option value="">${t("public.choose")}</option>
        ${points.map((p) => html`<option value="${p.id}" ${p.id === point ? html`selected` : ""}>${p.name} (${p.area})</option>`)}
      </select>`)}
    </div>`;
}

/** The role's scope from a form: only the field the role uses is sent. */
function scopeOf(form) {
  const role = form.elements.role.value;
  return {
    role,
    area: role === "supervisor" ? form.elements.area.value || null : null,
    service_point_id: role === "operator" && form.elements.service_point_id.value ? Number(form.elements.service_point_id.value) : null,
  };
}

function usersTable(users, areaNames, pointNames) {
  const me = session.state.me;
  return html`<div class="table-wrap" role="region" aria-labelledby="users-caption" tabindex="0">
    <table class="table" data-table="users">
      <caption id="users-caption">${t("users.caption", { count: fmt.number(users.length) })}</caption>
      <thead><tr>
        <th scope="col">${t("users.name")}</th>
        <th scope="col" class="wide-only">${t("users.role")}</th>
        <th scope="col" class="wide-only">${t("users.scope")}</th>
        <th scope="col">${t("users.actions")}</th>
      </tr></thead>
      <tbody>${users.map(
        (u) => html`<tr data-user="${u.id}" data-username="${u.username}" data-active="${String(u.active)}">
          <th scope="row"><span data-display-name>${u.display_name}</span><br><span class="code">${u.username}</span>
            ${u.active ? "" : html` <span class="badge badge-muted" data-inactive>${t("users.inactive")}</span>`}
            <span class="narrow-only"><br>${t(`role.${u.role}`)}</span></th>
          <td class="wide-only" data-role-cell>${t(`role.${u.role}`)}</td>
          <td class="wide-only">${scopeText(u, areaNames, pointNames)}</td>
          <td class="actions">
            <button type="button" class="button small" data-action="edit-user" data-id="${u.id}">${t("users.edit")}</button>
            ${
              u.id === me.id
                ? ""
                : u.active
                  ? html`<button type="button" class="button small" data-action="deactivate" data-id="${u.id}">${t("users.deactivate")}</button>`
                  : html`<button type="button" class="button small" data-action="reactivate" data-id="${u.id}">${t("users.reactivate")}</button>`
            }
          </td>
        </tr>`,
      )}</tbody>
    </table>
  </div>`;
}

function keysTable(keys, areaNames, pointNames) {
  if (!keys.length) return html`<p data-keys="none">${t("keys.none")}</p>`;
  return html`<div class="table-wrap" role="region" aria-labelledby="keys-caption" tabindex="0">
    <table class="table" data-table="keys">
      <caption id="keys-caption">${t("keys.caption")}</caption>
      <thead><tr>
        <th scope="col">${t("keys.name")}</th>
        <th scope="col" class="wide-only">${t("users.role")}</th>
        <th scope="col" class="wide-only">${t("keys.used")}</th>
        <th scope="col">${t("keys.expiry")}</th>
        <th scope="col">${t("users.actions")}</th>
      </tr></thead>
      <tbody>${keys.map(
        (k) => html`<tr data-key="${k.id}" data-revoked="${String(Boolean(k.revoked_at))}">
          <th scope="row"><span data-key-name>${k.name}</span><br><span class="code">${k.prefix}…</span>
            <span class="narrow-only"><br>${t(`role.${k.role}`)}</span></th>
          <td class="wide-only">${t(`role.${k.role}`)}<br><span class="hint">${scopeText(k, areaNames, pointNames)}</span></td>
          <td class="wide-only">${t("keys.createdOn", { date: fmt.dateTime(k.created_at) })}<br>${k.last_used_at ? t("keys.lastUsed", { date: fmt.dateTime(k.last_used_at) }) : t("keys.neverUsed")}</td>
          <td data-expiry-cell>${k.revoked_at ? "–" : expiryText(k)}</td>
          <td class="actions">${
            k.revoked_at
              ? html`<span class="badge badge-muted" data-revoked-at>${t("keys.revokedOn", { date: fmt.dateTime(k.revoked_at) })}</span>`
              : html`<button type="button" class="button small" data-action="revoke" data-id="${k.id}">${t("keys.revoke")}</button>`
          }</td>
        </tr>`,
      )}</tbody>
    </table>
  </div>`;
}

function wireScope(container, signal) {
  on(
    container,
    "change",
    "[data-role-select]",
    (_, select) => {
      const form = select.closest("form");
      for (const block of form.querySelectorAll("[data-scope-for]")) block.hidden = block.dataset.scopeFor !== select.value;
    },
    { signal },
  );
}

export async function render(root, { signal }) {
  const campaign = await currentCampaign();
  const [areaList, points] = await Promise.all([
    campaign ? areasIn(campaign.root_area, signal) : [],
    allPages("/service-points", { signal, maxPages: 10 }),
  ]);
  const areas = areaList.filter((a) => AREA_LEVELS.has(a.level));
  const areaNames = new Map(areas.map((a) => [a.code, a.name]));
  const pointNames = new Map(points.map((p) => [p.id, p.name]));
  let users = [];
  let keys = [];

  paint(
    root,
    html`<h1>${t("users.title")}</h1>
      <p class="lede">${t("users.lede")}</p>
      <section aria-labelledby="users-title">
        <h2 id="users-title">${t("users.listTitle")}</h2>
        <div data-slot="users" aria-live="polite"></div>
        <form class="form" data-form="edit-user" novalidate hidden>
          <h3 data-edit-title tabindex="-1"></h3>
          <input type="hidden" name="id">
          ${field("edit-name", "display_name", t("users.displayName"), html`<input id="edit-name" name="display_name" maxlength="200" required aria-describedby="edit-name-error">`)}
          <div data-edit-scope></div>
          ${field("edit-password", "password", t("users.newPassword"), html`<input id="edit-password" name="password" type="password" autocomplete="new-password" minlength="10" aria-describedby="edit-password-hint edit-password-error">`, t("users.newPasswordHint"))}
          <div data-form-status tabindex="-1"></div>
          <p class="actions"><button type="submit" class="button primary">${t("users.save")}</button>
            <button type="button" class="button" data-action="cancel-edit">${t("users.cancel")}</button></p>
        </form>
      </section>
      <section aria-labelledby="create-user-title">
        <h2 id="create-user-title">${t("users.createTitle")}</h2>
        <form class="form" data-form="create-user" novalidate>
          ${field("user-username", "username", t("signin.username"), html`<input id="user-username" name="username" autocomplete="off" autocapitalize="none" spellcheck="false" maxlength="64" required aria-describedby="user-username-hint user-username-error">`, t("users.usernameHint"))}
          ${field("user-name", "display_name", t("users.displayName"), html`<input id="user-name" name="display_name" maxlength="200" required aria-describedby="user-name-error">`)}
          ${field("user-password", "password", t("signin.password"), html`<input id="user-password" name="password" type="password" autocomplete="new-password" minlength="10" required aria-describedby="user-password-hint user-password-error">`, t("users.passwordHint"))}
          ${scopeFields("user", { areas, points })}
          <div data-form-status tabindex="-1"></div>
          <p><button type="submit" class="button primary">${t("users.create")}</button></p>
        </form>
      </section>
      <section aria-labelledby="keys-title">
        <h2 id="keys-title" tabindex="-1">${t("keys.title")}</h2>
        <p>${t("keys.lede")}</p>
        <div data-slot="secret"></div>
        <div data-slot="keys" aria-live="polite"></div>
        <h3>${t("keys.createTitle")}</h3>
        <form class="form" data-form="create-key" novalidate>
          ${field("key-name", "name", t("keys.name"), html`<input id="key-name" name="name" maxlength="200" required aria-describedby="key-name-hint key-name-error">`, t("keys.nameHint"))}
          ${scopeFields("key", { areas, points, role: "viewer" })}
          <div data-form-status tabindex="-1"></div>
          <p><button type="submit" class="button primary">${t("keys.create")}</button></p>
        </form>
      </section>`,
  );

  const usersSlot = root.querySelector("[data-slot=users]");
  const keysSlot = root.querySelector("[data-slot=keys]");
  const secretSlot = root.querySelector("[data-slot=secret]");
  const editForm = root.querySelector("[data-form=edit-user]");
  const loadUsers = async () => {
    try {
      users = await allPages("/users", { signal, maxPages: 20 });
      paint(usersSlot, usersTable(users, areaNames, pointNames));
    } catch (error) {
      paint(usersSlot, slotError(error));
    }
  };
  const loadKeys = async () => {
    try {
      keys = await allPages("/api-keys", { signal, maxPages: 20 });
      paint(keysSlot, keysTable(keys, areaNames, pointNames));
    } catch (error) {
      paint(keysSlot, slotError(error));
    }
  };
  // Loaded while the handlers are wired: the forms are never live without their handlers.
  const loaded = Promise.all([loadUsers(), loadKeys()]);
  wireScope(root, signal);
  wireSecret(root, secretSlot, signal, () => root.querySelector("#keys-title").focus?.());

  const rowError = (button, error) => {
    if (!(error instanceof ApiError)) throw error;
    button.disabled = false;
    button.closest("td").querySelector("[data-row-error]")?.remove();
    button.insertAdjacentHTML("afterend", html`<span class="field-error" role="alert" data-row-error>${error.detail ?? error.message}</span>`.value);
  };

  // Deactivate / revoke: the first click asks, the second (on the same button) does it.
  const confirmFirst = (button, question) => {
    if (button.dataset.confirm === "yes") return true;
    button.dataset.confirm = "yes";
    button.textContent = question;
    button.classList.add("danger");
    return false;
  };

  on(
    root,
    "click",
    "[data-action=deactivate], [data-action=reactivate]",
    async (_, button) => {
      const active = button.dataset.action === "reactivate";
      if (!active && !confirmFirst(button, t("users.confirmDeactivate"))) return;
      button.disabled = true;
      try {
        await api.patch(`/users/${button.dataset.id}`, { json: { active }, signal });
        await loadUsers();
        root.querySelector(`[data-user="${button.dataset.id}"] [data-action=edit-user]`)?.focus();
      } catch (error) {
        rowError(button, error);
      }
    },
    { signal },
  );

  on(
    root,
    "click",
    "[data-action=edit-user]",
    (_, button) => {
      const user = users.find((u) => u.id === Number(button.dataset.id));
      if (!user) return;
      clearErrors(editForm);
      editForm.hidden = false;
      editForm.elements.id.value = String(user.id);
      editForm.elements.display_name.value = user.display_name;
      editForm.elements.password.value = "";
      paint(editForm.querySelector("[data-edit-title]"), t("users.editTitle", { name: user.display_name, username: user.username }));
      paint(editForm.querySelector("[data-edit-scope]"), scopeFields("edit", { areas, points, role: user.role, area: user.area ?? "", point: user.service_point_id }));
      editForm.querySelector("[data-edit-title]").focus();
    },
    { signal },
  );
  on(root, "click", "[data-action=cancel-edit]", () => (editForm.hidden = true), { signal });

  editForm.addEventListener(
    "submit",
    async (event) => {
      event.preventDefault();
      clearErrors(editForm);
      const id = Number(editForm.elements.id.value);
      const user = users.find((u) => u.id === id);
      const name = editForm.elements.display_name.value.trim();
      const password = editForm.elements.password.value;
      if (!name) return showErrors(editForm, { message: t("form.fix"), fields: { display_name: t("form.required") } });
      const scope = scopeOf(editForm);
      const data = {};
      if (name !== user.display_name) data.display_name = name;
      if (password) data.password = password;
      if (scope.role !== user.role || scope.area !== user.area || scope.service_point_id !== user.service_point_id) Object.assign(data, scope);
      if (!Object.keys(data).length) return showSuccess(editForm, t("complaints.nothingChanged"));
      try {
        const saved = await busy(editForm, () => api.patch(`/users/${id}`, { json: data, signal }));
        await loadUsers();
        editForm.elements.password.value = "";
        showSuccess(editForm, t("users.saved", { name: saved.display_name }));
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        showErrors(editForm, error);
      }
    },
    { signal },
  );

  const createForm = root.querySelector("[data-form=create-user]");
  createForm.addEventListener(
    "submit",
    async (event) => {
      event.preventDefault();
      clearErrors(createForm);
      const f = createForm.elements;
      const data = { username: f.username.value.trim(), display_name: f.display_name.value.trim(), password: f.password.value, ...scopeOf(createForm) };
      const missing = {};
      for (const name of ["username", "display_name", "password"]) if (!data[name]) missing[name] = t("form.required");
      if (data.role === "supervisor" && !data.area) missing.area = t("users.areaNeeded");
      if (data.role === "operator" && !data.service_point_id) missing.service_point_id = t("users.pointNeeded");
      if (Object.keys(missing).length) return showErrors(createForm, { message: t("form.fix"), fields: missing });
      try {
        const user = await busy(createForm, () => api.post("/users", { json: data, signal }));
        createForm.reset();
        for (const block of createForm.querySelectorAll("[data-scope-for]")) block.hidden = true;
        await loadUsers();
        showSuccess(createForm, t("users.created", { name: user.display_name, username: user.username, role: t(`role.${user.role}`) }));
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        showErrors(createForm, error);
      }
    },
    { signal },
  );

  const keyForm = root.querySelector("[data-form=create-key]");
  keyForm.addEventListener(
    "submit",
    async (event) => {
      event.preventDefault();
      clearErrors(keyForm);
      const data = { name: keyForm.elements.name.value.trim(), ...scopeOf(keyForm) };
      const missing = {};
      if (!data.name) missing.name = t("form.required");
      if (data.role === "supervisor" && !data.area) missing.area = t("users.areaNeeded");
      if (data.role === "operator" && !data.service_point_id) missing.service_point_id = t("users.pointNeeded");
      if (Object.keys(missing).length) return showErrors(keyForm, { message: t("form.fix"), fields: missing });
      try {
        const created = await busy(keyForm, () => api.post("/api-keys", { json: data, signal }));
        keyForm.reset();
        for (const block of keyForm.querySelectorAll("[data-scope-for]")) block.hidden = true;
        showSecret(secretSlot, created.key, {
          id: "key-secret",
          title: t("keys.createdTitle", { name: created.name }),
          once: t("keys.once"),
          help: t("keys.onceHelp"),
          label: t("keys.secret"),
          stored: t("keys.stored"),
        });
        await loadKeys();
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        showErrors(keyForm, error);
      }
    },
    { signal },
  );

  on(
    root,
    "click",
    "[data-action=revoke]",
    async (_, button) => {
      if (!confirmFirst(button, t("keys.confirmRevoke"))) return;
      button.disabled = true;
      try {
        await api.delete(`/api-keys/${button.dataset.id}`, { signal });
        await loadKeys();
      } catch (error) {
        rowError(button, error);
      }
    },
    { signal },
  );
  await loaded;
}
