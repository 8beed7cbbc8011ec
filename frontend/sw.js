// The service worker: the app works without signal.
//
// - The app shell (every file listed in FILES) is cached on install in a cache named after the
//   release. Files are then always answered from that one cache, so a page never mixes files of
//   two releases. A new release's worker waits until the page asks it to take over ("a new
//   version is available — reload"), then deletes every other release's cache.
// - API reads: network first; the last answer is kept and given back when the network fails,
//   with `X-Rekam-Cached-At` (when it was fetched) so the page can say "as of …, offline".
//   Public answers go to one cache; a signed-in person's answers (only their own day plan, the
//   counter's queue, who they are) go to a cache of their own, which the page deletes at sign-out.
// - Writes are never answered from here: the page's outbox (js/lib/outbox.js) keeps them.
//
// A release changes RELEASE; tests/test_service_worker.py checks that FILES lists every file.

const RELEASE = "2026-12-07.4";
const SHELL = `rekam-shell-${RELEASE}`;
const PUBLIC = "rekam-api-public";
const USER_PREFIX = "rekam-user-";
const CACHED_AT = "X-Rekam-Cached-At";
const USER_HEADER = "X-Rekam-Cache-User";

const FILES = [
  "./",
  "index.html",
  "manifest.webmanifest",
  "css/app.css",
  "icons/icon-192.png",
  "icons/icon-512.png",
  "icons/maskable-512.png",
  "js/api.js",
  "js/auth.js",
  "js/campaigns.js",
  "js/i18n.js",
  "js/i18n/en.js",
  "js/i18n/id.js",
  "js/i18n/problems.en.js",
  "js/i18n/problems.id.js",
  "js/lib/charts.js",
  "js/lib/dom.js",
  "js/lib/forms.js",
  "js/lib/html.js",
  "js/lib/idb.js",
  "js/lib/keys.js",
  "js/lib/notify.js",
  "js/lib/offline.js",
  "js/lib/outbox.js",
  "js/lib/outboxpanel.js",
  "js/lib/public.js",
  "js/lib/qr.js",
  "js/lib/secret.js",
  "js/lib/speak.js",
  "js/lib/staffkit.js",
  "js/lib/view.js",
  "js/main.js",
  "js/nav.js",
  "js/problems.js",
  "js/router.js",
  "js/routes.js",
  "js/store.js",
  "js/views/appointment.js",
  "js/views/board.js",
  "js/views/points/closures.js",
  "js/views/points/crew.js",
  "js/views/points/form.js",
  "js/views/points/index.js",
  "js/views/points/planner.js",
  "js/views/complaints/common.js",
  "js/views/complaints/detail.js",
  "js/views/complaints/inbox.js",
  "js/views/complaints/index.js",
  "js/views/counter.js",
  "js/views/crew.js",
  "js/views/daycount.js",
  "js/views/devices/capacity.js",
  "js/views/devices/index.js",
  "js/views/devices/loans.js",
  "js/views/devices/move.js",
  "js/views/devices/places.js",
  "js/views/devices/plan.js",
  "js/views/devices/where.js",
  "js/views/dispatch.js",
  "js/views/progress.js",
  "js/views/reconciliation.js",
  "js/views/report.js",
  "js/views/signin.js",
  "js/views/staff.js",
  "js/views/tallies.js",
  "js/views/targets.js",
  "js/views/ticket.js",
  "js/views/users.js",
  "js/views/visit.js",
  "js/views/webhooks.js",
  "js/views/where.js",
  "vendor/qrcode-generator/LICENSE",
  "vendor/qrcode-generator/qrcode.js",
];

const API = "/api/v1";
// Reads anyone may make and whose answers are the same for everyone.
const PUBLIC_READS = [
  /^\/campaigns$/,
  /^\/campaigns\/\d+\/progress(?:\/daily)?$/,
  /^\/areas(?:\/[0-9.]+)?$/,
  /^\/schedule$/,
  /^\/queues$/,
  /^\/service-points(?:\/\d+(?:\/queue)?)?$/,
];
// A signed-in person's reads kept for them: who they are, a crew's own day plan, a counter's queue.
const PERSONAL_READS = [
  /^\/auth\/me$/,
  /^\/campaigns$/,
  /^\/mobile-kits\/mine$/,
  /^\/mobile-kits\/\d+\/day-plan$/,
  /^\/service-points\/\d+(?:\/queue)?$/,
];

