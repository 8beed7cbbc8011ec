// The point form: a new office or weekend service, or a change to one. A change that would cancel
// bookings is first sent as a dry run (the API's `dry_run`): the bookings it would cancel are
// listed, and the staff member confirms before anything is saved.

import { ApiError, api } from "../../api.js";
import { fmt, t } from "../../i18n.js";
import { busy, clearErrors, showErrors, showSuccess } from "../../lib/forms.js";
import { html, render as paint } from "../../lib/html.js";
import { field } from "../../lib/staffkit.js";

export const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
export const KINDS = ["kecamatan_office", "kelurahan_office", "weekend_event", "mobile"];
const OFFICE_LEVELS = new Set(["kecamatan", "kelurahan"]);
const EVENT_LEVELS = new Set(["rw", "rt"]);

/** "08:00–12:00, 13:00–15:00" from [["08:00","12:00"],["13:00","15:00"]]. */
export function windowsText(windows) {
  return (windows ?? []).map(([start, end]) => `${start}–${end}`).join(", ");
}

/** The windows typed in one weekday's box; null when a part is not HH:MM–HH:MM. */
export function parseWindows(text) {
  const parts = text.split(/[,;]/).map((p) => p.trim()).filter(Boolean);
  const windows = parts.map((p) => p.match(/^(\d{1,2})[:.](\d{2})\s*[-–—]\s*(\d{1,2})[:.](\d{2})$/));
  if (windows.some((m) => !m)) return null;
  return windows.map((m) => [`${m[1].padStart(2, "0")}:${m[2]}`, `${m[3].padStart(2, "0")}:${m[4]}`]);
}

/** The bookings a change would cancel (or did), as a list a person can read. */
export function cancelledList(bookings, names) {
  return html`<ul class="cancelled" data-cancelled>${bookings.map(
    (b) => html`<li data-booking="${b.id}">${names.get(b.service_point_id) ?? `#${b.service_point_id}`} · ${fmt.date(b.date)} · ${b.slot_start}–${b.slot_end}</li>`,
  )}</ul>`;
}

/**
 * Send a change that may cancel bookings: first as a dry run; when it would cancel some, list them
 * in `slot` with a confirm button, and send it for real only when that is pressed. `send(dryRun)`
 * makes the request; `done(answer)` shows what was saved.
 */
export async function withPreview({ form, slot, names, send, done, signal }) {
  const preview = await busy(form, () => send(true));
  if (!preview.cancelled_appointments.length) return done(await busy(form, () => send(false)));
  paint(
    slot,
    html`<div class="notice notice-warning" role="alert" data-preview>
      <p><strong>${t("points.previewTitle", { count: fmt.number(preview.cancelled_appointments.length) })}</strong></p>
      ${cancelledList(preview.cancelled_appointments, names)}
      <p><button type="button" class="button primary" data-action="confirm">${t("points.confirm")}</button>
        <button type="button" class="button" data-action="keep">${t("points.keep")}</button></p>
    </div>`,
  );
  slot.querySelector("[data-action=confirm]").focus();
  return new Promise((resolve, reject) => {
    const finish = async (event) => {
      const action = event.target.closest("[data-action]")?.dataset.action;
      if (action !== "confirm" && action !== "keep") return;
      slot.removeEventListener("click", finish);
      paint(slot, "");
      if (action === "keep") return resolve(null);
      try {
        resolve(done(await busy(form, () => send(false))));
      } catch (error) {
        reject(error);
      }
    };
    slot.addEventListener("click", finish, { signal });
  });
}

