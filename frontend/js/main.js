// Boot: the shell (navigation, language switch, staff link), the session check, then the router.

import { checkSession, signOut } from "./auth.js";
import { LANGUAGES, language, t } from "./i18n.js";
import { on } from "./lib/dom.js";
import { html, render } from "./lib/html.js";
import { navigate, parseHash } from "./lib/view.js";
import { PUBLIC_LINKS, toolsFor } from "./nav.js";
import { refresh, start } from "./router.js";
import { session } from "./store.js";

const LANGUAGE_NAMES = { id: "Bahasa Indonesia", en: "English" };

function isCurrent(path) {
  const current = parseHash().path;
  return current === path || current.startsWith(`${path}/`);
}

function link(path, label) {
  return html`<a href="#${path}" ${isCurrent(path) ? html`aria-current="page"` : ""}>${label}</a>`;
}

function renderShell() {
  const me = session.state.me;
  const other = LANGUAGES.find((lang) => lang !== language.state.lang);
  // The header lists the tools that have a short label; the rest are on the staff home.
  const staffLinks = me ? toolsFor(me.role).filter((tool) => tool.short && !PUBLIC_LINKS.some((l) => l.path === tool.path)) : [];
  render(document.querySelector("[data-shell=skip]"), t("shell.skip"));
  render(
    document.querySelector("[data-shell=nav]"),
    html`<ul>
      ${PUBLIC_LINKS.map((l) => html`<li>${link(l.path, t(l.label))}</li>`)}
      ${me ? html`<li>${link("/staff", t("nav.staff"))}</li>` : ""}
      ${staffLinks.map((tool) => html`<li>${link(tool.path, t(tool.short ?? tool.label))}</li>`)}
    </ul>`,
  );
  document.querySelector("[data-shell=nav]").setAttribute("aria-label", t("shell.menu"));
  render(
    document.querySelector("[data-shell=language]"),
    html`<button type="button" class="button small" data-action="language" data-lang="${other}" lang="${other}">${LANGUAGE_NAMES[other]}</button>`,
  );
  render(
    document.querySelector("[data-shell=footer]"),
    html`<p>${t("shell.footer")}</p>
      <p>${
        me
          ? html`${t("shell.signedInAs", { name: me.name })} · <button type="button" class="linklike" data-action="signout">${t("nav.signout")}</button>`
          : html`<a href="#/staff/signin">${t("nav.signin")}</a>`
      }</p>`,
  );
}

async function boot() {
  document.documentElement.lang = language.state.lang;
  // "#main" would be taken for a route: the skip link moves focus itself.
  on(document.body, "click", "[data-shell=skip]", (event) => {
    event.preventDefault();
    document.getElementById("main").focus();
  });
  on(document.body, "click", "[data-action=language]", (_, button) => language.set({ lang: button.dataset.lang }));
  on(document.body, "click", "[data-action=signout]", async () => {
    await signOut();
    navigate("/progress");
  });
  language.subscribe(() => {
    renderShell();
    refresh({ focus: false }).then(() => document.querySelector("[data-action=language]")?.focus());
  });
  session.subscribe(renderShell);
  addEventListener("hashchange", renderShell);
  renderShell();
  try {
    await checkSession();
  } catch {
    /* the views will show what is wrong */
  }
  await start(document.getElementById("main"));
}

boot();
