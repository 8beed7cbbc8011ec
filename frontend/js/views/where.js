// Where and when (public): today's and the next 14 days' open service points and weekend RT/RW
// services (so the coming weekend is always there), filtered by kecamatan and kelurahan. What to
// bring (the campaign's text) is said once. Every point shows its kecamatan, kelurahan, RW/RT,
// address, hours and, with coordinates, map links (OpenStreetMap and geo:); today's points open
// now come first, with the queue and links to the board and to taking a number; the coming days
// are folded (`comingDay`). The filter lives in the address (#/where?area=36.74.01) and, when the
// resident chose it, on the phone (`AREA_KEY`).

import { api } from "../api.js";
import { currentCampaign, isWithin } from "../campaigns.js";
import { html, render as paint } from "../lib/html.js";
import { areaPicker, myBookings, myTickets, opensAgain, queueLine, ticketPath } from "../lib/public.js";
import { failure, loading } from "../lib/view.js";
import { keep, kept } from "../store.js";
import { addDays, fmt, t, todayInJakarta } from "../i18n.js";

const DAYS = 15; // today and the next 14 days
const WHAT_TO_BRING = "Bawa Kartu Keluarga (KK) asli atau fotokopi";

function hoursText(hours) {
  if (!hours?.length) return t("where.closed");
  return hours.map(([from, to]) => fmt.timeRange(from, to)).join(", ");
}

function placeText(point) {
  const places = point.places ?? {};
  const parts = [];
  if (places.kecamatan) parts.push(`${t("where.place.kecamatan")} ${places.kecamatan}`);
  if (places.kelurahan) parts.push(`${t("where.place.kelurahan")} ${places.kelurahan}`);
  if (places.rw) parts.push(places.rw);
  if (places.rt) parts.push(places.rt);
  return parts.join(" · ");
}

/** OpenStreetMap and geo: links for a point with coordinates (nothing without them). */
export function mapLinks(point) {
  const { latitude: lat, longitude: lon } = point;
  if (lat == null || lon == null) return "";
  const osm = `https://www.openstreetmap.org/?mlat=${lat}&mlon=${lon}#map=18/${lat}/${lon}`;
  return html`<span class="point-map">
    <a href="${osm}" rel="noopener" target="_blank" data-map="osm">${t("where.map")}</a> ·
    <a href="geo:${lat},${lon}" data-map="geo">${t("where.mapApp")}</a>
  </span>`;
}

// Where and how to get there: the same on every day's entry.
function pointDetails(point) {
  const place = placeText(point);
  return html`${place ? html`<span class="point-place" data-place>${place}</span>` : ""}
    ${point.address ? html`<span class="point-address" data-address>${point.address}</span>` : ""}
    ${mapLinks(point)}`;
}

function queueText(queue) {
  if (!queue) return "";
  return html`<p class="queue-now" data-queue="${queue.service_point_id}">
    <span class="badge ${queue.open_now ? "badge-ok" : "badge-muted"}">${queue.open_now ? t("board.openNow") : t("board.closedNow")}</span>
    ${queueLine(queue)}
    ${queue.open_now ? "" : html`<span class="opens-again" data-next-opening>${opensAgain(queue.next_opening)}</span>`}
  </p>`;
}

function pointCard(point, { isToday, queue }) {
  const weekend = point.kind === "weekend_event";
  return html`<li class="point ${weekend ? "point-weekend" : ""}" data-point="${point.id}">
    <h3 class="point-name">${point.name}</h3>
    <p class="point-kind">${t(`where.kind.${point.kind}`)}</p>
    <p class="point-details">${pointDetails(point)}</p>
    <p class="point-hours"><span class="visually-hidden">${t("where.hours")}: </span>${hoursText(point.hours)}</p>
    ${point.note ? html`<p class="hint">${point.note}</p>` : ""}
    ${isToday ? queueText(queue) : ""}
    <p class="point-links">
      <a href="#/board/${point.id}">${t("where.board")}</a>
      ${isToday && queue?.open_now ? html` · <a href="#/ticket/${point.id}">${t("where.ticket")}</a>` : ""}
      · <a href="#/appointment/${point.id}" data-book>${t("where.book")}</a>
    </p>
  </li>`;
}

// The coming days: one line per point (the board and the queue are a tap away on the day itself).
function pointLine(point) {
  return html`<li class="point-line ${point.kind === "weekend_event" ? "point-weekend" : ""}" data-point="${point.id}">
    <span class="point-line-name">${point.name}${point.kind === "weekend_event" ? html` <span class="tag">${t("where.weekendTag")}</span>` : ""}</span>
    <span class="point-hours">${hoursText(point.hours)}</span>
    ${point.note ? html`<span class="hint">${point.note}</span>` : ""}
    <span class="point-details">${pointDetails(point)}</span>
    <a href="#/appointment/${point.id}" data-book>${t("where.book")}</a>
  </li>`;
}

