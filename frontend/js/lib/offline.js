// Working without signal, seen from the page: the service worker's registration and its update
// ("a new version is available — reload": the waiting release takes over only when asked, and
// the page reloads at once, so files of two releases never meet), the offline banner, and what
// sign-out deletes from the phone.

import { html, render } from "./html.js";
import { fmt, t } from "../i18n.js";
import { connectivity } from "../store.js";
import { forgetOutbox } from "./outbox.js";

let waiting = null;
let asked = false;

function offer(worker) {
  waiting = worker;
  connectivity.set({ update: true });
}

/** Register sw.js (scope: the whole app); watch for a new release. */
export async function registerWorker() {
  if (!("serviceWorker" in navigator)) return;
  addEventListener("online", () => connectivity.set({ online: true }));
  addEventListener("offline", () => connectivity.set({ online: false }));
  let registration;
  try {
    registration = await navigator.serviceWorker.register("sw.js", { scope: "./" });
  } catch {
    return; // blocked (private mode, a test) or not allowed: the app works online as before
  }
  if (!registration) return; // blocked without an error (as Playwright does)
  // Reload as soon as the new release the person asked for controls the page.
  navigator.serviceWorker.addEventListener("controllerchange", () => {
    if (asked) location.reload();
  });
  if (registration.waiting && navigator.serviceWorker.controller) offer(registration.waiting);
  registration.addEventListener("updatefound", () => {
    const worker = registration.installing;
    worker?.addEventListener("statechange", () => {
      if (worker.state === "installed" && navigator.serviceWorker.controller) offer(worker);
    });
  });
}

/** The person chose to load the new release. */
export function applyUpdate() {
  if (!waiting) return;
  asked = true;
  waiting.postMessage({ type: "skip-waiting" });
}

/** Sign-out: the person's saved answers (day plan, queue, who they are) and their outbox go. */
export async function forgetPersonal() {
  if ("caches" in window) {
    const names = await caches.keys();
    await Promise.all(names.filter((name) => name.startsWith("rekam-user-")).map((name) => caches.delete(name)));
  }
  await forgetOutbox();
}

/** The banner under the header: offline (with the "as of" time) and a waiting new release. */
export function renderBanner(element) {
  const { online, cachedAt, update } = connectivity.state;
  // Offline: say so, and "as of" when the view shows saved answers. Back online with saved answers
  // still on screen: say how old they are and that a reload brings the latest.
  let banner = "";
  if (!online) {
    banner = html`<p class="offline-banner" role="status" data-offline="${cachedAt ? "cached" : "offline"}">
      <strong>${t("offline.title")}</strong> ${cachedAt ? t("offline.asOf", { time: fmt.dateTime(cachedAt) }) : t("offline.noData")}</p>`;
  } else if (cachedAt) {
    banner = html`<p class="offline-banner" role="status" data-offline="stale">${t("offline.stale", { time: fmt.dateTime(cachedAt) })}</p>`;
  }
  render(
    element,
    html`${banner}${
      update
        ? html`<p class="update-banner" role="status" data-update>${t("offline.update")}
            <button type="button" class="button small" data-action="update">${t("offline.reload")}</button></p>`
        : ""
    }`,
  );
}
