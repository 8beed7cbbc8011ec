// The staff home: who is signed in, their scope, and the tools their role may use.

import { api } from "../api.js";
import { html, render as paint } from "../lib/html.js";
import { t } from "../i18n.js";
import { session } from "../store.js";

async function scopeText(me, signal) {
  if (me.area) {
    const area = await api.get(`/areas/${me.area}`, { signal }).catch(() => null);
    return t("staff.scopeArea", { area: area ? `${area.name} (${me.area})` : me.area });
  }
  if (me.service_point_id) return t("staff.scopePoint", { id: me.service_point_id });
  return t("staff.scopeAll");
}

export async function render(root, { signal, tools }) {
  const me = session.state.me;
  const scope = await scopeText(me, signal);
  paint(
    root,
    html`<h1>${t("staff.title", { name: me.name })}</h1>
      <p class="lede"><span data-role="${me.role}">${t(`role.${me.role}`)}</span> · ${scope}</p>
      <h2>${t("staff.tools")}</h2>
      <ul class="cards">
        ${tools.map(
          (tool) => html`<li class="card">
            <h3><a href="#${tool.path}">${t(tool.label)}</a></h3>
            <p>${t(tool.description)}</p>
          </li>`,
        )}
      </ul>`,
  );
}
