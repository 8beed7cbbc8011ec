// Devices and operators (city office, supervisors, viewers): where every recording device and
// operator is today, moving a device, loans due back to their lender, each kecamatan's capacity
// against the pace it needs, and the allocation plan with an apply button for the city office.
//
// What a role may do follows the API: every staff role reads; admin and supervisor move devices
// (a supervisor only devices placed in their area, only to places inside it); admin, supervisor
// and viewer ask for a plan; only the admin applies one. Buttons a role may not use are not drawn.

import { ApiError, api } from "../api.js";
import { currentCampaign, isWithin } from "../campaigns.js";
import { on } from "../lib/dom.js";
import { busy, clearErrors, showErrors, showSuccess } from "../lib/forms.js";
import { html, render as paint } from "../lib/html.js";
import { addDays, allPages, areasIn, field, parseCount, slotError } from "../lib/staffkit.js";
import { daysBetween, fmt, t, todayInJakarta } from "../i18n.js";
import { session } from "../store.js";

const KINDS = ["static", "mobile"];
const MOVERS = ["admin", "supervisor"];
const APPLIERS = ["admin"];
const PLANNERS = ["admin", "supervisor", "viewer"];
const NOWHERE = "none";
// API field names of a move or a plan request → the inputs that show their messages.
const MOVE_FIELDS = { service_point: "place", area: "place", device_id: "device" };
const PLAN_FIELDS = {
  "extra_devices.0.count": "extra_count",
  "extra_devices.0.daily_capacity": "extra_capacity",
  "extra_devices.0.kind": "extra_kind",
};

const spinner = () => html`<p class="loading" role="status"><span class="spinner" aria-hidden="true"></span>${t("common.loading")}</p>`;

/** Names and levels of places: areas by code, service points by id, the kecamatan codes. */
function placeBook(areas, points) {
  const names = new Map(areas.map((a) => [a.code, a.name]));
  const kecamatan = areas.filter((a) => a.level === "kecamatan");
  const kecamatanCodes = new Set(kecamatan.map((a) => a.code));
  const byId = new Map(points.map((p) => [p.id, p]));
  const kecamatanOf = (code) => {
    if (!code) return null;
    const parts = code.split(".");
    for (let n = parts.length; n > 0; n -= 1) {
      const prefix = parts.slice(0, n).join(".");
      if (kecamatanCodes.has(prefix)) return prefix;
    }
    return null;
  };
  return { names, kecamatan, byId, kecamatanOf };
}

/** A place (an allocation, a posting or a plan's from/to) as a name, with its kecamatan below. */
function placeCell(place, book) {
  if (!place) return html`<span class="hint">${t("devices.nowhere")}</span>`;
  const kecamatan = book.kecamatanOf(place.area);
  const kecamatanName = kecamatan ? (book.names.get(kecamatan) ?? kecamatan) : null;
  if (place.service_point_id) {
    const point = book.byId.get(place.service_point_id);
    const name = point?.name ?? t("devices.pointNumber", { id: place.service_point_id });
    const says = kecamatanName && name.includes(kecamatanName);
    return html`<span data-place-name>${name}</span>${kecamatanName && !says ? html`<br><span class="code">${kecamatanName}</span>` : ""}`;
  }
  const area = book.names.get(place.area) ?? place.area;
  return html`<span data-place-name>${t("devices.areaPlace", { area })}</span>${kecamatan && kecamatan !== place.area ? html`<br><span class="code">${kecamatanName}</span>` : ""}`;
}

function statusBadge(status) {
  const kind = status === "active" ? "badge-ok" : status === "faulty" || status === "in_repair" ? "badge-behind" : "badge-muted";
  return html`<span class="badge ${kind}" data-status="${status}">${t(`device.status.${status}`)}</span>`;
}

const bySerial = (a, b) => a.serial.localeCompare(b.serial, "en", { numeric: true });

