// Each kecamatan's capacity against the pace it needs to finish by the deadline.

import { api } from "../../api.js";
import { fmt, t } from "../../i18n.js";
import { html, render as paint } from "../../lib/html.js";
import { slotError } from "../../lib/staffkit.js";
import { loading } from "../../lib/view.js";

export function capacitySection() {
  return html`<section aria-labelledby="capacity-title">
      <h2 id="capacity-title">${t("devices.capacityTitle")}</h2>
      <div data-slot="capacity" aria-live="polite"></div>
    </section>`;
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

export async function loadCapacity({ campaign, signal, slot }) {
  paint(slot("capacity"), loading());
  try {
    const capacity = await api.get(`/campaigns/${campaign.id}/capacity`, { signal });
    paint(slot("capacity"), capacityBlock(capacity));
  } catch (error) {
    paint(slot("capacity"), slotError(error));
  }
}
