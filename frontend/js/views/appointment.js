// Appointments (public): #/appointment/<point> picks a day and a slot and books it with the NIK
// (one booking per NIK per day, where the campaign caps it); #/appointment/c/<code> is the booking
// itself: its code and a QR code of this page (show it at the counter), cancel, and for staff of
// the point on the day, check in (the booking becomes a number that goes first from its slot).
// Bookings made on this phone are kept (localStorage, lib/public.js), like tickets, and listed on "where".

import { api } from "../api.js";
import { busy, clearErrors, fieldBlock, showErrors } from "../lib/forms.js";
import { html, render as paint } from "../lib/html.js";
import { on } from "../lib/dom.js";
import { addDays, fmt, t, todayInJakarta } from "../i18n.js";
import { clearOnEdit, codeBox, keepBooking, wireCopy } from "../lib/public.js";
import { pageUrl, showQr } from "../lib/qr.js";
import { session } from "../store.js";
import { currentCampaign } from "../campaigns.js";
import { failure, navigate } from "../lib/view.js";

const DAYS = 14;
const COUNTER_ROLES = ["admin", "supervisor", "operator"];

// A select, not a list of buttons: an office's day has dozens of slots, a phone is 360 px wide.
function slotList(slots, day) {
  const open = slots.filter((s) => s.available);
  if (!open.length) return html`<p class="notice notice-warning" data-no-slots>${t("appointment.noSlots")}</p>`;
  return html`<div class="field">
    <label for="booking-start">${t("appointment.slot")}</label>
    <select id="booking-start" name="start" data-slots="${day}" aria-describedby="booking-start-error">
      <option value="">${t("public.choose")}</option>
      ${open.map((s) => html`<option value="${s.start}">${s.start}–${s.end} · ${t("appointment.seats", { n: fmt.number(s.available) })}</option>`)}
    </select>
    <p class="field-error" id="booking-start-error" data-error-for="start" hidden></p>
  </div>`;
}

// The API's refusals in the interface language, by their stable code.
function explain(error) {
  const code = error.problem?.code;
  const fields = { ...(error.fields || {}) };
  if (code === "appointment.nik_booked") {
    error.message = t("appointment.nikBooked");
    error.detail = null;
    fields.nik = t("appointment.nikBooked");
  } else if (fields.nik) {
    error.detail = null;
    fields.nik = t("appointment.nikInvalid");
  }
  if (fields.start) {
    error.detail = null;
    fields.start = t("appointment.slotTaken");
  }
  error.fields = fields;
  return error;
}

async function renderBooking(root, { id, signal }) {
  const [board, campaign] = await Promise.all([api.get(`/service-points/${id}/queue`, { signal }), currentCampaign({ signal }).catch(() => null)]);
  // The NIK is asked only where the campaign caps bookings per NIK, and never of staff booking at a counter.
  const askNik = campaign?.cap_bookings_per_nik !== false && !COUNTER_ROLES.includes(session.state.me?.role);
  const today = todayInJakarta();
  const days = Array.from({ length: DAYS }, (_, n) => addDays(today, n));
  paint(
    root,
    html`<h1>${t("appointment.title")}</h1>
      <p class="lede">${board.name}</p>
      <p>${t("appointment.lede")}</p>
      <form class="form narrow" data-form="booking" novalidate>
        <div class="field">
          <label for="booking-date">${t("appointment.day")}</label>
          <select id="booking-date" name="date" aria-describedby="booking-date-error">
            ${days.map((d) => html`<option value="${d}">${fmt.date(d)}</option>`)}
          </select>
          <p class="field-error" id="booking-date-error" data-error-for="date" hidden></p>
        </div>
        <div data-slot-list aria-live="polite"></div>
        ${askNik ? fieldBlock({
          id: "booking-nik",
          name: "nik",
          label: t("appointment.nik"),
          hint: t("appointment.nikHint"),
          input: html`<input id="booking-nik" name="nik" inputmode="numeric" autocomplete="off" maxlength="16" aria-describedby="booking-nik-hint booking-nik-error" />`,
        }) : ""}
        <div data-form-status tabindex="-1"></div>
        <p><button type="submit" class="button primary wide">${t("appointment.submit")}</button></p>
      </form>
      <p><a href="#/ticket/${id}">${t("appointment.orNumber")}</a></p>`,
  );
  const form = root.querySelector("[data-form=booking]");
  const list = form.querySelector("[data-slot-list]");
  clearOnEdit(form, signal);
  const loadSlots = async () => {
    paint(list, html`<p class="hint">${t("common.loading")}</p>`);
    try {
      const day = form.elements.date.value;
      paint(list, slotList((await api.get(`/service-points/${id}/slots`, { params: { date: day, limit: 500 }, signal })).items, day));
    } catch (error) {
      if (!signal.aborted) paint(list, failure(error));
    }
  };
  form.elements.date.addEventListener("change", loadSlots, { signal });
  await loadSlots();
  form.addEventListener(
    "submit",
    async (event) => {
      event.preventDefault();
      clearErrors(form);
      const start = form.elements.start?.value;
      if (!start) return showErrors(form, { message: t("appointment.pickSlot"), fields: form.elements.start ? { start: t("appointment.pickSlot") } : {} });
      const nik = form.elements.nik?.value.replace(/\D/g, "");
      try {
        const booked = await busy(form, () => api.post(`/service-points/${id}/appointments`, { json: { date: form.elements.date.value, start, nik: nik || null }, signal }));
        keepBooking(booked, todayInJakarta());
        navigate(`/appointment/c/${booked.code}`);
      } catch (error) {
        if (!signal.aborted) showErrors(form, explain(error));
      }
    },
    { signal },
  );
}

