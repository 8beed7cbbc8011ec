// Reconciliation, for staff: per area and day, the official figure (the recording system's export
// or a staff entry) next to what Rekam's queues and home visits counted, and the difference,
// largest first; days whose counts no official figure covers yet last. Below, every data-quality
// note (reported figures that disagree with their parts), which the public page does not show.

import { ApiError, api } from "../api.js";
import { currentCampaign } from "../campaigns.js";
import { on } from "../lib/dom.js";
import { html, render as paint } from "../lib/html.js";
import { navigate } from "../lib/view.js";
import { fmt, t } from "../i18n.js";

const dash = "—";
const signed = (value) => (value === null || value === undefined ? dash : (value > 0 ? "+" : "") + fmt.number(value));

function filters(area, from, to) {
  return html`<form class="filters" data-form="reconciliation">
    <p><label for="rec-area">${t("reconciliation.area")}</label>
      <input id="rec-area" name="area" value="${area ?? ""}" inputmode="decimal" autocomplete="off" pattern="[0-9.]{2,40}"></p>
    <p><label for="rec-from">${t("reconciliation.from")}</label><input id="rec-from" name="from" type="date" value="${from}"></p>
    <p><label for="rec-to">${t("reconciliation.to")}</label><input id="rec-to" name="to" type="date" value="${to}"></p>
    <p><button type="submit" class="button">${t("reconciliation.show")}</button></p>
  </form>`;
}

function rowsTable(data) {
  if (!data.rows.length) return html`<p data-empty>${t("reconciliation.empty")}</p>`;
  return html`<div class="table-wrap" role="region" aria-labelledby="rec-caption" tabindex="0">
    <table class="table" data-table="reconciliation">
      <caption id="rec-caption">${t("reconciliation.caption", { area: data.area, from: fmt.date(data.start), to: fmt.date(data.end) })}</caption>
      <thead><tr>
        <th scope="col">${t("reconciliation.area")}</th>
        <th scope="col">${t("reconciliation.date")}</th>
        <th scope="col" class="num">${t("reconciliation.official")}</th>
        <th scope="col" class="num">${t("reconciliation.queue")}</th>
        <th scope="col" class="num">${t("reconciliation.homeVisit")}</th>
        <th scope="col" class="num">${t("reconciliation.difference")}</th>
      </tr></thead>
      <tbody>
        ${data.rows.map(
          (r) => html`<tr data-area="${r.area}" data-date="${r.date}">
            <th scope="row"><span class="code">${r.area}</span></th>
            <td>${fmt.date(r.date)}</td>
            <td class="num" data-col="official">${r.official === null ? html`<span class="muted">${t("reconciliation.noOfficial")}</span>` : fmt.number(r.official)}</td>
            <td class="num" data-col="queue">${fmt.number(r.queue)}</td>
            <td class="num" data-col="home_visit">${fmt.number(r.home_visit)}</td>
            <td class="num" data-col="difference">${signed(r.difference)}</td>
          </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

function notes(items) {
  return html`<section aria-labelledby="notes-title" data-notes>
    <h2 id="notes-title">${t("reconciliation.notesTitle")}</h2>
    ${
      items.length
        ? items.map(
            (d) => html`<div class="notice notice-warning" role="note" data-discrepancy="${d.area}" data-kind="${d.kind}">
              <p><strong>${t("progress.discrepancyTitle")}</strong> (${t(`reconciliation.kind.${d.kind}`)})</p>
              <p>${t(d.difference > 0 ? "progress.discrepancyMore" : "progress.discrepancyLess", {
                area: d.area,
                date: fmt.date(d.as_of),
                reported: fmt.number(d.reported),
                sum: fmt.number(d.children_sum),
                difference: fmt.number(Math.abs(d.difference)),
              })}</p>
              ${d.children_reporting < d.children_total ? html`<p>${t("progress.discrepancyPartial", { reporting: d.children_reporting, total: d.children_total })}</p>` : ""}
            </div>`,
          )
        : html`<p>${t("reconciliation.notesEmpty")}</p>`
    }
  </section>`;
}

export async function render(root, { query, signal }) {
  const campaign = await currentCampaign();
  if (!campaign) {
    paint(root, html`<h1>${t("reconciliation.title")}</h1><p>${t("progress.noCampaign")}</p>`);
    return;
  }
  const params = {};
  for (const key of ["area", "from", "to"]) if (query?.get(key)) params[key] = query.get(key);
  let data;
  let problem = null;
  try {
    data = await api.get(`/campaigns/${campaign.id}/reconciliation`, { params, signal });
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    problem = error;
    data = { area: params.area ?? campaign.root_area, start: params.from ?? "", end: params.to ?? "", rows: [] };
  }
  const discrepancies = await api.get(`/campaigns/${campaign.id}/discrepancies/all`, { params: { area: data.area, limit: 500 }, signal }).then((page) => page.items).catch((error) => {
    if (error instanceof ApiError) return [];
    throw error;
  });
  paint(
    root,
    html`<h1>${t("reconciliation.title")}</h1>
      <p class="lede">${t("reconciliation.lede")}</p>
      ${filters(params.area ?? data.area, data.start, data.end)}
      ${problem ? html`<p class="notice notice-warning" role="alert">${problem.message}</p>` : ""}
      ${rowsTable(data)}
      ${notes(discrepancies)}`,
  );
  on(
    root,
    "submit",
    "[data-form=reconciliation]",
    (event, form) => {
      event.preventDefault();
      const values = new URLSearchParams();
      for (const [key, value] of new FormData(form)) if (value) values.set(key, value);
      navigate(`/staff/reconciliation?${values}`);
    },
    { signal },
  );
}