export function formSection() {
  return html`<section aria-labelledby="form-title">
    <h2 id="form-title" data-slot="form-title">${t("points.newTitle")}</h2>
    <form class="form wide" data-form="point" novalidate>
      <input type="hidden" name="id">
      ${field("point-kind", "kind", t("points.kind"), html`<select id="point-kind" name="kind" aria-describedby="point-kind-error">
        ${KINDS.map((k) => html`<option value="${k}">${t(`where.kind.${k}`)}</option>`)}
      </select>`)}
      ${field("point-name", "name", t("points.name"), html`<input id="point-name" name="name" maxlength="200" required aria-describedby="point-name-error">`)}
      ${field("point-area", "area", t("points.area"), html`<select id="point-area" name="area" required aria-describedby="point-area-hint point-area-error"></select>`, t("points.areaHint"))}
      ${field("point-address", "address", t("points.address"), html`<input id="point-address" name="address" maxlength="500" aria-describedby="point-address-error">`)}
      <div class="pair">
        ${field("point-lat", "latitude", t("points.latitude"), html`<input id="point-lat" name="latitude" inputmode="decimal" aria-describedby="point-lat-error">`)}
        ${field("point-lon", "longitude", t("points.longitude"), html`<input id="point-lon" name="longitude" inputmode="decimal" aria-describedby="point-lon-error">`)}
      </div>
      <p class="hint" data-slot="map"></p>
      <div class="pair">
        ${field("point-counters", "counters", t("points.counters"), html`<input id="point-counters" name="counters" type="number" min="0" max="50" value="1" aria-describedby="point-counters-error">`)}
        ${field("point-minutes", "service_minutes", t("points.minutes"), html`<input id="point-minutes" name="service_minutes" type="number" min="1" max="240" value="10" aria-describedby="point-minutes-error">`)}
      </div>
      <fieldset data-part="office">
        <legend>${t("points.hours")}</legend>
        <p class="hint" id="hours-hint">${t("points.hoursHint")}</p>
        ${WEEKDAYS.map((d) => field(`hours-${d}`, `opening_hours.${d}`, t(`weekday.${d}`), html`<input id="hours-${d}" name="opening_hours.${d}" aria-describedby="hours-hint hours-${d}-error">`))}
      </fieldset>
      <fieldset data-part="event" hidden>
        <legend>${t("points.event")}</legend>
        ${field("event-date", "event_date", t("points.eventDate"), html`<input id="event-date" name="event_date" type="date" aria-describedby="event-date-error">`)}
        <div class="pair">
          ${field("event-start", "event_start", t("dispatch.from"), html`<input id="event-start" name="event_start" type="time" value="08:00" aria-describedby="event-start-error">`)}
          ${field("event-end", "event_end", t("dispatch.to"), html`<input id="event-end" name="event_end" type="time" value="13:00" aria-describedby="event-end-error">`)}
        </div>
      </fieldset>
      <p><label class="check"><input type="checkbox" name="active" checked> ${t("points.active")}</label></p>
      <div data-form-status tabindex="-1"></div>
      <div data-slot="preview"></div>
      <p><button type="submit" class="button primary">${t("points.save")}</button>
        <button type="button" class="button" data-action="new-point">${t("points.new")}</button></p>
    </form>
  </section>`;
}

/** Show the parts of the form that fit the kind, and the areas a point of that kind may be in. */
export function showKind(form, areas) {
  const kind = form.elements.kind.value;
  const isEvent = kind === "weekend_event";
  form.querySelector("[data-part=office]").hidden = isEvent;
  form.querySelector("[data-part=event]").hidden = !isEvent;
  const levels = isEvent ? EVENT_LEVELS : OFFICE_LEVELS;
  const chosen = form.elements.area.value;
  paint(
    form.elements.area,
    html`<option value="">${t("points.chooseArea")}</option>${areas.filter((a) => levels.has(a.level)).map(
      (a) => html`<option value="${a.code}">${a.name} (${a.code})</option>`,
    )}`,
  );
  form.elements.area.value = chosen;
}

