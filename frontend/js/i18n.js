// Interface text and number/date formats. Bahasa Indonesia first, English second; every string
// the interface shows lives in js/i18n/<lang>.js, nowhere else. Only the active language's
// catalogue is loaded (a weak network pays for one): `loadCatalogue` before boot and before a switch.

import { Store, keep, kept } from "./store.js";

// Each language is two files: the interface's texts and the words for the API's codes (problems.<lang>.js).
const LOADERS = {
  id: () => Promise.all([import("./i18n/id.js"), import("./i18n/problems.id.js")]),
  en: () => Promise.all([import("./i18n/en.js"), import("./i18n/problems.en.js")]),
};
const CATALOGUES = {};
const INTL_LOCALES = { id: "id-ID", en: "en-GB" };
const LANG_KEY = "rekam.lang";

function storedLang() {
  const lang = kept(LANG_KEY);
  return lang !== null && lang in LOADERS ? lang : "id";
}

export const language = new Store({ lang: storedLang() });

language.subscribe(({ lang }) => {
  document.documentElement.lang = lang;
  keep(LANG_KEY, lang);
});

export const LANGUAGES = Object.keys(LOADERS);

/** Load `lang`'s catalogue once (the language's texts); call it before `language.set`. */
export async function loadCatalogue(lang) {
  CATALOGUES[lang] ??= Object.assign({}, ...(await LOADERS[lang]()).map((module) => module.default));
  return CATALOGUES[lang];
}

/** Switch the interface language, its catalogue loaded first. */
export async function switchLanguage(lang) {
  if (!(lang in LOADERS)) return;
  await loadCatalogue(lang);
  language.set({ lang });
}

/** The text for `key`, with `{name}` placeholders filled from `params`. */
export function t(key, params = {}) {
  const text = CATALOGUES[language.state.lang]?.[key] ?? CATALOGUES.id?.[key];
  if (text === undefined) {
    console.warn(`i18n: no text for ${key}`);
    return key;
  }
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in params ? String(params[name]) : `{${name}}`));
}

/** Whether the catalogue has `key` (for texts keyed by values from the API, like a level). */
export function has(key) {
  return key in (CATALOGUES[language.state.lang] ?? {});
}

const cache = new Map();
function formatter(kind, options) {
  const locale = INTL_LOCALES[language.state.lang];
  const key = `${locale}|${kind}|${JSON.stringify(options)}`;
  if (!cache.has(key)) {
    cache.set(key, kind === "number" ? new Intl.NumberFormat(locale, options) : new Intl.DateTimeFormat(locale, options));
  }
  return cache.get(key);
}

// API dates are calendar dates (YYYY-MM-DD) in the campaign's zone: read and print them in UTC so
// that no browser time zone can move them by a day.
function parseDate(iso) {
  const [y, m, d] = String(iso).split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d));
}

/** `iso` moved by `days` (calendar dates, no time zone can shift them). */
export function addDays(iso, days) {
  const d = parseDate(iso);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

export const fmt = {
  number: (value) => formatter("number", {}).format(value),
  compact: (value) => formatter("number", { notation: "compact", maximumFractionDigits: 1 }).format(value),
  // The API gives every figure at the precision it is shown, already rounded (api/rounding.py):
  // these format it as it is, with at most one decimal, and never round it a second time.
  decimal: (value) => formatter("number", { maximumFractionDigits: 1 }).format(value),
  /** `value` in percent units as the API gives it (87.1 → "87,1%"). */
  percent: (value) => formatter("number", { style: "percent", minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(value / 100),
  /** "2 Januari 2027": a date inside a sentence (messages from the API's codes). */
  longDate: (iso) => formatter("date", { day: "numeric", month: "long", year: "numeric", timeZone: "UTC" }).format(parseDate(iso)),
  date: (iso) => formatter("date", { weekday: "long", day: "numeric", month: "long", year: "numeric", timeZone: "UTC" }).format(parseDate(iso)),
  mediumDate: (iso) => formatter("date", { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" }).format(parseDate(iso)),
  shortDate: (iso) => formatter("date", { day: "numeric", month: "short", timeZone: "UTC" }).format(parseDate(iso)),
  // One style for clock times and money, set here and used everywhere: Indonesian writes 09.00 and
  // 09.00–10.00 (English 09:00–10:00), and rupiah as Rp50.000 (no space, as on price tags).
  /** "HH:MM" from the API (a local time of the campaign's zone) → "09.00" / "09:00". */
  time: (hhmm) => (hhmm ? String(hhmm).slice(0, 5).replace(":", language.state.lang === "id" ? "." : ":") : ""),
  timeRange: (from, to) => `${fmt.time(from)}–${fmt.time(to)}`,
  money: (amount) => `Rp${formatter("number", {}).format(amount)}`,
  dateTime: (iso) => formatter("date", { dateStyle: "medium", timeStyle: "short", timeZone: "Asia/Jakarta" }).format(new Date(iso)),
};

export { parseDate };

let jakartaDay;

/** Today's date (YYYY-MM-DD) in Asia/Jakarta, the campaign's zone. */
export function todayInJakarta() {
  // One formatter, made once: a DateTimeFormat with a time zone costs milliseconds to make on a
  // cheap phone, and the public views ask for today many times while they draw.
  jakartaDay ??= new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Jakarta" });
  return jakartaDay.format(new Date());
}

/** Whole days from `fromIso` to `toIso`. */
export function daysBetween(fromIso, toIso) {
  return Math.round((parseDate(toIso) - parseDate(fromIso)) / 86_400_000);
}