// A coming day, folded: on a phone fourteen days of every office (the same hours each weekday)
// were metres of scrolling. The line says how many places open and names the day's RT/RW
// services, which are what a resident looks ahead for; the places are one tap away, those
// services first.
function comingDay(day, shown) {
  const events = shown.filter((p) => p.kind === "weekend_event");
  const ordered = [...events, ...shown.filter((p) => p.kind !== "weekend_event")];
  return html`<details class="day day-coming" data-day="${day.date}">
    <summary>
      <h2 id="day-${day.date}">${fmt.date(day.date)}</h2>
      <span class="day-count" data-day-count>${shown.length ? t("where.dayOpen", { count: fmt.number(shown.length) }) : t("where.dayNone")}</span>
      ${events.length ? html`<span class="day-events" data-day-events>${events.map((p, i) => html`${i ? " · " : ""}${p.name}`)}</span>` : ""}
    </summary>
    ${shown.length ? html`<ul class="point-lines">${ordered.map(pointLine)}</ul>` : html`<p class="hint">${t("where.none")}</p>`}
  </details>`;
}

async function daysFor(rootArea, area, signal) {
  // A kelurahan is served by its kecamatan's office too: ask for the kecamatan and keep both.
  const kecamatan = area ? area.split(".").slice(0, 3).join(".") : "";
  const today = todayInJakarta();
  const scope = kecamatan || rootArea;
  const [schedule, queues] = await Promise.all([
    api.get("/schedule", { params: { area: scope, from: today, to: addDays(today, DAYS - 1) }, signal }).then((page) => page.items),
    api.get("/queues", { params: { area: scope, limit: 500 }, signal }).then((page) => page.items),
  ]);
  const served = (p) => !area || area === kecamatan || isWithin(p.area, area) || p.area === kecamatan;
  const queueById = new Map(queues.map((q) => [q.service_point_id, q]));
  const openFirst = (a, b) => Number(Boolean(queueById.get(b.id)?.open_now)) - Number(Boolean(queueById.get(a.id)?.open_now));
  return html`${schedule.map((day) => {
    const shown = day.points.filter(served);
    if (day.date !== today) return comingDay(day, shown);
    shown.sort(openFirst); // stable: open now first, then as listed
    return html`<section class="day" data-day="${day.date}" aria-labelledby="day-${day.date}">
      <h2 id="day-${day.date}">${t("where.today")} · ${fmt.date(day.date)}</h2>
      ${
        shown.length
          ? html`<ul class="points">${shown.map((p) => pointCard(p, { isToday: true, queue: queueById.get(p.id) }))}</ul>`
          : html`<p class="hint">${t("where.none")}</p>`
      }
    </section>`;
  })}`;
}

// The area a resident last chose here, kept on the phone: coming back (often from the menu, whose
// link has no area) shows their own kecamatan. Only a choice made on this page is kept, never an
// area that came in a shared link.
const AREA_KEY = "rekam.where.area";

// The numbers this phone took today and its bookings from today on: back to them in one tap.
function keptTickets() {
  const kept = myTickets(todayInJakarta());
  const booked = myBookings(todayInJakarta());
  if (!kept.length && !booked.length) return "";
  return html`<section class="notice" data-my-tickets aria-label="${t("where.myTickets")}">
    ${kept.length ? html`<p>${t("where.myTickets")}:
      ${kept.map((k, i) => html`${i ? " · " : ""}<a href="#${ticketPath(k)}">${t("where.myTicket", { number: fmt.number(k.number) })}</a>`)}
    </p>` : ""}
    ${booked.length ? html`<p data-my-bookings>${t("where.myBookings")}:
      ${booked.map((b, i) => html`${i ? " · " : ""}<a href="#/appointment/c/${b.code}">${fmt.shortDate(b.day)} ${b.start}</a>`)}
    </p>` : ""}
  </section>`;
}

export async function render(root, { query, signal }) {
  const campaign = await currentCampaign();
  const rootArea = campaign?.root_area ?? "36.74";
  const chosen = query.has("area") ? query.get("area") : kept(AREA_KEY) || "";
  const initial = chosen && isWithin(chosen, rootArea) ? chosen : "";
  if (initial && !query.has("area")) history.replaceState(null, "", `#/where?area=${initial}`);
  const picker = areaPicker({ idPrefix: "where-area", name: "area", levels: ["kecamatan", "kelurahan"], anyLabel: t("where.allKecamatan") });
  const bring = campaign?.what_to_bring || WHAT_TO_BRING;
  const first = await daysFor(rootArea, initial, signal);
  paint(
    root,
    html`<h1>${t("where.title")}</h1>
      <p class="lede">${t("where.lede")}</p>
      ${keptTickets()}
      <p class="notice notice-free">${t("progress.free")}</p>
      <p class="point-bring" data-bring><strong>${t("where.bring")}:</strong> ${bring}</p>
      <form class="filters" data-form="where" aria-label="${t("where.filter")}">
        <div class="filter-fields" data-area-picker>${picker.markup}</div>
      </form>
      <div data-days aria-live="polite">${first}</div>
      <p class="hint">${t("where.homeVisit")} <a href="#/visit">${t("where.homeVisitLink")}</a></p>`,
  );
  const box = root.querySelector("[data-area-picker]");
  const list = root.querySelector("[data-days]");
  let mine = 0;
  // A new filter reloads the list in place (focus stays on the select) and goes into the address.
  // Listened to before the picker is wired: a choice made as soon as it is filled counts.
  box.addEventListener(
    "area-change",
    async () => {
      const area = picker.value(box);
      keep(AREA_KEY, area);
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
  await picker.wire(box, rootArea, signal, initial);
}
