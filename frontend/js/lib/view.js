// What the router and the views share: the loading state, a failure with its retry button, and
// moving to another route. Views import these from here, never from the router.

import { html } from "./html.js";
import { t } from "../i18n.js";

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

export function parseHash(hash = window.location.hash) {
  const [path, search = ""] = hash.replace(/^#/, "").split("?");
  return { path: path || "/", query: new URLSearchParams(search) };
}

// Going to the route already shown changes no hash, so no "hashchange": the router says how to
// show it again (router.start registers its refresh).
let again = () => dispatchEvent(new HashChangeEvent("hashchange"));

export function onSameRoute(handler) {
  again = handler;
}

export function navigate(path, { replace = false } = {}) {
  const hash = `#${path}`;
  if (replace) {
    history.replaceState(null, "", hash);
    dispatchEvent(new HashChangeEvent("hashchange"));
  } else if (window.location.hash === hash) {
    again();
  } else {
    window.location.hash = hash;
  }
}