function bookingMarkup(booking, point) {
  const me = session.state.me;
  const staff = COUNTER_ROLES.includes(me?.role) && booking.status === "booked" && booking.date === todayInJakarta();
  return html`<h1>${t("appointment.mineTitle")}</h1>
    <p class="lede">${point.name}</p>
    <dl class="figures" data-booking data-booking-status="${booking.status}">
      <div><dt>${t("appointment.day")}</dt><dd>${fmt.date(booking.date)}</dd></div>
      <div><dt>${t("appointment.slot")}</dt><dd data-booking-slot>${booking.slot_start}–${booking.slot_end}</dd></div>
      <div><dt>${t("appointment.status")}</dt><dd data-booking-state>${t(`appointment.status.${booking.status}`)}</dd></div>
    </dl>
    ${codeBox(booking.code, { label: t("appointment.code"), id: "booking-code" })}
    ${booking.status === "booked" ? html`<figure class="qr" data-qr-slot></figure><p class="hint">${t("appointment.bring")}</p>` : ""}
    <div data-booking-actions>
      ${staff ? html`<p><button type="button" class="button primary wide" data-action="check-in">${t("appointment.checkIn")}</button></p>` : ""}
      ${booking.status === "booked" ? html`<p><button type="button" class="button" data-action="cancel">${t("appointment.cancel")}</button></p>` : ""}
    </div>
    <div data-booking-result aria-live="polite"></div>
    <p><a href="#/appointment/${booking.service_point_id}">${t("appointment.another")}</a></p>`;
}

async function renderMine(root, { code, signal }) {
  // The booking is drawn again after each action; the listener is wired once, on `root`.
  const draw = async () => {
    const booking = await api.get(`/appointments/${code}`, { signal });
    const point = await api.get(`/service-points/${booking.service_point_id}/queue`, { signal });
    // The resident's phone keeps it (and forgets it once cancelled); a counter's screen does not.
    if (!COUNTER_ROLES.includes(session.state.me?.role)) keepBooking(booking, todayInJakarta());
    paint(root, bookingMarkup(booking, point));
    const slot = root.querySelector("[data-qr-slot]");
    if (slot) showQr(slot, pageUrl(`/appointment/c/${code}`));
  };
  await draw();
  wireCopy(root, signal);
  on(
    root,
    "click",
    "[data-action]",
    async (_, button) => {
      const result = root.querySelector("[data-booking-result]");
      const action = button.dataset.action;
      if (action === "cancel") {
        paint(
          result,
          html`<div class="notice notice-warning"><p>${t("appointment.cancelSure")}</p>
            <p><button type="button" class="button danger" data-action="cancel-yes">${t("appointment.cancelYes")}</button></p></div>`,
        );
        return;
      }
      if (action !== "cancel-yes" && action !== "check-in") return;
      button.disabled = true;
      try {
        if (action === "cancel-yes") {
          await api.post(`/appointments/${code}/cancel`, { signal });
          return await draw();
        }
        const ticket = await api.post(`/appointments/${code}/check-in`, { signal });
        await draw();
        paint(
          root.querySelector("[data-booking-result]"),
          html`<div class="notice notice-ok" role="status" data-checked-in><p>${t("appointment.checkedIn", { number: fmt.number(ticket.number), n: fmt.number(ticket.position) })}</p></div>`,
        );
      } catch (error) {
        button.disabled = false;
        if (!signal.aborted) paint(root.querySelector("[data-booking-result]") ?? result, failure(error));
      }
    },
    { signal },
  );
}

export async function render(root, { params, signal }) {
  if (params.code) return renderMine(root, { code: params.code, signal });
  return renderBooking(root, { id: Number(params.id), signal });
}
