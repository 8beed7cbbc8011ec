// Moving a device (admin, supervisor): a device the mover may move, a place inside their scope,
// from which day (and until which). A "Move" button in the devices list picks that device here.
// A place with no operator on that day is said before the move (a device records nothing without
// one), and after it every figure of the page is read again (the lists and the capacity).

import { ApiError, api } from "../../api.js";
import { isWithin } from "../../campaigns.js";
import { fmt, t } from "../../i18n.js";
import { on } from "../../lib/dom.js";
import { busy, clearErrors, showErrors, showSuccess } from "../../lib/forms.js";
import { html, render as paint } from "../../lib/html.js";
import { field, slotError } from "../../lib/staffkit.js";
import { bySerial, placeText } from "./places.js";

// API field names of a move request → the inputs that show their messages.
const MOVE_FIELDS = { service_point_id: "place", service_point: "place", area: "place" };

export function moveSection(today) {
  return html`<section aria-labelledby="move-title">
      <h2 id="move-title">${t("devices.moveTitle")}</h2>
      <p>${t("devices.moveHelp")}</p>
      <form class="form" data-form="move" novalidate>
        ${field("move-device", "device", t("devices.device"), html`<select id="move-device" name="device" aria-describedby="move-device-error"></select>`)}
        ${field("move-place", "place", t("devices.newPlace"), html`<select id="move-place" name="place" aria-describedby="move-place-error"></select>`)}
        <div class="pair">
          ${field("move-from", "from", t("devices.fromDay"), html`<input id="move-from" name="from" type="date" value="${today}" required aria-describedby="move-from-error">`)}
          ${field("move-to", "to", t("devices.untilDay"), html`<input id="move-to" name="to" type="date" aria-describedby="move-to-hint move-to-error">`, t("devices.untilHint"))}
        </div>
        ${field("move-reason", "reason", t("devices.reason"), html`<input id="move-reason" name="reason" maxlength="500" aria-describedby="move-reason-error">`)}
        <div data-slot="move-warning" aria-live="polite"></div>
        <div data-form-status tabindex="-1"></div>
        <p><button type="submit" class="button primary">${t("devices.moveSubmit")}</button></p>
      </form>
    </section>`;
}

export function placeOptions(book, points, scope) {
  // Places inside the mover's scope, grouped by kecamatan: its service points, then the area
  // itself (a mobile kit stays with the kecamatan's team).
  const groups = book.kecamatan
    .filter((k) => isWithin(k.code, scope) || isWithin(scope, k.code))
    .map((k) => {
      const here = points.filter((p) => p.active && book.kecamatanOf(p.area) === k.code && isWithin(p.area, scope));
      const areaCode = isWithin(k.code, scope) ? k.code : scope;
      return { k, here, areaCode };
    });
  return html`<option value="">${t("devices.choosePlace")}</option>
    ${groups.map(
      ({ k, here, areaCode }) => html`<optgroup label="${k.name}">
        ${here.map((p) => html`<option value="sp:${p.id}">${p.name}${p.event_date ? ` (${fmt.shortDate(p.event_date)})` : ""}</option>`)}
        <option value="area:${areaCode}">${t("devices.areaPlace", { area: book.names.get(areaCode) ?? areaCode })}</option>
      </optgroup>`,
    )}`;
}

/** The devices the caller may move, keeping the one chosen if it still is. */
export function paintMoveChoices(moveForm, { state, book, mayMove }) {
  const chosen = moveForm.elements.device.value;
  const movable = state.devices.filter(mayMove).sort(bySerial);
  paint(
    moveForm.elements.device,
    html`<option value="">${t("devices.chooseDevice")}</option>${movable.map(
      (d) => html`<option value="${d.id}">${d.serial} · ${d.placed ? placeText(d.placed, book) : t("devices.nowhere")}</option>`,
    )}`,
  );
  if (movable.some((d) => String(d.id) === chosen)) moveForm.elements.device.value = chosen;
}

/** Whether an operator is at the chosen place on the chosen day: posted at that point (or at its
 * weekend service), or posted in that area. */
async function operatorThere(place, day, { state, signal }) {
  const [type, value] = place.split(":");
  if (type === "sp") return (await api.get("/operators", { params: { service_point_id: value, date: day, limit: 1 }, signal })).items.length > 0;
  return state.operators.some((o) => o.status === "active" && o.assigned?.area && isWithin(o.assigned.area, value));
}

export function wireMove(moveForm, { root, signal, book, state, slot, refresh }) {
  const warning = moveForm.querySelector("[data-slot=move-warning]");
  const checkCrew = async () => {
    const f = moveForm.elements;
    if (!f.place.value || !f.from.value) return paint(warning, "");
    try {
      const ok = await operatorThere(f.place.value, f.from.value, { state, signal });
      const name = f.place.selectedOptions[0]?.textContent.trim() ?? "";
      paint(warning, ok ? "" : html`<p class="notice notice-warning" data-warning="no-operator">${t("devices.noOperator", { place: name, date: fmt.date(f.from.value) })}</p>`);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      paint(warning, ""); // the move itself still works; the API decides it
    }
  };
  moveForm.addEventListener("change", (event) => ["place", "from"].includes(event.target.name) && checkCrew(), { signal });
  on(
    root,
    "click",
    "[data-action=move]",
    (_, button) => {
      clearErrors(moveForm);
      moveForm.elements.device.value = button.dataset.id;
      moveForm.scrollIntoView({ block: "start" });
      moveForm.elements.place.focus({ preventScroll: true });
    },
    { signal },
  );
  moveForm.addEventListener(
    "submit",
    async (event) => {
      event.preventDefault();
      clearErrors(moveForm);
      const f = moveForm.elements;
      const missing = {};
      for (const name of ["device", "place", "from"]) if (!f[name].value) missing[name] = t("form.required");
      if (Object.keys(missing).length) return showErrors(moveForm, { message: t("form.fix"), fields: missing });
      const [type, value] = f.place.value.split(":");
      const data = {
        ...(type === "sp" ? { service_point_id: Number(value) } : { area: value }),
        from: f.from.value,
        to: f.to.value || null,
        reason: f.reason.value.trim() || null,
      };
      const device = state.byId.get(Number(f.device.value));
      let placed;
      try {
        placed = await busy(moveForm, () => api.post(`/devices/${f.device.value}/allocations`, { json: data, signal }));
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        return showErrors(moveForm, error, { fieldAlias: MOVE_FIELDS });
      }
      showSuccess(moveForm, t("devices.moved", { serial: device?.serial ?? f.device.value, place: placeText(placed, book), date: fmt.date(placed.from) }));
      try {
        await refresh();
        await checkCrew();
      } catch (error) {
        // The move is saved; only the refreshed figures failed.
        paint(slot("devices"), slotError(error));
      }
    },
    { signal },
  );
}
