// The one way the app talks to the API: JSON in and out, the staff bearer token, and every
// failure turned into an ApiError with a human message (never raw JSON, never a blank page).

import { language, t } from "./i18n.js";
import { describe, knows } from "./problems.js";
import { connectivity, session } from "./store.js";

const BASE = "/api/v1";
const TIMEOUT_MS = 20_000;

export class ApiError extends Error {
  /**
   * @param {object} o
   * @param {number} o.status HTTP status, 0 when the server could not be reached
   * @param {string} o.message what to tell the person, in the interface language
   * @param {string|null} o.detail the API's own explanation, when it gave one
   * @param {Object<string,string>} o.fields messages per input field name
   * @param {Array<{row:number, field:string|null, message:string}>} o.rows messages per CSV/list row
   * @param {Array<string>} o.other messages that name neither a field nor a row
   * @param {object|null} o.problem the problem+json body as sent (e.g. a rejected import's `summary`)
   */
  constructor({ status, message, detail = null, fields = {}, rows = [], other = [], retryAfter = null, problem = null }) {
    super(message);
    this.name = "ApiError";
    Object.assign(this, { status, detail, fields, rows, other, retryAfter, problem });
  }

  get isNotFound() {
    return this.status === 404;
  }
}

function statusMessage(status, retryAfter) {
  if (status === 0) return t("error.network");
  if (status === 401) return t(session.state.token ? "error.401.expired" : "error.401");
  if (status === 429) return t("error.429", { seconds: retryAfter ?? 60 });
  if (status === 503) return t("error.503");
  if (status >= 500) return t("error.5xx");
  const known = [400, 403, 404, 409, 413, 415, 422];
  return t(known.includes(status) ? `error.${status}` : "error.other");
}

// Validation items name the field as e.g. "as_of" or "targets.0.area"; the first part is the input's name.
// Each item's words come from its code (js/problems.js); the server's message only for a code unknown here.
function splitItems(items) {
  const fields = {};
  const rows = [];
  const other = [];
  for (const item of Array.isArray(items) ? items : []) {
    const message = describe(item?.code, item?.params, typeof item?.message === "string" ? item.message : null);
    if (Number.isInteger(item?.row)) rows.push({ row: item.row, field: item.field ?? null, message });
    else if (item?.field) fields[item.field] ??= message;
    else other.push(message);
  }
  rows.sort((a, b) => a.row - b.row);
  return { fields, rows, other };
}

async function toError(response) {
  const retryAfter = Number(response.headers.get("Retry-After")) || null;
  const type = response.headers.get("Content-Type") || "";
  let problem = null;
  if (type.includes("json")) {
    try {
      problem = await response.json();
    } catch {
      problem = null; // a broken body still gets the status's message
    }
  }
  // Server-side failures: the person cannot act on the details, so they get the plain message only.
  // A malformed request's detail only repeats the status's message: its items say what is wrong.
  const serverDetail = typeof problem?.detail === "string" ? problem.detail : null;
  const repeats = problem?.code === "validation.invalid" && Array.isArray(problem.errors) && problem.errors.length > 0;
  const detail = response.status >= 500 || repeats ? null : knows(problem?.code) ? describe(problem.code, problem.params) : serverDetail;
  const message = statusMessage(response.status, retryAfter);
  // A token the server no longer accepts (expired, revoked) is dropped so that the app shows sign-in.
  if (response.status === 401 && session.state.token) session.set({ token: null, me: null });
  return new ApiError({ status: response.status, message, detail, retryAfter, problem: response.status < 500 ? problem : null, ...splitItems(problem?.errors) });
}

function urlFor(path, params) {
  const url = new URL(BASE + path, window.location.origin);
  for (const [key, value] of Object.entries(params || {})) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(key, value);
  }
  return url;
}

/** An answer the service worker gave from its cache says when it was fetched: the view is "as of" then. */
function noteFreshness(method, response) {
  const cachedAt = response.headers.get("X-Rekam-Cached-At");
  if (cachedAt) {
    const older = connectivity.state.cachedAt && connectivity.state.cachedAt < cachedAt ? connectivity.state.cachedAt : cachedAt;
    if (older !== connectivity.state.cachedAt || connectivity.state.online) connectivity.set({ online: false, cachedAt: older });
    return;
  }
  // Surely from the server: a write, or a read no cache may keep (a public read with a max-age may
  // come from the browser's HTTP cache without any network; navigator.onLine is no proof either).
  const fromServer = method !== "GET" || !/max-age=[1-9]/.test(response.headers.get("Cache-Control") || "");
  if (!connectivity.state.online && fromServer) connectivity.set({ online: true });
}

/**
 * request("GET", "/campaigns", { params, json, form, text, contentType, signal, headers })
 * Resolves to the parsed JSON (null for 204); rejects with ApiError.
 */
export async function request(method, path, { params, json, form, text, contentType, signal, headers: extra } = {}) {
  // The server words what it writes (a problem's title and detail) in the interface's language.
  const headers = { Accept: "application/json, application/problem+json", "Accept-Language": language.state.lang, ...extra };
  if (session.state.token) headers.Authorization = `Bearer ${session.state.token}`;
  // The service worker keeps a few of a signed-in person's answers in a cache of their own.
  if (session.state.token && session.state.me?.id && method === "GET") headers["X-Rekam-Cache-User"] = String(session.state.me.id);
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    body = new URLSearchParams(form);
  } else if (text !== undefined) {
    headers["Content-Type"] = contentType || "text/plain";
    body = text;
  }
  const timeout = AbortSignal.timeout(TIMEOUT_MS);
  const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
  let response;
  try {
    // Public reads (progress, schedule) may be kept for 15 s (Cache-Control from the API). Signed-in
    // staff, who may just have changed the figures, always revalidate: a 304 (which the browser turns
    // into its cached 200) when nothing changed, the new answer otherwise.
    const cache = session.state.token ? "no-cache" : "default";
    response = await fetch(urlFor(path, params), { method, headers, body, signal: combined, credentials: "same-origin", cache });
  } catch (error) {
    if (signal?.aborted) throw error; // the view went away: nobody to tell
    if (connectivity.state.online) connectivity.set({ online: false });
    throw new ApiError({ status: 0, message: t("error.network") });
  }
  noteFreshness(method, response);
  if (!response.ok) throw await toError(response);
  if (response.status === 204) return null;
  try {
    return await response.json();
  } catch {
    throw new ApiError({ status: response.status, message: t("error.5xx") });
  }
}

export const api = {
  get: (path, options) => request("GET", path, options),
  post: (path, options) => request("POST", path, options),
  put: (path, options) => request("PUT", path, options),
  patch: (path, options) => request("PATCH", path, options),
  delete: (path, options) => request("DELETE", path, options),
};

/** Whether an error is one the person should see (not a navigation that cancelled a request). */
export function isAbort(error) {
  return error?.name === "AbortError";
}