function devicesTable(devices, book, mayMove) {
  if (!devices.length) return html`<p data-devices="none">${t("devices.noneMatch")}</p>`;
  return html`<div class="table-wrap" role="region" aria-labelledby="devices-caption" tabindex="0">
    <table class="table" data-table="devices">
      <caption id="devices-caption">${t("devices.devicesCaption", { count: fmt.number(devices.length) })}</caption>
      <thead><tr>
        <th scope="col">${t("devices.device")}</th>
        <th scope="col" class="wide-only">${t("devices.owner")}</th>
        <th scope="col" class="wide-only">${t("devices.status")}</th>
        <th scope="col">${t("devices.placeToday")}</th>
      </tr></thead>
      <tbody>${devices.map(
        (d) => html`<tr data-device="${d.id}" data-kind="${d.kind}" data-owner="${d.owner}">
          <th scope="row"><span class="serial" data-serial>${d.serial}</span>${d.loan_overdue ? html` <span class="badge badge-behind">${t("devices.overdue")}</span>` : ""}<br>
            <span class="code">${t(`device.kind.${d.kind}`)} · ${t("devices.perDay", { count: fmt.number(d.daily_capacity) })}</span>
            <span class="narrow-only"><br>${statusBadge(d.status)}</span></th>
          <td class="wide-only">${t(`device.owner.${d.owner}`)}${d.lender ? html`<br><span class="code">${d.lender}</span>` : ""}</td>
          <td class="wide-only">${statusBadge(d.status)}</td>
          <td><span data-place>${placeCell(d.placed, book)}</span>${
            mayMove(d)
              ? html`<br><button type="button" class="button small move-button" data-action="move" data-id="${d.id}" aria-label="${t("devices.moveOne", { serial: d.serial })}">${t("devices.move")}</button>`
              : ""
          }</td>
        </tr>`,
      )}</tbody>
    </table>
  </div>`;
}

function operatorsTable(operators, book) {
  if (!operators.length) return html`<p data-operators="none">${t("devices.noOperators")}</p>`;
  return html`<div class="table-wrap" role="region" aria-labelledby="operators-caption" tabindex="0">
    <table class="table" data-table="operators">
      <caption id="operators-caption">${t("devices.operatorsCaption", { count: fmt.number(operators.length) })}</caption>
      <thead><tr>
        <th scope="col">${t("devices.operator")}</th>
        <th scope="col">${t("devices.placeToday")}</th>
        <th scope="col" class="wide-only">${t("devices.status")}</th>
      </tr></thead>
      <tbody>${operators.map(
        (o) => html`<tr data-operator="${o.id}">
          <th scope="row">${o.name}<br><span class="code">${o.staff_number}</span>${o.added_for_campaign ? html` <span class="tag">${t("devices.added")}</span>` : ""}${
            o.status === "active" ? "" : html`<span class="narrow-only"><br><span class="badge badge-muted">${t(`operator.status.${o.status}`)}</span></span>`
          }</th>
          <td data-place>${placeCell(o.assigned, book)}</td>
          <td class="wide-only">${t(`operator.status.${o.status}`)}</td>
        </tr>`,
      )}</tbody>
    </table>
  </div>`;
}

function summaryTable(summary) {
  if (!summary.kecamatan.length) return "";
  return html`<div class="table-wrap" role="region" aria-labelledby="summary-caption" tabindex="0">
    <table class="table" data-table="summary">
      <caption id="summary-caption">${t("devices.summaryCaption", { date: fmt.date(summary.date) })}</caption>
      <thead><tr>
        <th scope="col">${t("level.kecamatan.one")}</th>
        <th scope="col" class="num">${t("devices.devicesShort")}</th>
        <th scope="col" class="num wide-only">${t("device.kind.static")}</th>
        <th scope="col" class="num wide-only">${t("device.kind.mobile")}</th>
        <th scope="col" class="num">${t("devices.operatorsShort")}</th>
        <th scope="col" class="num">${t("devices.capacity")}</th>
      </tr></thead>
      <tbody>${summary.kecamatan.map(
        (k) => html`<tr data-kecamatan="${k.code}">
          <th scope="row">${k.name}</th>
          <td class="num" data-cell="devices">${fmt.number(k.devices)}${k.active_devices !== k.devices ? html`<br><span class="code">${t("devices.activeOnly", { count: fmt.number(k.active_devices) })}</span>` : ""}</td>
          <td class="num wide-only">${fmt.number(k.by_kind.static ?? 0)}</td>
          <td class="num wide-only">${fmt.number(k.by_kind.mobile ?? 0)}</td>
          <td class="num" data-cell="operators">${fmt.number(k.operators)}</td>
          <td class="num" data-cell="capacity">${fmt.number(k.capacity_per_day)}</td>
        </tr>`,
      )}</tbody>
    </table>
  </div>
  <p class="hint" data-unplaced>${t("devices.unplaced", { devices: fmt.number(summary.unplaced_devices), operators: fmt.number(summary.unassigned_operators) })}</p>`;
}

