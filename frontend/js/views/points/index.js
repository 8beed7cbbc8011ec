// Service points and weekend services (admin, supervisor): the list, the form to open or change a
// point (hours, counters, coordinates; a weekend service's RW/RT, date and window), its closures,
// a weekend service's devices and operators, and the planner that ranks where to go next.
// Each section is a module of this folder; this one draws the page and joins them.
//
// A supervisor works inside their area (the API decides every request); an admin in the campaign's
// city. Changes that cancel bookings are confirmed after seeing the list (form.js).

import { currentCampaign, isWithin } from "../../campaigns.js";
import { fmt, t, todayInJakarta } from "../../i18n.js";
import { on, wireJumps } from "../../lib/dom.js";
import { html, render as paint } from "../../lib/html.js";
import { allPages, areasIn, slotError } from "../../lib/staffkit.js";
import { session } from "../../store.js";
import { closuresSection, showClosures, wireClosures } from "./closures.js";
import { crewSection, showCrew, wireCrew } from "./crew.js";
import { KINDS, WEEKDAYS, fill, formSection, wireForm, windowsText } from "./form.js";
import { plannerSection, wirePlanner } from "./planner.js";

function whenText(p) {
  if (p.kind === "weekend_event") return html`${fmt.shortDate(p.event_date)} · ${p.event_start}–${p.event_end}`;
  const days = WEEKDAYS.filter((d) => p.opening_hours?.[d]?.length);
  if (!days.length) return t("points.noHours");
  return days.map((d) => `${t(`weekday.${d}.short`)} ${windowsText(p.opening_hours[d])}`).join(" · ");
}

// "RW 012" is in every other kelurahan: a place below a kelurahan is named with the areas above it, up to its kelurahan.
const KELURAHAN_PARTS = 4;
function placeName(code, names) {
  const parts = code.split(".");
  const chain = [];
  for (let n = parts.length; n >= Math.min(parts.length, KELURAHAN_PARTS); n -= 1) {
    const area = parts.slice(0, n).join(".");
    chain.push(names.get(area) ?? area);
  }
  return chain.join(", ");
}

function pointsTable(points, names) {
  if (!points.length) return html`<p data-points="none">${t("points.none")}</p>`;
  return html`<div class="table-wrap" role="region" aria-labelledby="points-caption" tabindex="0">
    <table class="table" data-table="points">
      <caption id="points-caption">${t("points.caption", { count: fmt.number(points.length) })}</caption>
      <thead><tr>
        <th scope="col">${t("points.name")}</th>
        <th scope="col" class="wide-only">${t("points.when")}</th>
        <th scope="col" class="num wide-only">${t("points.counters")}</th>
        <th scope="col">${t("dispatch.action")}</th>
      </tr></thead>
      <tbody>${points.map(
        (p) => html`<tr data-point="${p.id}" data-kind="${p.kind}">
          <th scope="row">${p.name}${p.active ? "" : html` <span class="badge">${t("points.inactive")}</span>`}<br>
            <span class="code">${t(`where.kind.${p.kind}`)} · ${placeName(p.area, names)}</span></th>
          <td class="wide-only">${whenText(p)}</td>
          <td class="num wide-only">${fmt.number(p.counters)}</td>
          <td><button type="button" class="button small" data-action="edit-point" data-id="${p.id}">${t("points.edit")}</button></td>
        </tr>`,
      )}</tbody>
    </table>
  </div>`;
}

function byKindThenName(a, b) {
  return KINDS.indexOf(a.kind) - KINDS.indexOf(b.kind) || (b.event_date ?? "").localeCompare(a.event_date ?? "") || a.name.localeCompare(b.name, "id");
}

