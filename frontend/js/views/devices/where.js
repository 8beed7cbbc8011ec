// Where every device and operator is today: the summary by kecamatan, a filter, and the two lists.

import { fmt, t } from "../../i18n.js";
import { field } from "../../lib/staffkit.js";
import { html, render as paint } from "../../lib/html.js";
import { KINDS, NOWHERE, bySerial, placeCell, statusBadge } from "./places.js";

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

export function summaryTable(summary) {
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

export function whereSection(book) {
  return html`<section aria-labelledby="where-title">
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
    </section>`;
}

/** Draws the two lists as the filter asks; returns the function that draws them again. */
export function whereLists({ root, book, state, slot, mayMove }) {
  const filter = root.querySelector("[data-form=filter]");
  const matches = (place, kecamatan) =>
    !kecamatan || (kecamatan === NOWHERE ? !place : Boolean(place) && book.kecamatanOf(place.area) === kecamatan);
  const sortKey = (place) => (place ? (book.kecamatanOf(place.area) ?? place.area) : "~");

  return function paintWhere() {
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
  };
}

export function wireFilter({ root, signal }, paintWhere) {
  const filter = root.querySelector("[data-form=filter]");
  filter.addEventListener("change", paintWhere, { signal });
  filter.addEventListener("submit", (event) => (event.preventDefault(), paintWhere()), { signal });
}