function loansTable(devices, book, today) {
  const loans = devices
    .filter((d) => d.owner === "loan" && d.status !== "returned")
    .sort((a, b) => Number(b.loan_overdue) - Number(a.loan_overdue) || (a.return_due ?? "").localeCompare(b.return_due ?? "") || bySerial(a, b));
  if (!loans.length) return html`<p data-loans="none">${t("devices.noLoans")}</p>`;
  return html`<div class="table-wrap" role="region" aria-labelledby="loans-caption" tabindex="0">
    <table class="table" data-table="loans">
      <caption id="loans-caption">${t("devices.loansCaption", { count: fmt.number(loans.length) })}</caption>
      <thead><tr>
        <th scope="col">${t("devices.device")}</th>
        <th scope="col">${t("devices.returnDue")}</th>
        <th scope="col" class="wide-only">${t("devices.placeToday")}</th>
      </tr></thead>
      <tbody>${loans.map((d) => {
        const days = d.return_due ? daysBetween(today, d.return_due) : null;
        return html`<tr data-loan="${d.id}" data-overdue="${d.loan_overdue ? "true" : "false"}">
          <th scope="row">${d.serial}<br><span class="code">${d.lender ?? ""}</span></th>
          <td>${d.return_due ? fmt.date(d.return_due) : "—"}<br>${
            d.loan_overdue
              ? html`<span class="badge badge-behind">${t("devices.overdueBy", { count: fmt.number(Math.abs(days ?? 0)) })}</span>`
              : days === null
                ? ""
                : html`<span class="hint">${days === 0 ? t("devices.dueToday") : t("devices.dueIn", { count: fmt.number(days) })}</span>`
          }</td>
          <td class="wide-only">${placeCell(d.placed, book)}</td>
        </tr>`;
      })}</tbody>
    </table>
  </div>`;
}

function capacityBlock(capacity) {
  // Furthest behind first: the biggest shortfall, then the smallest slack.
  const rows = [...capacity.kecamatan].sort(
    (a, b) => Number(a.feasible) - Number(b.feasible) || b.shortfall_per_day - a.shortfall_per_day || a.slack_per_day - b.slack_per_day || a.code.localeCompare(b.code),
  );
  const short = rows.filter((k) => !k.feasible).length;
  return html`<p data-capacity-lede>${t("devices.capacityLede", { deadline: fmt.date(capacity.deadline), days: fmt.number(capacity.service_days_left), date: fmt.date(capacity.as_of) })}</p>
    <p class="notice ${short ? "notice-warning" : "notice-ok"}" data-capacity-verdict>${short ? t("devices.capacityShort", { count: fmt.number(short), total: fmt.number(rows.length) }) : t("devices.capacityAllOk")}</p>
    <div class="table-wrap" role="region" aria-labelledby="capacity-caption" tabindex="0">
      <table class="table" data-table="capacity">
        <caption id="capacity-caption">${t("devices.capacityCaption")}</caption>
        <thead><tr>
          <th scope="col">${t("level.kecamatan.one")}</th>
          <th scope="col" class="num wide-only">${t("devices.remaining")}</th>
          <th scope="col" class="num wide-only">${t("devices.devicesOperators")}</th>
          <th scope="col" class="num">${t("devices.capacityNeeded")}</th>
          <th scope="col">${t("devices.verdict")}</th>
        </tr></thead>
        <tbody>${rows.map(
          (k) => html`<tr data-kecamatan="${k.code}" data-feasible="${k.feasible ? "true" : "false"}">
            <th scope="row">${k.name}</th>
            <td class="num wide-only">${fmt.number(k.remaining)}</td>
            <td class="num wide-only">${fmt.number(k.active_devices)} / ${fmt.number(k.operators)}</td>
            <td class="num"><strong data-cell="capacity">${fmt.number(k.capacity_per_day)}</strong><br>
              <span class="hint">${t("devices.needed")} <span data-cell="required">${k.required_per_day === null ? "—" : fmt.number(k.required_per_day)}</span></span></td>
            <td>${
              k.feasible
                ? html`<span class="badge badge-ok">${t("devices.onPace")}</span><br><span class="hint">${t("devices.slack", { count: fmt.number(k.slack_per_day) })}</span>`
                : html`<span class="badge badge-behind">${t("devices.shortBy", { count: fmt.number(k.shortfall_per_day) })}</span>`
            }<br><span class="hint">${k.projected_finish ? t("devices.finishes", { date: fmt.mediumDate(k.projected_finish) }) : t("devices.neverFinishes")}</span></td>
          </tr>`,
        )}</tbody>
      </table>
    </div>`;
}