self.addEventListener("install", (event) => {
  // `cache: "reload"`: the files of this release from the server, not from the HTTP cache.
  event.waitUntil(caches.open(SHELL).then((cache) => cache.addAll(FILES.map((file) => new Request(file, { cache: "reload" })))));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      const names = await caches.keys();
      await Promise.all(names.filter((name) => name.startsWith("rekam-shell-") && name !== SHELL).map((name) => caches.delete(name)));
      await self.clients.claim();
    })(),
  );
});

self.addEventListener("message", (event) => {
  if (event.data?.type === "skip-waiting") self.skipWaiting();
  if (event.data?.type === "release") event.source?.postMessage({ type: "release", release: RELEASE });
});

// The page asks for the app's files by version (v/<version>/js/main.js, api/static.py); this
// release's cache holds each file once under its plain name.
const VERSIONED = /^\/v\/[^/]+\/(.+)$/;

async function fromShell(request) {
  const cache = await caches.open(SHELL);
  const versioned = new URL(request.url).pathname.match(VERSIONED);
  // Every address of the app (/, /index.html, /?x) is the one shell page.
  const hit =
    request.mode === "navigate"
      ? await cache.match("./")
      : await cache.match(versioned ? `./${versioned[1]}` : request, { ignoreSearch: true });
  if (!hit) return fetch(request);
  // A module's relative imports resolve against its response's URL: a kept response carries the
  // plain name, so it is given again as a new response, which takes the versioned address asked.
  return versioned ? new Response(hit.body, { status: hit.status, statusText: hit.statusText, headers: hit.headers }) : hit;
}

async function stamped(response) {
  const headers = new Headers(response.headers);
  headers.set(CACHED_AT, new Date().toISOString());
  return new Response(await response.blob(), { status: response.status, statusText: response.statusText, headers });
}

async function networkFirst(request, cacheName) {
  const cache = await caches.open(cacheName);
  try {
    const response = await fetch(request);
    if (response.ok && response.status === 200) {
      const copy = await stamped(response.clone());
      await cache.put(request.url, copy);
    }
    return response;
  } catch (error) {
    const kept = await cache.match(request.url);
    if (kept) return kept;
    throw error;
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith(`${API}/`)) {
    if ((request.headers.get("Accept") || "").includes("text/event-stream")) return;
    const path = url.pathname.slice(API.length);
    const user = request.headers.get(USER_HEADER);
    if (request.headers.has("Authorization")) {
      if (user && /^\d{1,12}$/.test(user) && PERSONAL_READS.some((re) => re.test(path))) {
        event.respondWith(networkFirst(request, `${USER_PREFIX}${user}`));
      }
      return;
    }
    if (PUBLIC_READS.some((re) => re.test(path))) event.respondWith(networkFirst(request, PUBLIC));
    return;
  }
  if (url.pathname.startsWith("/docs") || url.pathname.startsWith("/redoc") || url.pathname === "/metrics") return;
  event.respondWith(fromShell(request));
});

// Web Push for a ticket ("your turn is near", "your number is called"): the payload is
// {title, body, tag}, already in Bahasa Indonesia.
self.addEventListener("push", (event) => {
  let message = { title: "Rekam", body: "", tag: "rekam" };
  try {
    message = { ...message, ...event.data.json() };
  } catch {
    message.body = event.data ? event.data.text() : "";
  }
  event.waitUntil(self.registration.showNotification(message.title, { body: message.body, tag: message.tag, renotify: true }));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil(self.clients.matchAll({ type: "window" }).then((windows) => (windows[0] ? windows[0].focus() : self.clients.openWindow("./"))));
});
