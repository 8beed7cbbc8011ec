// Public progress: recorded against target for the campaign's area or any area below it, its
// children furthest behind first (those that have not reported yet last, said so), the figure's
// provisional part (queue and home-visit counts awaiting the official figure), the campaign
// area's own reported total where it disagrees with its parts (in plain words; the detailed
// data-quality notes are in the staff's reconciliation view), and (when the API offers them) the
// forecast and the daily series.

import { ApiError, api } from "../api.js";
import { currentCampaign, isWithin, loadCampaigns, selectCampaign } from "../campaigns.js";
import { bars, progressLine } from "../lib/charts.js";
import { on } from "../lib/dom.js";
import { html, render as paint } from "../lib/html.js";
import { navigate } from "../lib/view.js";
import { daysBetween, fmt, t, todayInJakarta } from "../i18n.js";

// Kecamatan always get a page of their own; smaller areas once they have a target or a figure.
const DRILLABLE = new Set(["provinsi", "kabkota"]);

const dash = "—";
const number = (value) => (value === null || value === undefined ? dash : fmt.number(value));
const percent = (value) => (value === null || value === undefined ? dash : fmt.percent(value));

// The daily series arrives with the tallies API; until then (404) the chart is simply not shown.
async function dailySeries(campaignId, area, signal) {
  try {
    const data = await api.get(`/campaigns/${campaignId}/progress/daily`, { params: { area }, signal });
    const items = Array.isArray(data) ? data : (data?.items ?? data?.days ?? data?.series ?? []);
    const series = items
      .map((d) => ({ date: d.date ?? d.day, cumulative: d.cumulative }))
      .filter((d) => typeof d.date === "string" && Number.isFinite(d.cumulative))
      .sort((a, b) => a.date.localeCompare(b.date));
    return { series };
  } catch (error) {
    if (error instanceof ApiError && (error.status === 404 || error.status === 405)) return { series: [] };
    if (error instanceof ApiError) return { series: [], error };
    throw error;
  }
}

async function discrepanciesOf(campaignId, area, signal) {
  try {
    return { items: (await api.get(`/campaigns/${campaignId}/discrepancies`, { params: { area, limit: 500 }, signal })).items };
  } catch (error) {
    if (error instanceof ApiError) return { items: [], error };
    throw error;
  }
}

function levelText(level, key) {
  return t(`level.${level}.${key}`);
}

function campaignPicker(state) {
  if (state.items.length < 2) return "";
  return html`<p class="picker">
    <label for="campaign-select">${t("progress.campaign")}</label>
    <select id="campaign-select" data-action="campaign">
      ${state.items.map((c) => html`<option value="${c.id}" ${c.id === state.selectedId ? html`selected` : ""}>${c.name}</option>`)}
    </select>
  </p>`;
}

function breadcrumb(campaign, node, detail) {
  if (!detail) return "";
  const trail = detail.ancestors.filter((a) => isWithin(a.code, campaign.root_area));
  return html`<nav class="breadcrumb" aria-label="${t("progress.breadcrumb")}">
    <ol>
      ${trail.map((a) => html`<li><a href="#/progress/${a.code}">${a.name}</a></li>`)}
      <li><span aria-current="page">${node.name}</span></li>
    </ol>
  </nav>`;
}

function deadlineText(campaign) {
  const left = daysBetween(todayInJakarta(), campaign.deadline);
  const when = fmt.date(campaign.deadline);
  if (left < 0) return t("progress.deadlinePassed", { date: when });
  return t("progress.deadlineIn", { date: when, days: fmt.number(left) });
}

function forecast(node) {
  // Feature detection: the forecast fields exist once the tallies API is deployed.
  const rows = [];
  if (node.required_per_day !== undefined && node.required_per_day !== null) {
    rows.push(html`<div><dt>${t("progress.requiredPerDay")}</dt><dd data-figure="required">${fmt.number(node.required_per_day)}</dd></div>`);
  }
  if (node.rate_7d !== undefined && node.rate_7d !== null) {
    rows.push(html`<div><dt>${t("progress.rate7d")}</dt><dd data-figure="rate">${fmt.decimal(node.rate_7d)}</dd></div>`);
  }
  if (node.projected_completion_date !== undefined) {
    rows.push(
      html`<div><dt>${t("progress.projected")}</dt><dd data-figure="projected">${
        node.projected_completion_date ? fmt.date(node.projected_completion_date) : t("progress.projectedUnknown")
      }</dd></div>`,
    );
  }
  return rows;
}

function onTrackBadge(node) {
  if (node.on_track === undefined || node.on_track === null) return "";
  return node.on_track
    ? html`<p class="badge badge-ok" data-figure="on-track">${t("progress.onTrack")}</p>`
    : html`<p class="badge badge-behind" data-figure="on-track">${t("progress.behind")}</p>`;
}