const finish = (iso) => (iso ? fmt.date(iso) : t("devices.never"));

function moveLabel(move, devices) {
  if (move.kind === "device" && move.id !== null) return devices.get(move.id)?.serial ?? move.label;
  if (move.id === null) return t(move.kind === "device" ? "devices.newDevice" : "devices.newOperator", { label: move.label });
  return move.label;
}

function planBlock(plan, { book, devices, mayApply }) {
  const applicable = plan.moves.filter((m) => m.id !== null).length;
  return html`<div class="summary" data-plan-headline>
      <p><strong>${t("devices.latestFinish")}</strong></p>
      <p class="headline"><span data-finish="before">${finish(plan.latest_finish_before)}</span> <span aria-hidden="true">→</span><span class="visually-hidden">${t("devices.becomes")}</span> <strong data-finish="after">${finish(plan.latest_finish_after)}</strong></p>
      <p class="hint">${t("devices.planFor", { date: fmt.date(plan.as_of), deadline: fmt.date(plan.deadline) })}</p>
    </div>
    ${
      plan.moves.length
        ? html`<div class="table-wrap" role="region" aria-labelledby="moves-caption" tabindex="0">
            <table class="table" data-table="moves">
              <caption id="moves-caption">${t("devices.movesCaption", { count: fmt.number(plan.moves.length) })}</caption>
              <thead><tr><th scope="col">${t("devices.what")}</th><th scope="col">${t("devices.fromTo")}</th></tr></thead>
              <tbody>${plan.moves.map(
                (m, i) => html`<tr data-move-kind="${m.kind}" data-move-id="${m.id ?? ""}" class="move-row">
                  <th scope="row" id="move-${i}"><span class="serial">${moveLabel(m, devices)}</span><br><span class="code">${t(`devices.moveKind.${m.kind}`)}</span></th>
                  <td><span class="visually-hidden">${t("devices.from")}: </span><span data-from>${placeCell(m.from, book)}</span>
                    <span class="to-arrow" aria-hidden="true">↓</span><span class="visually-hidden">${t("devices.to")}: </span><strong data-to>${placeCell(m.to, book)}</strong></td>
                </tr>
                <tr class="reason-row"><td colspan="2" headers="move-${i}"><span class="visually-hidden">${t("devices.why")}: </span>${m.reason}</td></tr>`,
              )}</tbody>
            </table>
          </div>`
        : html`<p class="notice" data-moves="none">${t("devices.noMoves")}</p>`
    }
    <div class="table-wrap" role="region" aria-labelledby="effect-caption" tabindex="0">
      <table class="table" data-table="effect">
        <caption id="effect-caption">${t("devices.effectCaption")}</caption>
        <thead><tr>
          <th scope="col">${t("level.kecamatan.one")}</th>
          <th scope="col" class="num wide-only">${t("devices.capacity")}</th>
          <th scope="col">${t("devices.finish")}</th>
        </tr></thead>
        <tbody>${plan.kecamatan.map(
          (k) => html`<tr data-kecamatan="${k.code}">
            <th scope="row">${k.name}<span class="narrow-only"><br><span class="code">${t("devices.perDay", { count: `${fmt.number(k.capacity_before)} → ${fmt.number(k.capacity_after)}` })}</span></span></th>
            <td class="num wide-only">${fmt.number(k.capacity_before)} → ${fmt.number(k.capacity_after)}</td>
            <td>${k.finish_before ? fmt.mediumDate(k.finish_before) : t("devices.never")} → <strong>${k.finish_after ? fmt.mediumDate(k.finish_after) : t("devices.never")}</strong>
              ${k.feasible_after ? html`<span class="badge badge-ok">${t("devices.onPace")}</span>` : html`<span class="badge badge-behind">${t("devices.late")}</span>`}</td>
          </tr>`,
        )}</tbody>
      </table>
    </div>
    <details class="about"><summary>${t("devices.method")}</summary><p>${plan.method}</p></details>
    ${
      mayApply && applicable
        ? html`<div class="apply" data-slot="apply">
            <p><button type="button" class="button primary" data-action="apply">${t("devices.apply")}</button></p>
          </div>`
        : ""
    }`;
}

