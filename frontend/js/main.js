// Boot: the shell (navigation, language switch, staff link), the session check, then the router.

import { checkSession, signOut } from "./auth.js";
import { LANGUAGES, language, loadCatalogue, switchLanguage, t } from "./i18n.js";
import { on } from "./lib/dom.js";
import { html, render } from "./lib/html.js";
import { applyUpdate, registerWorker, renderBanner } from "./lib/offline.js";
import { outbox, startOutbox } from "./lib/outbox.js";
import { renderBadge } from "./lib/outboxpanel.js";
import { navigate, parseHash } from "./lib/view.js";
import { PUBLIC_LINKS, toolsFor } from "./nav.js";
import { refresh, start } from "./router.js";
import { connectivity, session } from "./store.js";

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
  renderBanner(document.querySelector("[data-shell=offline]"));
  renderBadge(document.querySelector("[data-shell=outbox]"));
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
  await loadCatalogue(language.state.lang); // only the active language's texts
  // "#main" would be taken for a route: the skip link moves focus itself.
  on(document.body, "click", "[data-shell=skip]", (event) => {
    event.preventDefault();
    document.getElementById("main").focus();
  });
  on(document.body, "click", "[data-action=language]", (_, button) => switchLanguage(button.dataset.lang));
  on(document.body, "click", "[data-action=signout]", async () => {
    // Writes not sent yet are deleted with the rest: the person decides.
    const waiting = outbox.state.pending.length;
    if (waiting && !window.confirm(t("outbox.signoutConfirm", { count: waiting }))) return;
    await signOut();
    navigate("/progress");
  });
  language.subscribe(() => {
    renderShell();
    refresh({ focus: false }).then(() => document.querySelector("[data-action=language]")?.focus());
  });
  on(document.body, "click", "[data-action=update]", () => applyUpdate());
  session.subscribe(renderShell);
  connectivity.subscribe(() => renderBanner(document.querySelector("[data-shell=offline]")));
  outbox.subscribe(() => renderBadge(document.querySelector("[data-shell=outbox]")));
  addEventListener("hashchange", renderShell);
  renderShell();
  try {
    await checkSession();
  } catch {
    /* the views will show what is wrong */
  }
  startOutbox();
  await start(document.getElementById("main"));
  registerWorker();
}

boot();
