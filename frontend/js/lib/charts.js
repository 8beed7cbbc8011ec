// Charts in plain SVG (no library): bars for shares of a target, a line for a daily series.
// Sizes go into SVG attributes, never style attributes, because the CSP forbids inline styles.

import { html } from "./html.js";
import { fmt, parseDate } from "../i18n.js";

const round = (n) => Math.round(n * 10) / 10;

/**
 * Horizontal bars, one per item: {label, percent (0–100, may be null), text}. The 100 % end of
 * each track is the target.
 */
export function bars(items, { caption }) {
  return html`<figure class="bars">
    <figcaption>${caption}</figcaption>
    <ol class="bar-list">
      ${items.map(
        (item) => html`<li class="bar-row">
          <span class="bar-label">${item.label}</span>
          <svg class="bar-svg" viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true" focusable="false">
            <rect class="bar-track" x="0" y="0" width="100" height="10"></rect>
            <rect class="bar-fill" x="0" y="0" width="${round(Math.min(Math.max(item.percent ?? 0, 0), 100))}" height="10"></rect>
          </svg>
          <span class="bar-value">${item.text}</span>
        </li>`,
      )}
    </ol>
  </figure>`;
}

const PAD = { left: 64, right: 12, top: 16, bottom: 32 };

/**
 * The cumulative line of a daily series against the target, and the pace needed from the last
 * day to reach the target by the deadline. series: [{date, cumulative}] sorted by date; `width`
 * in CSS pixels, so that the chart's text stays the page's size.
 */
export function progressLine({ series, target, deadline, label, legend, width: cssWidth = 640 }) {
  const width = Math.round(cssWidth);
  const height = Math.round(Math.min(Math.max(width * 0.55, 220), 340));
  const first = parseDate(series[0].date).getTime();
  const last = series[series.length - 1];
  const end = Math.max(parseDate(deadline ?? last.date).getTime(), parseDate(last.date).getTime());
  const top = Math.max(target ?? 0, ...series.map((d) => d.cumulative)) * 1.05 || 1;
  const x = (iso) => PAD.left + ((parseDate(iso).getTime() - first) / Math.max(end - first, 1)) * (width - PAD.left - PAD.right);
  const y = (value) => height - PAD.bottom - (value / top) * (height - PAD.top - PAD.bottom);
  const points = series.map((d) => `${round(x(d.date))},${round(y(d.cumulative))}`).join(" ");
  const yTicks = [0, 0.25, 0.5, 0.75, 1].map((share) => Math.round(share * (target || top / 1.05)));
  const xTicks = [series[0].date, deadline && deadline !== series[0].date ? deadline : last.date];
  return html`<figure class="line-chart">
    <svg viewBox="0 0 ${width} ${height}" role="img" aria-label="${label}" focusable="false">
      ${yTicks.map(
        (value) => html`<g class="tick">
          <line x1="${PAD.left}" x2="${width - PAD.right}" y1="${round(y(value))}" y2="${round(y(value))}"></line>
          <text x="${PAD.left - 8}" y="${round(y(value)) + 5}" text-anchor="end">${fmt.compact(value)}</text>
        </g>`,
      )}
      ${xTicks.map(
        (iso, i) => html`<text class="tick-label" x="${round(x(iso))}" y="${height - 10}" text-anchor="${i === 0 ? "start" : "end"}">${fmt.shortDate(iso)}</text>`,
      )}
      ${target ? html`<line class="series-target" x1="${PAD.left}" x2="${width - PAD.right}" y1="${round(y(target))}" y2="${round(y(target))}"></line>` : ""}
      ${
        target && deadline && last.cumulative < target
          ? html`<line class="series-pace" x1="${round(x(last.date))}" y1="${round(y(last.cumulative))}" x2="${round(x(deadline))}" y2="${round(y(target))}"></line>`
          : ""
      }
      <polyline class="series-recorded" points="${points}"></polyline>
    </svg>
    <figcaption>
      <ul class="legend">
        <li><span class="key key-recorded" aria-hidden="true"></span>${legend.recorded}</li>
        ${target ? html`<li><span class="key key-target" aria-hidden="true"></span>${legend.target}</li>` : ""}
        ${target && deadline ? html`<li><span class="key key-pace" aria-hidden="true"></span>${legend.pace}</li>` : ""}
      </ul>
    </figcaption>
  </figure>`;
}