function confirmBlock(count, starts) {
  return html`<div class="notice notice-warning confirm" role="group" aria-labelledby="confirm-text" data-confirm>
    <p id="confirm-text"><strong>${t("devices.confirm", { count: fmt.number(count), date: fmt.date(starts) })}</strong></p>
    <p class="actions">
      <button type="button" class="button primary" data-action="apply-confirm">${t("devices.applyYes")}</button>
      <button type="button" class="button" data-action="apply-cancel">${t("devices.applyNo")}</button>
    </p>
  </div>`;
}

function appliedBlock(result, { book, devices, starts }) {
  return html`<div class="notice notice-ok" role="status" data-applied tabindex="-1">
    <p><strong>${t("devices.applied", { devices: fmt.number(result.allocations.length), operators: fmt.number(result.assignments.length), date: fmt.date(starts) })}</strong></p>
    ${
      result.allocations.length
        ? html`<ul data-applied-list>${result.allocations.map(
            (a) => html`<li data-allocation="${a.device_id}">${devices.get(a.device_id)?.serial ?? `#${a.device_id}`}: ${placeCell(a, book)}</li>`,
          )}</ul>`
        : ""
    }
    ${
      result.not_applied.length
        ? html`<p>${t("devices.notApplied")}</p><ul>${result.not_applied.map((m) => html`<li>${moveLabel(m, devices)}</li>`)}</ul>`
        : ""
    }
  </div>`;
}

