// Boot: the shell (navigation, language switch, staff link), the session check, then the router.

import { checkSession, signOut } from "./auth.js";
import { loadCampaigns } from "./campaigns.js";
import { LANGUAGES, language, loadCatalogue, switchLanguage, t } from "./i18n.js";
import { on } from "./lib/dom.js";
import { html, render } from "./lib/html.js";
import { applyUpdate, registerWorker, renderBanner } from "./lib/offline.js";
import { outbox, startOutbox } from "./lib/outbox.js";
import { renderBadge } from "./lib/outboxpanel.js";
import { navigate, parseHash } from "./lib/view.js";
import { PUBLIC_LINKS, menuFor } from "./nav.js";
import { prefetchView, refresh, start } from "./router.js";
import { connectivity, session } from "./store.js";

const LANGUAGE_NAMES = { id: "Bahasa Indonesia", en: "English" };

function isCurrent(path) {
  const current = parseHash().path;
  return current === path || current.startsWith(`${path}/`);
}

function link(path, label) {
  return html`<a href="#${path}" ${isCurrent(path) ? html`aria-current="page"` : ""}>${label}</a>`;
}

function navList(me) {
  if (!me) return PUBLIC_LINKS.map((l) => html`<li>${link(l.path, t(l.label))}</li>`);
  // Staff: the staff home, then the groups as disclosure menus (one row at desktop width).
  return html`<li>${link("/staff", t("nav.staff"))}</li>
    ${menuFor(me).map((group) => {
      const current = group.links.some((l) => isCurrent(l.path));
      return html`<li class="nav-group${current ? " current" : ""}" data-group="${group.id}">
        <button type="button" class="nav-group-toggle" data-action="nav-group" aria-expanded="false" aria-controls="nav-group-${group.id}">${t(group.label)}</button>
        <ul class="nav-sub" id="nav-group-${group.id}">${group.links.map((l) => html`<li>${link(l.path, t(l.label))}</li>`)}</ul>
      </li>`;
    })}`;
}

function renderShell() {
  const me = session.state.me;
  const other = LANGUAGES.find((lang) => lang !== language.state.lang);
  render(document.querySelector("[data-shell=skip]"), t("shell.skip"));
  render(
    document.querySelector("[data-shell=nav]"),
    html`<button type="button" class="nav-toggle" data-action="nav-menu" aria-expanded="false" aria-controls="site-menu">${t("shell.menuButton")}</button>
      <ul class="nav-list" id="site-menu">${navList(me)}</ul>`,
  );
  document.querySelector("[data-shell=nav]").setAttribute("aria-label", t("shell.menu"));
  render(
    document.querySelector("[data-shell=account]"),
    me ? html`<button type="button" class="button small" data-action="signout" title="${t("shell.signedInAs", { name: me.name })}">${t("nav.signout")}</button>` : "",
  );
  render(
    document.querySelector("[data-shell=language]"),
    // On a phone the switch shows the language's code, so that the header stays one row.
    html`<button type="button" class="button small" data-action="language" data-lang="${other}" lang="${other}" title="${LANGUAGE_NAMES[other]}"><span class="lang-long">${LANGUAGE_NAMES[other]}</span><span class="lang-short">${other.toUpperCase()}</span></button>`,
  );
  renderBanner(document.querySelector("[data-shell=offline]"));
  renderBadge(document.querySelector("[data-shell=outbox]"));
  render(
    document.querySelector("[data-shell=footer]"),
    html`<p>${t("shell.footer")}</p>
      <p>${me ? t("shell.signedInAs", { name: me.name }) : html`<a href="#/staff/signin">${t("nav.signin")}</a>`}</p>`,
  );
}

/** Open or close a disclosure button's panel; opening a menu group closes the others. */
function toggle(button, open = button.getAttribute("aria-expanded") !== "true") {
  if (open && button.dataset.action === "nav-group") {
    for (const other of document.querySelectorAll("[data-action=nav-group][aria-expanded=true]")) other.setAttribute("aria-expanded", "false");
  }
  button.setAttribute("aria-expanded", String(open));
}

function closeMenus() {
  for (const open of document.querySelectorAll(".site-nav [aria-expanded=true]")) open.setAttribute("aria-expanded", "false");
}

async function boot() {
  document.documentElement.lang = language.state.lang;
  // Nearly every view starts from the campaign: asked now, its answer travels while the texts load
  // (a round trip saved on a slow network). A failure here is the view's to show.
  loadCampaigns().catch(() => {});
  prefetchView(); // and the view's module travels with the texts too
  await loadCatalogue(language.state.lang); // only the active language's texts
  // "#main" would be taken for a route: the skip link moves focus itself.
  on(document.body, "click", "[data-shell=skip]", (event) => {
    event.preventDefault();
    document.getElementById("main").focus();
  });
  on(document.body, "click", "[data-action=language]", (_, button) => switchLanguage(button.dataset.lang));
  on(document.body, "click", "[data-action=nav-menu], [data-action=nav-group]", (_, button) => toggle(button));
  // A click elsewhere, or Escape, closes the open menus (a link's click navigates, which redraws them closed).
  document.addEventListener("click", (event) => {
    if (!event.target.closest(".site-nav")) closeMenus();
  });
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || !document.querySelector(".site-nav [aria-expanded=true]")) return;
    const group = document.activeElement?.closest(".nav-group")?.querySelector("[data-action=nav-group]");
    closeMenus();
    group?.focus();
  });
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
