// The words for the API's codes: a problem, a field error, a rejected import row, a plan's reason or
// a history entry comes with a stable `code` and its `params`; the text is the interface's own
// (js/i18n/problems.<lang>.js), in the person's language, never the server's English. A code this
// version does not know yet falls back to the server's text, which follows Accept-Language.

import { fmt, has, t } from "./i18n.js";

// Params that are words (a status, what kind of thing): as the server's api/messages.py TERM_PARAMS.
const TERM_PARAMS = {
  status: "status", target: "status", allowed: "status", move: "move", what: "what", level: "level", parent_level: "level",
  kind: "kind", finish_before: "finish", finish_after: "finish", source_finish: "finish",
};
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

function word(name, value) {
  const key = `term.${TERM_PARAMS[name]}.${value}`;
  return TERM_PARAMS[name] && has(key) ? t(key) : value;
}

/** One param as the person reads it: dates and numbers through fmt, words through the catalogue. */
function shown(name, value) {
  if (Array.isArray(value)) return value.length ? value.map((v) => shown(name, v)).join(", ") : "—";
  if (typeof value === "number") return fmt.number(value);
  if (typeof value === "string" && ISO_DATE.test(value)) return fmt.longDate(value);
  return typeof value === "string" ? word(name, value) : String(value);
}

/** Whether the interface has words for `code`. */
export function knows(code) {
  return typeof code === "string" && has(`problem.${code}`);
}

/** The text for `code` with `params` filled in; `fallback` (the server's text) for a code not known here. */
export function describe(code, params, fallback = null) {
  if (!knows(code)) return fallback ?? t("error.invalidValue");
  const values = Object.fromEntries(Object.entries(params || {}).map(([name, value]) => [name, shown(name, value)]));
  const text = t(`problem.${code}`, values);
  // A sentence that opens with a param ("{what} ini tidak ada") still opens with a capital.
  return t(`problem.${code}`).startsWith("{") ? text.charAt(0).toUpperCase() + text.slice(1) : text;
}