function placeOptions(book, points, scope) {
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

function page({ campaign, today, book, canMove, canPlan }) {
  return html`<h1>${t("devices.title")}</h1>
    <p class="lede">${campaign.name} · ${fmt.date(today)}</p>
    <nav class="in-page" aria-label="${t("devices.sections")}"><ul>
      <li><a href="#/staff/devices" data-jump="where-title">${t("devices.whereTitle")}</a></li>
      ${canMove ? html`<li><a href="#/staff/devices" data-jump="move-title">${t("devices.moveTitle")}</a></li>` : ""}
      <li><a href="#/staff/devices" data-jump="loans-title">${t("devices.loansTitle")}</a></li>
      <li><a href="#/staff/devices" data-jump="capacity-title">${t("devices.capacityTitle")}</a></li>
      ${canPlan ? html`<li><a href="#/staff/devices" data-jump="plan-title">${t("devices.planTitle")}</a></li>` : ""}
    </ul></nav>

    <section aria-labelledby="where-title">
      <h2 id="where-title">${t("devices.whereTitle")}</h2>
      <div data-slot="summary"></div>
      <form class="form inline-form" data-form="filter" novalidate>
        ${field("filter-kecamatan", "kecamatan", t("level.kecamatan.one"), html`<select id="filter-kecamatan" name="kecamatan">
          <option value="">${t("devices.allKecamatan")}</option>
          ${book.kecamatan.map((k) => html`<option value="${k.code}">${k.name}</option>`)}
          <option value="${NOWHERE}">${t("devices.nowhere")}</option>
        </select>`)}
        ${field("filter-kind", "kind", t("devices.kind"), html`<select id="filter-kind" name="kind">
          <option value="">${t("devices.allKinds")}</option>
          ${KINDS.map((k) => html`<option value="${k}">${t(`device.kind.${k}`)}</option>`)}
        </select>`)}
      </form>
      <h3>${t("devices.devicesTitle")}</h3>
      <div data-slot="devices" aria-live="polite"></div>
      <details class="about operators" data-operators-list>
        <summary><h3>${t("devices.operatorsTitle")} <span data-slot="operators-count"></span></h3></summary>
        <p class="hint">${t("devices.operatorsHint")}</p>
        <div data-slot="operators"></div>
      </details>
    </section>

    ${
      canMove
        ? html`<section aria-labelledby="move-title">
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
              <div data-form-status tabindex="-1"></div>
              <p><button type="submit" class="button primary">${t("devices.moveSubmit")}</button></p>
            </form>
          </section>`
        : ""
    }

    <section aria-labelledby="loans-title">
      <h2 id="loans-title">${t("devices.loansTitle")}</h2>
      <div data-slot="loans"></div>
    </section>

    <section aria-labelledby="capacity-title">
      <h2 id="capacity-title">${t("devices.capacityTitle")}</h2>
      <div data-slot="capacity" aria-live="polite"></div>
    </section>

    ${
      canPlan
        ? html`<section aria-labelledby="plan-title">
            <h2 id="plan-title">${t("devices.planTitle")}</h2>
            <p>${t("devices.planHelp")}</p>
            <form class="form" data-form="plan" novalidate>
              ${field("plan-as-of", "as_of", t("devices.asOf"), html`<input id="plan-as-of" name="as_of" type="date" value="${today}" required aria-describedby="plan-as-of-error">`)}
              ${field("plan-operators", "extra_operators", t("devices.extraOperators"), html`<input id="plan-operators" name="extra_operators" inputmode="numeric" value="0" size="4" aria-describedby="plan-operators-error">`)}
              <fieldset class="group">
                <legend>${t("devices.extraDevices")}</legend>
                <div class="pair">
                  ${field("plan-extra-count", "extra_count", t("devices.extraCount"), html`<input id="plan-extra-count" name="extra_count" inputmode="numeric" value="0" size="4" aria-describedby="plan-extra-count-error">`)}
                  ${field("plan-extra-capacity", "extra_capacity", t("devices.extraCapacity"), html`<input id="plan-extra-capacity" name="extra_capacity" inputmode="numeric" value="80" size="4" aria-describedby="plan-extra-capacity-error">`)}
                </div>
                ${field("plan-extra-kind", "extra_kind", t("devices.kind"), html`<select id="plan-extra-kind" name="extra_kind">
                  ${KINDS.map((k) => html`<option value="${k}">${t(`device.kind.${k}`)}</option>`)}
                </select>`)}
              </fieldset>
              <div data-form-status tabindex="-1"></div>
              <p><button type="submit" class="button primary">${t("devices.propose")}</button></p>
            </form>
            <div data-slot="plan" aria-live="polite"></div>
          </section>`
        : ""
    }`;
}

export async function render(root, { signal }) {
  const me = session.state.me;
  const campaign = await currentCampaign({ signal });
  if (!campaign) {
    paint(root, html`<h1>${t("devices.title")}</h1><p class="notice">${t("devices.noCampaign")}</p>`);
    return;
  }
  const today = todayInJakarta();
  const canMove = MOVERS.includes(me.role);
  const canPlan = PLANNERS.includes(me.role);
  const canApply = APPLIERS.includes(me.role);
  // An admin moves anything in the campaign's city; a supervisor inside their own area.
  const moveScope = me.role === "admin" ? campaign.root_area : me.area;
  const mayMove = (d) => canMove && Boolean(moveScope) && d.status === "active" && (me.role === "admin" || (d.placed && isWithin(d.placed.area, moveScope)));

  const [areas, points] = await Promise.all([
    areasIn(campaign.root_area, signal),
    allPages("/service-points", { params: { area: campaign.root_area }, signal, maxPages: 10 }),
  ]);
  const book = placeBook(areas, points);
  const state = { devices: [], operators: [], summary: null, byId: new Map() };

  paint(root, page({ campaign, today, book, canMove, canPlan }));
  const slot = (name) => root.querySelector(`[data-slot=${name}]`);
  const filter = root.querySelector("[data-form=filter]");
  const moveForm = root.querySelector("[data-form=move]");

  const matches = (place, kecamatan) =>
    !kecamatan || (kecamatan === NOWHERE ? !place : Boolean(place) && book.kecamatanOf(place.area) === kecamatan);
  const sortKey = (place) => (place ? (book.kecamatanOf(place.area) ?? place.area) : "~");

  function paintWhere() {
    const kecamatan = filter.elements.kecamatan.value;
    const kind = filter.elements.kind.value;
    const devices = state.devices
      .filter((d) => matches(d.placed, kecamatan) && (!kind || d.kind === kind))
      .sort((a, b) => sortKey(a.placed).localeCompare(sortKey(b.placed)) || bySerial(a, b));
    const operators = state.operators
      .filter((o) => matches(o.assigned, kecamatan))
      .sort((a, b) => sortKey(a.assigned).localeCompare(sortKey(b.assigned)) || a.name.localeCompare(b.name, "id", { numeric: true }));
    paint(slot("devices"), devicesTable(devices, book, mayMove));
    paint(slot("operators"), operatorsTable(operators, book));
    paint(slot("operators-count"), `(${fmt.number(operators.length)})`);
  }

  function paintMoveChoices() {
    if (!moveForm) return;
    const chosen = moveForm.elements.device.value;
    const movable = state.devices.filter(mayMove).sort(bySerial);
    paint(
      moveForm.elements.device,
      html`<option value="">${t("devices.chooseDevice")}</option>${movable.map(
        (d) => html`<option value="${d.id}">${d.serial} · ${d.placed ? placeText(d.placed) : t("devices.nowhere")}</option>`,
      )}`,
    );
    if (movable.some((d) => String(d.id) === chosen)) moveForm.elements.device.value = chosen;
  }

  function placeText(place) {
    if (place.service_point_id) return book.byId.get(place.service_point_id)?.name ?? t("devices.pointNumber", { id: place.service_point_id });
    return t("devices.areaPlace", { area: book.names.get(place.area) ?? place.area });
  }

  async function loadWhere() {
    const [devices, operators, summary] = await Promise.all([
      allPages("/devices", { signal, maxPages: 20 }),
      allPages("/operators", { signal, maxPages: 20 }),
      api.get("/allocations/summary", { params: { area: campaign.root_area }, signal }),
    ]);
    Object.assign(state, { devices, operators, summary, byId: new Map(devices.map((d) => [d.id, d])) });
    paint(slot("summary"), summaryTable(summary));
    paintWhere();
    paint(slot("loans"), loansTable(devices, book, today));
    paintMoveChoices();
  }

  async function loadCapacity() {
    paint(slot("capacity"), spinner());
    try {
      const capacity = await api.get(`/campaigns/${campaign.id}/capacity`, { signal });
      paint(slot("capacity"), capacityBlock(capacity));
    } catch (error) {
      paint(slot("capacity"), slotError(error));
    }
  }

  await loadWhere();
  if (moveForm) {
    paint(moveForm.elements.place, placeOptions(book, points, moveScope ?? campaign.root_area));
  }
  loadCapacity(); // the rest of the page is usable while the capacity loads

  filter.addEventListener("change", paintWhere, { signal });
  filter.addEventListener("submit", (event) => (event.preventDefault(), paintWhere()), { signal });
  on(
    root,
    "click",
    "[data-jump]",
    (event, link) => {
      event.preventDefault();
      const heading = root.querySelector(`#${link.dataset.jump}`);
      heading.setAttribute("tabindex", "-1");
      heading.scrollIntoView({ block: "start" });
      heading.focus({ preventScroll: true });
    },
    { signal },
  );

  if (moveForm) {
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
          ...(type === "sp" ? { service_point: Number(value) } : { area: value }),
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
        showSuccess(moveForm, t("devices.moved", { serial: device?.serial ?? f.device.value, place: placeText(placed), date: fmt.date(placed.from) }));
        try {
          await loadWhere();
        } catch (error) {
          // The move is saved; only the refreshed list failed.
          paint(slot("devices"), slotError(error));
        }
      },
      { signal },
    );
  }

  const planForm = root.querySelector("[data-form=plan]");
  if (!planForm) return;
  let lastRequest = null;
  let lastPlan = null;
  const planSlot = slot("plan");

  function planRequest() {
    const f = planForm.elements;
    const errors = {};
    const extraOperators = parseCount(f.extra_operators.value || "0");
    const extraCount = parseCount(f.extra_count.value || "0");
    const extraCapacity = parseCount(f.extra_capacity.value || "0");
    if (!f.as_of.value) errors.as_of = t("form.required");
    if (extraOperators === null) errors.extra_operators = t("form.wholeNumber");
    if (extraCount === null) errors.extra_count = t("form.wholeNumber");
    if (extraCount && extraCapacity === null) errors.extra_capacity = t("form.wholeNumber");
    if (Object.keys(errors).length) return { errors };
    return {
      request: {
        as_of: f.as_of.value,
        movable: "all",
        extra_operators: extraOperators,
        extra_devices: extraCount ? [{ kind: f.extra_kind.value, daily_capacity: extraCapacity, count: extraCount }] : [],
      },
    };
  }

  planForm.addEventListener(
    "submit",
    async (event) => {
      event.preventDefault();
      clearErrors(planForm);
      const { request, errors } = planRequest();
      if (errors) return showErrors(planForm, { message: t("form.fix"), fields: errors });
      paint(planSlot, spinner());
      try {
        const plan = await busy(planForm, () => api.post(`/campaigns/${campaign.id}/allocation-plan`, { json: request, signal }));
        lastRequest = request;
        lastPlan = plan;
        paint(planSlot, planBlock(plan, { book, devices: state.byId, mayApply: canApply }));
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        paint(planSlot, "");
        showErrors(planForm, error, { fieldAlias: PLAN_FIELDS });
      }
    },
    { signal },
  );

  if (!canApply) return;
  const starts = () => addDays(lastPlan.as_of, 1);
  on(
    root,
    "click",
    "[data-action=apply]",
    () => {
      const applySlot = slot("apply");
      paint(applySlot, confirmBlock(lastPlan.moves.filter((m) => m.id !== null).length, starts()));
      applySlot.querySelector("[data-action=apply-confirm]").focus();
    },
    { signal },
  );
  on(
    root,
    "click",
    "[data-action=apply-cancel]",
    () => {
      const applySlot = slot("apply");
      paint(applySlot, html`<p><button type="button" class="button primary" data-action="apply">${t("devices.apply")}</button></p>`);
      applySlot.querySelector("[data-action=apply]").focus();
    },
    { signal },
  );
  on(
    root,
    "click",
    "[data-action=apply-confirm]",
    async (_, button) => {
      const applySlot = slot("apply");
      for (const b of applySlot.querySelectorAll("button")) b.disabled = true;
      button.textContent = t("common.saving");
      applySlot.setAttribute("aria-busy", "true");
      let result;
      try {
        result = await api.post(`/campaigns/${campaign.id}/allocation-plan/apply`, { json: lastRequest, signal });
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        paint(applySlot, html`${slotError(error)}<p><button type="button" class="button primary" data-action="apply">${t("devices.apply")}</button></p>`);
        return;
      } finally {
        applySlot.removeAttribute("aria-busy");
      }
      const from = result.allocations[0]?.from ?? result.assignments[0]?.from ?? starts();
      paint(applySlot, appliedBlock(result, { book, devices: state.byId, starts: from }));
      applySlot.querySelector("[data-applied]").focus();
      try {
        await loadWhere();
      } catch (error) {
        paint(slot("devices"), slotError(error)); // the plan is applied; only the refreshed list failed
      }
      await loadCapacity();
    },
    { signal },
  );
}
