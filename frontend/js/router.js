// Hash routes (#/progress/36.74.01), from the table in routes.js: each route names a view module,
// loaded when first needed, and what the caller must be: public, any signed-in staff, or one of
// some roles.
//
// A view module exports `render(root, context)`; context = { params, query, signal, navigate,
// tools }, `tools` being the staff tools the signed-in caller may use (nav.js). The signal aborts
// when the person navigates away, which cancels requests and removes listeners.

import { ApiError, isAbort } from "./api.js";
import { html, render } from "./lib/html.js";
import { failure, loading, navigate, onSameRoute, parseHash } from "./lib/view.js";
import { t } from "./i18n.js";
import { toolsFor } from "./nav.js";
import { ROUTES } from "./routes.js";
import { connectivity, session } from "./store.js";

const DEFAULT_PATH = "/progress";

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

function focusHeading() {
  const heading = root.querySelector("h1");
  if (heading) {
    heading.setAttribute("tabindex", "-1");
    if (navigated) heading.focus({ preventScroll: true });
    document.title = `${heading.textContent.trim()} · Rekam`;
  }
  navigated = true;
}

let firstView = true;

async function show({ focus = true } = {}) {
  const mine = ++generation;
  current?.controller.abort();
  const controller = new AbortController();
  current = { controller };
  const { path, query } = parseHash();
  const route = ROUTES.find((r) => r.pattern.test(path));
  // A new view says for itself whether what it shows is a saved answer; the first one also shows
  // what the boot read for it (main.js asks for the campaign early).
  if ((!firstView || !route) && connectivity.state.cachedAt) connectivity.set({ cachedAt: null });
  if (route) firstView = false;
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
    const me = session.state.me;
    await module.render(root, { params, query, signal: controller.signal, navigate, tools: me ? toolsFor(me.role, me) : [] });
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

/** Start loading the current address's view module, when it is a public one, while the boot
 * still waits for the texts: on a slow network its round trip then overlaps theirs. */
export function prefetchView() {
  const { path } = parseHash();
  const route = ROUTES.find((r) => r.pattern.test(path));
  if (route && route.roles === undefined) route.view().catch(() => {}); // a failure is show()'s to report
}

/** Render the current route again (after a language switch or a sign-in). */
export function refresh({ focus = true } = {}) {
  return show({ focus });
}

export function start(element) {
  root = element;
  onSameRoute(() => refresh());
  addEventListener("hashchange", () => show());
  // "Retry" anywhere in the main area re-renders the current view.
  root.addEventListener("click", (event) => {
    if (event.target.closest("[data-action=retry]")) refresh();
  });
  return show();
}
