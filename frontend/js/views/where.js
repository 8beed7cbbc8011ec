// Where and when (public): today's and the coming days' open service points and weekend RT/RW
// services, filtered by kecamatan and kelurahan, with the hours, today's queue, and links to each
// point's board and to taking a number. The filter lives in the address (#/where?area=36.74.01).

import { api } from "../api.js";
import { currentCampaign, isWithin } from "../campaigns.js";
import { html, render as paint } from "../lib/html.js";
import { areaPicker } from "../lib/public.js";
import { failure, loading } from "../lib/view.js";
import { fmt, parseDate, t, todayInJakarta } from "../i18n.js";

const DAYS = 7;

function addDays(iso, days) {
  const d = parseDate(iso);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

function hoursText(hours) {
  if (!hours?.length) return t("where.closed");
  return hours.map(([from, to]) => `${from}–${to}`).join(", ");
}

function queueText(queue) {
  if (!queue) return "";
  return html`<p class="queue-now" data-queue="${queue.service_point_id}">
    <span class="badge ${queue.open_now ? "badge-ok" : "badge-muted"}">${queue.open_now ? t("board.openNow") : t("board.closedNow")}</span>
    ${t("where.queue", { waiting: fmt.number(queue.waiting), minutes: fmt.number(queue.estimated_wait_minutes) })}
  </p>`;
}

function pointCard(point, { isToday, queue, detail }) {
  const weekend = point.kind === "weekend_event";
  return html`<li class="point ${weekend ? "point-weekend" : ""}" data-point="${point.id}">
    <h4 class="point-name">${point.name}</h4>
    <p class="point-kind">${t(`where.kind.${point.kind}`)}${detail?.address ? html` · ${detail.address}` : ""}</p>
    <p class="point-hours"><span class="visually-hidden">${t("where.hours")}: </span>${hoursText(point.hours)}</p>
    ${point.note ? html`<p class="hint">${point.note}</p>` : ""}
    ${isToday ? queueText(queue) : ""}
    <p class="point-links">
      <a href="#/board/${point.id}">${t("where.board")}</a>
      ${isToday && queue?.open_now ? html` · <a href="#/ticket/${point.id}">${t("where.ticket")}</a>` : ""}
    </p>
  </li>`;
}

// The coming days: one line per point (the board and the details are a tap away on the day itself).
function pointLine(point) {
  return html`<li class="point-line ${point.kind === "weekend_event" ? "point-weekend" : ""}" data-point="${point.id}">
    <span class="point-line-name">${point.name}${point.kind === "weekend_event" ? html` <span class="tag">${t("where.weekendTag")}</span>` : ""}</span>
    <span class="point-hours">${hoursText(point.hours)}</span>
    ${point.note ? html`<span class="hint">${point.note}</span>` : ""}
  </li>`;
}

async function daysFor(rootArea, area, signal) {
  // A kelurahan is served by its kecamatan's office too: ask for the kecamatan and keep both.
  const kecamatan = area ? area.split(".").slice(0, 3).join(".") : "";
  const today = todayInJakarta();
  const scope = kecamatan || rootArea;
  const [schedule, queues, points] = await Promise.all([
    api.get("/schedule", { params: { area: scope, from: today, to: addDays(today, DAYS - 1) }, signal }),
    api.get("/queues", { params: { area: scope }, signal }),
    api.get("/service-points", { params: { area: scope, limit: 500 }, signal }).catch(() => ({ items: [] })),
  ]);
  const keep = (p) => !area || area === kecamatan || isWithin(p.area, area) || p.area === kecamatan;
  const queueById = new Map(queues.map((q) => [q.service_point_id, q]));
  const detailById = new Map(points.items.map((p) => [p.id, p]));
  return html`${schedule.map((day) => {
    const shown = day.points.filter(keep);
    return html`<section class="day" data-day="${day.date}" aria-labelledby="day-${day.date}">
      <h2 id="day-${day.date}">${day.date === today ? html`${t("where.today")} · ` : ""}${fmt.date(day.date)}</h2>
      ${
        !shown.length
          ? html`<p class="hint">${t("where.none")}</p>`
          : day.date === today
            ? html`<ul class="points">${shown.map((p) => pointCard(p, { isToday: true, queue: queueById.get(p.id), detail: detailById.get(p.id) }))}</ul>`
            : html`<ul class="point-lines">${shown.map((p) => pointLine(p))}</ul>`
      }
    </section>`;
  })}`;
}

export async function render(root, { query, signal }) {
  const campaign = await currentCampaign({ signal });
  const rootArea = campaign?.root_area ?? "36.74";
  const chosen = query.get("area") || "";
  const initial = chosen && isWithin(chosen, rootArea) ? chosen : "";
  const picker = areaPicker({ idPrefix: "where-area", name: "area", levels: ["kecamatan", "kelurahan"], anyLabel: t("where.allKecamatan") });
  const first = await daysFor(rootArea, initial, signal);
  paint(
    root,
    html`<h1>${t("where.title")}</h1>
      <p class="lede">${t("where.lede")}</p>
      <p class="notice notice-free">${t("progress.free")}</p>
      <form class="filters" data-form="where" aria-label="${t("where.filter")}">
        <div class="filter-fields" data-area-picker>${picker.markup}</div>
      </form>
      <div data-days aria-live="polite">${first}</div>
      <p class="hint">${t("where.homeVisit")} <a href="#/visit">${t("where.homeVisitLink")}</a></p>`,
  );
  const box = root.querySelector("[data-area-picker]");
  const list = root.querySelector("[data-days]");
  await picker.wire(box, rootArea, signal, initial);
  let mine = 0;
  // A new filter reloads the list in place (focus stays on the select) and goes into the address.
  box.addEventListener(
    "area-change",
    async () => {
      const area = picker.value(box);
      history.replaceState(null, "", area ? `#/where?area=${area}` : "#/where");
      const turn = ++mine;
      list.setAttribute("aria-busy", "true");
      paint(list, loading());
      try {
        const days = await daysFor(rootArea, area, signal);
        if (turn === mine) paint(list, days);
      } catch (error) {
        if (turn === mine && !signal.aborted) paint(list, failure(error));
      } finally {
        if (turn === mine) list.removeAttribute("aria-busy");
      }
    },
    { signal },
  );
}
