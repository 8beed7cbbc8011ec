// Hash routes (#/progress/36.74.01). Each route names a view module, loaded when first needed, and
// what the caller must be: public, any signed-in staff, or one of some roles.
//
// A view module exports `render(root, context)`; context = { params, query, signal, navigate }.
// The signal aborts when the person navigates away, which cancels requests and removes listeners.

import { ApiError, isAbort } from "./api.js";
import { html, render } from "./lib/html.js";
import { t } from "./i18n.js";
import { session } from "./store.js";

/** Every route of the app. `roles`: undefined = public, [] = any staff, else those roles. */
export const ROUTES = [
  { pattern: /^\/progress(?:\/([0-9.]+))?$/, keys: ["area"], view: () => import("./views/progress.js") },
  { pattern: /^\/staff\/signin$/, keys: [], view: () => import("./views/signin.js") },
  { pattern: /^\/staff$/, keys: [], roles: [], view: () => import("./views/staff.js") },
  { pattern: /^\/staff\/targets$/, keys: [], roles: ["admin", "supervisor"], view: () => import("./views/targets.js") },
  // --- staff work views (feat/fe-staff) ---
  { pattern: /^\/staff\/tallies$/, keys: [], roles: ["admin", "supervisor"], view: () => import("./views/tallies.js") },
  { pattern: /^\/staff\/counter(?:\/(\d+))?$/, keys: ["point"], roles: ["admin", "supervisor", "operator"], view: () => import("./views/counter.js") },
  { pattern: /^\/staff\/dispatch$/, keys: [], roles: ["admin", "supervisor"], view: () => import("./views/dispatch.js") },
  // --- end staff work views ---
  // --- public views: where and when, queue board, taking a number, home visit, report a fee ---
  { pattern: /^\/where$/, keys: [], view: () => import("./views/where.js") },
  { pattern: /^\/board(?:\/(\d{1,9}))?$/, keys: ["id"], view: () => import("./views/board.js") },
  { pattern: /^\/ticket\/(\d{1,9})$/, keys: ["id"], view: () => import("./views/ticket.js") },
  { pattern: /^\/visit(?:\/(track)(?:\/([^/]{1,40}))?)?$/, keys: ["page", "code"], view: () => import("./views/visit.js") },
  { pattern: /^\/report(?:\/(track))?$/, keys: ["page"], view: () => import("./views/report.js") },
  // --- end of public views ---
  // --- devices and operators (feat/fe-devices) ---
  { pattern: /^\/staff\/devices$/, keys: [], roles: ["admin", "supervisor", "viewer"], view: () => import("./views/devices.js") },
  // --- end devices and operators ---
  // --- complaints inbox and users (feat/fe-admin) ---
  { pattern: /^\/staff\/complaints(?:\/(\d{1,9}))?$/, keys: ["id"], roles: ["admin", "handler"], view: () => import("./views/complaints.js") },
  { pattern: /^\/staff\/users$/, keys: [], roles: ["admin"], view: () => import("./views/users.js") },
  // --- end complaints inbox and users ---
  // --- home visits at the door (feat/fe-crew) ---
  { pattern: /^\/staff\/visits$/, keys: [], roles: ["operator"], view: () => import("./views/crew.js") },
  // --- end home visits at the door ---
];

const DEFAULT_PATH = "/progress";

export function parseHash(hash = window.location.hash) {
  const [path, search = ""] = hash.replace(/^#/, "").split("?");
  return { path: path || "/", query: new URLSearchParams(search) };
}

export function navigate(path, { replace = false } = {}) {
  const hash = `#${path}`;
  if (replace) {
    history.replaceState(null, "", hash);
    dispatchEvent(new HashChangeEvent("hashchange"));
  } else if (window.location.hash === hash) {
    refresh();
  } else {
    window.location.hash = hash;
  }
}

/** Whether the signed-in caller may open a route that admits `roles`. */
export function allowed(roles) {
  if (roles === undefined) return true;
  const role = session.state.me?.role;
  if (!role) return false;
  return roles.length === 0 || roles.includes(role);
}

let root;
let current = null; // { controller }
let generation = 0;
// On the first view the browser's own starting point (top of the page, skip link first) is kept;
// after a navigation, focus moves to the new heading so screen readers announce the new view.
let navigated = false;

export function loading() {
  return html`<p class="loading" role="status"><span class="spinner" aria-hidden="true"></span>${t("common.loading")}</p>`;
}

/** A failure a view could not handle: the message, and a retry button. */
export function failure(error) {
  return html`<div class="notice notice-error" role="alert">
    <p><strong>${error?.message || t("error.5xx")}</strong></p>
    ${error?.detail ? html`<p>${error.detail}</p>` : ""}
    <p><button type="button" class="button" data-action="retry">${t("common.retry")}</button></p>
  </div>`;
}

function focusHeading() {
  const heading = root.querySelector("h1");
  if (heading) {
    heading.setAttribute("tabindex", "-1");
    if (navigated) heading.focus({ preventScroll: true });
    document.title = `${heading.textContent.trim()} · Rekam`;
  }
  navigated = true;
}

async function show({ focus = true } = {}) {
  const mine = ++generation;
  current?.controller.abort();
  const controller = new AbortController();
  current = { controller };
  const { path, query } = parseHash();
  const route = ROUTES.find((r) => r.pattern.test(path));
  if (!route) {
    if (path === "/" || path === "") return navigate(DEFAULT_PATH, { replace: true });
    render(root, html`<h1>${t("notFound.title")}</h1><p>${t("notFound.body")}</p><p><a href="#${DEFAULT_PATH}">${t("notFound.back")}</a></p>`);
    return focusHeading();
  }
  if (route.roles !== undefined && !session.state.me) {
    const search = query.toString();
    const next = encodeURIComponent(search ? `${path}?${search}` : path);
    return navigate(`/staff/signin?next=${next}`, { replace: true });
  }
  if (!allowed(route.roles)) {
    render(root, html`<h1>${t("forbidden.title")}</h1><p>${t("forbidden.body")}</p><p><a href="#/staff">${t("forbidden.back")}</a></p>`);
    return focusHeading();
  }
  const match = path.match(route.pattern);
  const params = Object.fromEntries(route.keys.map((key, i) => [key, match[i + 1]]));
  render(root, loading());
  root.setAttribute("aria-busy", "true");
  try {
    const module = await route.view();
    if (mine !== generation) return;
    await module.render(root, { params, query, signal: controller.signal, navigate });
    if (mine !== generation) return;
    if (focus) focusHeading();
    else document.title = `${root.querySelector("h1")?.textContent.trim() ?? ""} · Rekam`;
  } catch (error) {
    if (isAbort(error) || mine !== generation) return;
    if (!(error instanceof ApiError)) console.error(error); // a bug, not a refusal: worth a look in the console
    render(root, html`<h1>${t("error.title")}</h1>${failure(error)}`);
    focusHeading();
  } finally {
    if (mine === generation) root.removeAttribute("aria-busy");
  }
}

/** Render the current route again (after a language switch or a sign-in). */
export function refresh({ focus = true } = {}) {
  return show({ focus });
}

export function start(element) {
  root = element;
  addEventListener("hashchange", () => show());
  // "Retry" anywhere in the main area re-renders the current view.
  root.addEventListener("click", (event) => {
    if (event.target.closest("[data-action=retry]")) refresh();
  });
  return show();
}