/** Fill the form with a point (to change it) or with a draft (new; e.g. from the planner). */
export function fill(form, point, areas) {
  clearErrors(form);
  const f = form.elements;
  f.id.value = point.id ?? "";
  f.kind.value = point.kind ?? "kecamatan_office";
  f.kind.disabled = Boolean(point.id); // the kind of a point never changes
  showKind(form, areas);
  f.name.value = point.name ?? "";
  f.area.value = point.area ?? "";
  f.address.value = point.address ?? "";
  f.latitude.value = point.latitude ?? "";
  f.longitude.value = point.longitude ?? "";
  f.counters.value = point.counters ?? 1;
  f.service_minutes.value = point.service_minutes ?? 10;
  for (const d of WEEKDAYS) f[`opening_hours.${d}`].value = windowsText(point.opening_hours?.[d]);
  f.event_date.value = point.event_date ?? "";
  f.event_start.value = point.event_start ?? "08:00";
  f.event_end.value = point.event_end ?? "13:00";
  f.active.checked = point.active ?? true;
  paint(form.querySelector("[data-slot=preview]"), "");
}

function number(value) {
  const text = value.trim().replace(",", ".");
  return text === "" ? null : Number(text);
}

/** The request body, or the fields typed wrong (checked here so the person is told at once). */
export function readForm(form) {
  const f = form.elements;
  const wrong = {};
  const data = {
    name: f.name.value.trim(),
    area: f.area.value,
    address: f.address.value.trim() || null,
    latitude: number(f.latitude.value),
    longitude: number(f.longitude.value),
    counters: Number(f.counters.value),
    service_minutes: Number(f.service_minutes.value),
    active: f.active.checked,
  };
  for (const name of ["name", "area"]) if (!data[name]) wrong[name] = t("form.required");
  for (const name of ["latitude", "longitude"]) if (Number.isNaN(data[name])) wrong[name] = t("points.notNumber");
  if (f.kind.value === "weekend_event") {
    Object.assign(data, { event_date: f.event_date.value || null, event_start: f.event_start.value, event_end: f.event_end.value });
    if (!data.event_date) wrong.event_date = t("form.required");
  } else {
    data.opening_hours = {};
    for (const d of WEEKDAYS) {
      const windows = parseWindows(f[`opening_hours.${d}`].value);
      if (windows === null) wrong[`opening_hours.${d}`] = t("points.hoursWrong");
      else if (windows.length) data.opening_hours[d] = windows;
    }
  }
  return { data, wrong };
}

/** Wire the form: create, or change with a preview of the bookings it cancels. */
export function wireForm(form, { areas, names, signal, saved }) {
  form.elements.kind.addEventListener("change", () => showKind(form, areas), { signal });
  const mapSlot = form.querySelector("[data-slot=map]");
  const showMap = () => {
    const lat = number(form.elements.latitude.value);
    const lon = number(form.elements.longitude.value);
    const ok = lat !== null && lon !== null && !Number.isNaN(lat) && !Number.isNaN(lon);
    paint(mapSlot, ok ? html`<a href="https://www.openstreetmap.org/?mlat=${lat}&mlon=${lon}#map=18/${lat}/${lon}" rel="noopener" target="_blank" data-map>${t("points.checkMap")}</a>` : "");
  };
  form.addEventListener("input", (event) => ["latitude", "longitude"].includes(event.target.name) && showMap(), { signal });
  form.addEventListener(
    "submit",
    async (event) => {
      event.preventDefault();
      clearErrors(form);
      const { data, wrong } = readForm(form);
      if (Object.keys(wrong).length) return showErrors(form, { message: t("form.fix"), fields: wrong });
      const id = form.elements.id.value;
      const slot = form.querySelector("[data-slot=preview]");
      try {
        if (!id) {
          const point = await busy(form, () => api.post("/service-points", { json: { ...data, kind: form.elements.kind.value }, signal }));
          await saved(point, []); // shows the new point in the form: the message comes after
          return showSuccess(form, t("points.created", { name: point.name }));
        }
        await withPreview({
          form,
          slot,
          names,
          signal,
          send: (dryRun) => api.patch(`/service-points/${id}`, { json: data, params: dryRun ? { dry_run: true } : {}, signal }),
          done: async (point) => {
            await saved(point, point.cancelled_appointments);
            showSuccess(form, t("points.changed", { name: point.name, count: fmt.number(point.cancelled_appointments.length) }));
          },
        });
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        showErrors(form, error);
      }
    },
    { signal },
  );
  return showMap;
}
