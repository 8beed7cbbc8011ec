// Small helpers shared by the staff work views (tallies, counter, dispatch, devices): labelled
// fields with an error slot, every page of a list, the areas of a scope, dates around today.

import { ApiError, api } from "../api.js";
import { fieldBlock } from "./forms.js";
import { html } from "./html.js";

/** `fieldBlock` with positional arguments, as the staff views write it. */
export function field(id, name, label, control, hint) {
  return fieldBlock({ id, name, label, input: control, hint });
}

/** Every item of a paginated list (up to `maxPages` pages). */
export async function allPages(path, { params = {}, signal, maxPages = 20, limit = 200 } = {}) {
  const items = [];
  let cursor = null;
  for (let page = 0; page < maxPages; page += 1) {
    const answer = await api.get(path, { params: { ...params, limit, cursor }, signal });
    items.push(...answer.items);
    cursor = answer.next_cursor;
    if (!cursor) break;
  }
  return items;
}

/** The areas of a subtree, in code order. */
export async function areasIn(scope, signal) {
  const areas = await allPages("/areas", { params: { area: scope }, signal, limit: 500, maxPages: 10 });
  return areas.sort((a, b) => a.code.localeCompare(b.code, "en", { numeric: true }));
}

/** Whole numbers as people type them: "56.458", "56,458", "56 458" or "56458"; null otherwise. */
export function parseCount(text) {
  const digits = String(text).replace(/[.,\s]/g, "");
  return /^\d{1,12}$/.test(digits) ? Number(digits) : null;
}

/** A slot's error as a short alert (for parts of a page that load on their own). */
export function slotError(error) {
  if (!(error instanceof ApiError)) throw error;
  return html`<div class="notice notice-error" role="alert"><p><strong>${error.message}</strong></p>${error.detail ? html`<p>${error.detail}</p>` : ""}</div>`;
}