export async function render(root, { signal }) {
  const me = session.state.me;
  const campaign = await currentCampaign();
  const scope = me.area ?? campaign?.root_area;
  if (!scope) {
    paint(root, html`<h1>${t("tools.points")}</h1><p class="notice">${t("devices.noCampaign")}</p>`);
    return;
  }
  const today = todayInJakarta();
  const [areas, deviceList, operatorList] = await Promise.all([
    areasIn(scope, signal),
    allPages("/devices", { signal, maxPages: 20 }),
    allPages("/operators", { params: { status: "active" }, signal, maxPages: 20 }),
  ]);
  const areaNames = new Map(areas.map((a) => [a.code, a.name]));
  const devices = new Map(deviceList.map((d) => [d.id, d]));
  const operators = new Map(operatorList.map((o) => [o.id, o]));
  const pointNames = new Map();
  let points = [];

  paint(
    root,
    html`<h1>${t("tools.points")}</h1>
      <p class="lede">${t("points.lede", { area: areaNames.get(scope) ?? scope })}</p>
      <nav class="in-page" aria-label="${t("devices.sections")}"><ul>
        <li><a href="#/staff/points" data-jump="points-title">${t("points.listTitle")}</a></li>
        <li><a href="#/staff/points" data-jump="form-title">${t("points.formJump")}</a></li>
        <li><a href="#/staff/points" data-jump="planner-title">${t("points.plannerTitle")}</a></li>
      </ul></nav>
      <section aria-labelledby="points-title">
        <h2 id="points-title">${t("points.listTitle")}</h2>
        <div data-slot="points" aria-live="polite"></div>
      </section>
      ${formSection()}
      ${closuresSection(today)}
      ${crewSection()}
      ${plannerSection(today)}`,
  );
  const form = root.querySelector("[data-form=point]");
  const listSlot = root.querySelector("[data-slot=points]");
  let pick = null; // the planner's free crew, ticked on the weekend service it opened

  const loadPoints = async () => {
    try {
      points = (await allPages("/service-points", { params: { area: scope }, signal, maxPages: 10 })).sort(byKindThenName);
      for (const p of points) pointNames.set(p.id, p.name);
      paint(listSlot, pointsTable(points, areaNames));
    } catch (error) {
      paint(listSlot, slotError(error));
    }
  };

  const select = async (point) => {
    fill(form, point, areas);
    showMap();
    paint(root.querySelector("[data-slot=form-title]"), t("points.editTitle", { name: point.name }));
    await showClosures(root, { point, today, signal });
    const crew = root.querySelector("[data-section=crew]");
    if (point.kind === "weekend_event") {
      try {
        await showCrew(root, { point, scope, devices, operators, signal, pick });
      } catch (error) {
        paint(root.querySelector("[data-slot=crew-choices]"), slotError(error)); // the point itself is saved
      }
    } else crew.hidden = true;
    pick = null;
  };

  const startNew = (draft = {}) => {
    fill(form, draft, areas);
    showMap();
    paint(root.querySelector("[data-slot=form-title]"), t("points.newTitle"));
    root.querySelector("[data-section=closures]").hidden = true;
    root.querySelector("[data-section=crew]").hidden = true;
  };

  const showMap = wireForm(form, {
    areas,
    names: pointNames,
    signal,
    saved: async (point) => {
      await loadPoints();
      await select(point);
    },
  });
  wireClosures(root, { names: pointNames, today, signal });
  wireCrew(root, { devices, operators, signal });
  wirePlanner(root, {
    scope,
    signal,
    planHere: (unit, plan) => {
      startNew({ kind: "weekend_event", name: t("points.eventName", { name: unit.name, kelurahan: unit.kelurahan_name }), area: unit.code, event_date: plan.date, counters: 2 });
      // As many devices and operators as the service has counters, from those free that day,
      // those posted in the RW's kecamatan first.
      const kecamatan = unit.code.split(".").slice(0, 3).join(".");
      const nearFirst = (list, posting) => [...list].sort((a, b) => Number(isWithin(posting(b) ?? "", kecamatan)) - Number(isWithin(posting(a) ?? "", kecamatan)));
      pick = {
        devices: nearFirst(plan.free_devices, (d) => devices.get(d.id)?.placed?.area).slice(0, 2).map((d) => d.id),
        operators: nearFirst(plan.free_operators, (o) => operators.get(o.id)?.assigned?.area).slice(0, 2).map((o) => o.id),
      };
      form.scrollIntoView({ block: "start" });
      form.elements.name.focus({ preventScroll: true });
    },
  });
  startNew();
  await loadPoints();

  on(
    root,
    "click",
    "[data-action=edit-point]",
    async (_, button) => {
      await select(points.find((p) => String(p.id) === button.dataset.id));
      form.scrollIntoView({ block: "start" });
      form.elements.name.focus({ preventScroll: true });
    },
    { signal },
  );
  on(root, "click", "[data-action=new-point]", () => startNew(), { signal });
  wireJumps(root, signal);
}