// The figure's provisional part: counted by Rekam's queues and home visits, not yet covered by an
// official figure (feature detection: older APIs have no `provisional`).
function provisionalNote(node) {
  if (!node.provisional) return "";
  return html`<p class="notice notice-info" role="note" data-figure="provisional-note">${t("progress.provisionalNote", {
    official: fmt.number(node.official ?? node.recorded - node.provisional),
    provisional: fmt.number(node.provisional),
  })}</p>`;
}

function notReported(node) {
  return node.reported === false;
}

function summary(campaign, node) {
  const hasTarget = node.target !== null && node.target !== undefined;
  return html`<section class="summary" aria-labelledby="summary-title">
    <h2 id="summary-title" class="visually-hidden">${t("progress.summary")}</h2>
    <p class="headline">
      <span class="big" data-figure="recorded">${fmt.number(node.recorded)}</span>
      ${hasTarget ? html`<span class="of">${t("progress.ofTarget", { target: fmt.number(node.target) })}</span>` : html`<span class="of">${t("progress.recordedNoTarget")}</span>`}
    </p>
    ${
      hasTarget
        ? html`<div class="meter">
            <progress id="progress-bar" max="${node.target}" value="${Math.min(node.recorded, node.target)}" aria-label="${t("progress.barLabel", { percent: fmt.percent(node.percent ?? 0) })}"></progress>
            <span class="meter-value" data-figure="percent">${percent(node.percent)}</span>
          </div>`
        : ""
    }
    ${onTrackBadge(node)}
    <dl class="figures">
      ${hasTarget ? html`<div><dt>${t("progress.target")}</dt><dd data-figure="target">${fmt.number(node.target)}</dd></div>` : ""}
      ${hasTarget ? html`<div><dt>${t("progress.remaining")}</dt><dd data-figure="remaining">${number(node.remaining)}</dd></div>` : ""}
      ${forecast(node)}
      <div><dt>${t("progress.asOf")}</dt><dd data-figure="as-of">${node.as_of ? fmt.date(node.as_of) : notReported(node) ? t("progress.notReported") : t("progress.noFigures")}</dd></div>
      ${node.official !== undefined ? html`<div><dt>${t("progress.official")}</dt><dd data-figure="official">${fmt.number(node.official)}</dd></div>` : ""}
      ${node.provisional ? html`<div><dt>${t("progress.provisional")}</dt><dd data-figure="provisional">${fmt.number(node.provisional)}</dd></div>` : ""}
      <div><dt>${t("progress.deadline")}</dt><dd>${deadlineText(campaign)}</dd></div>
    </dl>
  </section>`;
}

function discrepancyNotes(node, discrepancies) {
  const names = new Map([[node.code, node.name], ...node.children.map((c) => [c.code, c.name])]);
  const relevant = discrepancies.items.filter((d) => names.has(d.area));
  // The public endpoint gives only the campaign area's own reported total against its parts: one short note.
  const notes = relevant.map(
    (d) => html`<p class="notice notice-info" role="note" data-discrepancy="${d.area}">${t("progress.cityNote", {
      area: names.get(d.area),
      date: fmt.date(d.as_of),
      reported: fmt.number(d.reported),
      sum: fmt.number(d.children_sum),
      difference: fmt.number(Math.abs(d.difference)),
    })}</p>`,
  );
  if (discrepancies.error) notes.push(html`<p class="notice notice-info" role="note">${t("progress.discrepanciesUnavailable")}</p>`);
  return notes;
}

function unattributedNote(node, discrepancies) {
  if (!node.children.length || discrepancies.items.some((d) => d.area === node.code)) return "";
  const sum = node.children.reduce((total, c) => total + c.recorded, 0);
  if (sum >= node.recorded) return "";
  const level = node.children[0].level;
  return html`<p class="notice notice-info" role="note" data-unattributed>${t("progress.unattributed", {
    count: fmt.number(node.recorded - sum),
    area: node.name,
    level: levelText(level, "many"),
  })}</p>`;
}

function byFurthestBehind(a, b) {
  // Not reported yet: unknown, not behind: last, by name. No target means no percentage: before them, by name.
  if (notReported(a) !== notReported(b)) return notReported(a) ? 1 : -1;
  if (notReported(a)) return a.name.localeCompare(b.name);
  if (a.percent === null && b.percent === null) return a.name.localeCompare(b.name);
  if (a.percent === null) return 1;
  if (b.percent === null) return -1;
  return a.percent - b.percent || a.name.localeCompare(b.name);
}

