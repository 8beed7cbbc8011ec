// Reconciliation, for staff: per area and day, the official figure (the recording system's export
// or a staff entry) next to what Rekam's queues and home visits counted, and the difference,
// largest first; days whose counts no official figure covers yet last. Areas are chosen and shown
// by name (the code beside it). Below, every data-quality note (reported figures that disagree
// with their parts), which the public page does not show.

import { ApiError, api } from "../api.js";
import { currentCampaign, isWithin } from "../campaigns.js";
import { on } from "../lib/dom.js";
import { html, render as paint } from "../lib/html.js";
import { areaPicker, childrenOf } from "../lib/public.js";
import { navigate } from "../lib/view.js";
import { fmt, t } from "../i18n.js";

const dash = "—";
const signed = (value) => (value === null || value === undefined ? dash : (value > 0 ? "+" : "") + fmt.number(value));

// The area is chosen by name, kecamatan then kelurahan, not typed as a code.
const picker = () => areaPicker({ idPrefix: "rec-area", name: "area", levels: ["kecamatan", "kelurahan"], anyLabel: t("where.allKecamatan") });

function filters(areaFields, from, to) {
  return html`<form class="filters" data-form="reconciliation">
    <div class="filter-fields" data-area-picker>${areaFields}</div>
    <p><label for="rec-from">${t("reconciliation.from")}</label><input id="rec-from" name="from" type="date" value="${from}"></p>
    <p><label for="rec-to">${t("reconciliation.to")}</label><input id="rec-to" name="to" type="date" value="${to}"></p>
    <p><button type="submit" class="button">${t("reconciliation.show")}</button></p>
  </form>`;
}

/** The names of `codes`, read as their parents' children (one read per parent); a failed read leaves codes alone. */
async function areaNames(codes, signal) {
  const names = new Map();
  const parents = new Set(codes.map((code) => code.split(".").slice(0, -1).join(".")).filter(Boolean));
  await Promise.all(
    [...parents].map((parent) =>
      childrenOf(parent, signal).then(
        (areas) => areas.forEach((a) => names.set(a.code, a.name)),
        (error) => {
          if (!(error instanceof ApiError)) throw error;
        },
      ),
    ),
  );
  return names;
}

// The largest differences come first; on a phone the rest (up to 200 rows) would push the data
// quality notes below 14,000 px. They are one tap away.
const FIRST_ROWS = 25;

function rowsTable(data, names) {
  if (!data.rows.length) return html`<p data-empty>${t("reconciliation.empty")}</p>`;
  const area = names.has(data.area) ? `${names.get(data.area)} (${data.area})` : data.area;
  const rest = data.rows.length - FIRST_ROWS;
  return html`<div class="table-wrap" role="region" aria-labelledby="rec-caption" tabindex="0">
    <table class="table" data-table="reconciliation">
      <caption id="rec-caption">${t("reconciliation.caption", { area, from: fmt.date(data.start), to: fmt.date(data.end) })}</caption>
      <thead><tr>
        <th scope="col">${t("reconciliation.area")}</th>
        <th scope="col" class="wide-only">${t("reconciliation.date")}</th>
        <th scope="col" class="num">${t("reconciliation.official")}</th>
        <th scope="col" class="num wide-only">${t("reconciliation.queue")}</th>
        <th scope="col" class="num wide-only">${t("reconciliation.homeVisit")}</th>
        <th scope="col" class="num narrow-only">${t("reconciliation.counted")}</th>
        <th scope="col" class="num">${t("reconciliation.difference")}</th>
      </tr></thead>
      <tbody>
        ${data.rows.map((r, i) => {
          const day = html`<time datetime="${r.date}" title="${fmt.date(r.date)}">${fmt.shortDate(r.date)}</time>`;
          // On a phone the day goes under the area and the two counts are one, so that the difference fits on the screen.
          return html`<tr data-area="${r.area}" data-date="${r.date}"${i >= FIRST_ROWS ? " hidden" : ""}>
            <th scope="row" tabindex="-1">${names.has(r.area) ? html`${names.get(r.area)} ` : ""}<span class="code">${r.area}</span><div class="code narrow-only" data-col="day">${day}</div></th>
            <td class="wide-only">${day}</td>
            <td class="num" data-col="official">${r.official === null ? html`<span class="muted">${t("reconciliation.noOfficial")}</span>` : fmt.number(r.official)}</td>
            <td class="num wide-only" data-col="queue">${fmt.number(r.queue)}</td>
            <td class="num wide-only" data-col="home_visit">${fmt.number(r.home_visit)}</td>
            <td class="num narrow-only" data-col="counted">${fmt.number(r.counted)}</td>
            <td class="num" data-col="difference">${signed(r.difference)}</td>
          </tr>`;
        })}
      </tbody>
    </table>
  </div>
  ${rest > 0 ? html`<p><button type="button" class="button" data-action="all-rows">${t("reconciliation.allRows", { count: fmt.number(data.rows.length) })}</button></p>` : ""}`;
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
  // The rows' names and the notes are read at once: on a slow line, one wait instead of two.
  const [names, discrepancies] = await Promise.all([
    areaNames([...new Set([data.area, ...data.rows.map((r) => r.area)])], signal),
    api
      .get(`/campaigns/${campaign.id}/discrepancies/all`, { params: { area: data.area, limit: 500 }, signal })
      .then((page) => page.items)
      .catch((error) => {
        if (error instanceof ApiError) return [];
        throw error;
      }),
  ]);
  const areas = picker();
  paint(
    root,
    html`<h1>${t("reconciliation.title")}</h1>
      <p class="lede">${t("reconciliation.lede")}</p>
      ${filters(areas.markup, data.start, data.end)}
      ${problem ? html`<p class="notice notice-warning" role="alert">${problem.message}</p>` : ""}
      ${rowsTable(data, names)}
      ${notes(discrepancies)}`,
  );
  const box = root.querySelector("[data-area-picker]");
  on(
    root,
    "click",
    "[data-action=all-rows]",
    (_event, button) => {
      const hidden = [...root.querySelectorAll("[data-table=reconciliation] tr[hidden]")];
      for (const row of hidden) row.hidden = false;
      button.closest("p").remove();
      hidden[0]?.querySelector("th").focus(); // where the reader was going: the first row they had not seen
    },
    { signal },
  );
  on(
    root,
    "submit",
    "[data-form=reconciliation]",
    (event, form) => {
      event.preventDefault();
      const values = new URLSearchParams();
      const area = areas.value(box);
      if (area) values.set("area", area);
      for (const [key, value] of new FormData(form)) if (value && key !== "area") values.set(key, value);
      navigate(`/staff/reconciliation?${values}`);
    },
    { signal },
  );
  const chosen = params.area ?? data.area; // a supervisor's own area when none is asked
  await areas.wire(box, campaign.root_area, signal, isWithin(chosen, campaign.root_area) && chosen !== campaign.root_area ? chosen : "");
}