function childrenSection(node) {
  if (!node.children.length) {
    return html`<section class="children"><p>${t("progress.noChildren")}</p></section>`;
  }
  const level = node.children[0].level;
  const children = [...node.children].sort(byFurthestBehind);
  const withTargets = children.some((c) => c.target !== null);
  const withRequired = children.some((c) => c.required_per_day !== undefined);
  const drillable = (c) => DRILLABLE.has(node.level) || c.target !== null || c.recorded > 0;
  const nameCell = (c) => (drillable(c) ? html`<a href="#/progress/${c.code}">${c.name}</a>` : c.name);
  return html`<section class="children" aria-labelledby="children-title">
    <h2 id="children-title">${levelText(level, "per")}</h2>
    ${withTargets ? html`<p class="hint">${t("progress.sortedBehind")}</p>` : ""}
    ${
      withTargets
        ? bars(
            children.map((c) => ({
              label: c.name,
              percent: notReported(c) ? null : c.percent,
              text: notReported(c) ? t("progress.notReported") : c.percent === null ? "—" : fmt.percent(c.percent),
            })),
            { caption: t("progress.chartCaption", { level: levelText(level, "many") }) },
          )
        : ""
    }
    <div class="table-wrap" role="region" aria-labelledby="children-caption" tabindex="0">
      <table class="table" data-table="children">
        <caption id="children-caption">${t("progress.tableCaption", { level: levelText(level, "many"), area: node.name })}</caption>
        <thead>
          <tr>
            <th scope="col">${levelText(level, "one")}</th>
            <th scope="col" class="num">${t("progress.recorded")}</th>
            ${withTargets ? html`<th scope="col" class="num">${t("progress.target")}</th><th scope="col" class="num">%</th><th scope="col" class="num wide-only">${t("progress.remaining")}</th>` : ""}
            ${withRequired ? html`<th scope="col" class="num wide-only">${t("progress.requiredPerDayShort")}</th>` : ""}
          </tr>
        </thead>
        <tbody>
          ${children.map(
            (c) => html`<tr data-area="${c.code}">
              <th scope="row">${nameCell(c)}</th>
              <td class="num" data-col="recorded">${notReported(c) ? html`<span class="muted" data-not-reported>${t("progress.notReported")}</span>` : fmt.number(c.recorded)}${
                c.provisional ? html`<br><small class="muted" data-col="provisional">${t("progress.provisionalShort", { count: fmt.number(c.provisional) })}</small>` : ""
              }</td>
              ${withTargets ? html`<td class="num" data-col="target">${number(c.target)}</td><td class="num" data-col="percent">${notReported(c) ? dash : percent(c.percent)}</td><td class="num wide-only" data-col="remaining">${number(c.remaining)}</td>` : ""}
              ${withRequired ? html`<td class="num wide-only" data-col="required">${number(c.required_per_day)}</td>` : ""}
            </tr>`,
          )}
        </tbody>
      </table>
    </div>
  </section>`;
}

function dailySection(campaign, node, daily, width) {
  if (daily.error) return html`<section class="daily"><p class="notice notice-info" role="note">${t("progress.dailyUnavailable")}</p></section>`;
  if (daily.series.length < 2) return "";
  const last = daily.series[daily.series.length - 1];
  return html`<section class="daily" aria-labelledby="daily-title" data-chart="daily">
    <h2 id="daily-title">${t("progress.dailyTitle")}</h2>
    ${progressLine({
      series: daily.series,
      target: node.target,
      deadline: campaign.deadline,
      width,
      label: t("progress.dailyLabel", { recorded: fmt.number(last.cumulative), date: fmt.date(last.date), target: node.target === null ? "—" : fmt.number(node.target) }),
      legend: { recorded: t("progress.legendRecorded"), target: t("progress.legendTarget"), pace: t("progress.legendPace") },
    })}
  </section>`;
}

// The chart is drawn at the width it will have, so that its text is the size of the page's text.
function chartWidth(root) {
  const padding = parseFloat(getComputedStyle(root).paddingLeft) + parseFloat(getComputedStyle(root).paddingRight);
  return Math.max(280, Math.min(root.clientWidth - padding, 768));
}

function about(campaign, node) {
  if (node.code !== campaign.root_area || !campaign.description) return "";
  return html`<details class="about"><summary>${t("progress.about")}</summary><p>${campaign.description}</p></details>`;
}

export async function render(root, { params, signal }) {
  const campaign = await currentCampaign();
  if (!campaign) {
    paint(root, html`<h1>${t("progress.title")}</h1><p>${t("progress.noCampaign")}</p>`);
    return;
  }
  const area = params.area || campaign.root_area;
  const [node, discrepancies, detail, daily] = await Promise.all([
    api.get(`/campaigns/${campaign.id}/progress`, { params: { area, depth: 1 }, signal }),
    discrepanciesOf(campaign.id, area, signal),
    area === campaign.root_area ? null : api.get(`/areas/${area}`, { signal }),
    dailySeries(campaign.id, area, signal),
  ]);
  const state = await loadCampaigns();
  paint(
    root,
    html`${breadcrumb(campaign, node, detail)}
      <h1>${node.name}</h1>
      <p class="lede">${campaign.name}</p>
      ${campaignPicker(state)}
      ${summary(campaign, node)}
      ${provisionalNote(node)}
      ${discrepancyNotes(node, discrepancies)}
      ${unattributedNote(node, discrepancies)}
      <p class="notice notice-free" role="note">${t("progress.free")}</p>
      ${childrenSection(node)}
      ${dailySection(campaign, node, daily, chartWidth(root))}
      ${about(campaign, node)}`,
  );
  on(
    root,
    "change",
    "[data-action=campaign]",
    (_, select) => {
      selectCampaign(Number(select.value));
      navigate("/progress");
    },
    { signal },
  );
}
