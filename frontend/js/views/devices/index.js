// Devices and operators (city office, supervisors, viewers): where every recording device and
// operator is today, moving a device, loans due back to their lender, each kecamatan's capacity
// against the pace it needs, and the allocation plan with an apply button for the city office.
// Each section is a module of this folder; this one draws the page and joins them.
//
// What a role may do follows the API: every staff role reads; admin and supervisor move devices
// (a supervisor only devices placed in their area, only to places inside it); admin, supervisor
// and viewer ask for a plan; only the admin applies one. Buttons a role may not use are not drawn.

import { api } from "../../api.js";
import { currentCampaign, isWithin } from "../../campaigns.js";
import { fmt, t, todayInJakarta } from "../../i18n.js";
import { wireJumps } from "../../lib/dom.js";
import { html, render as paint } from "../../lib/html.js";
import { allPages, areasIn } from "../../lib/staffkit.js";
import { session } from "../../store.js";
import { capacitySection, loadCapacity } from "./capacity.js";
import { loansSection, loansTable } from "./loans.js";
import { moveSection, paintMoveChoices, placeOptions, wireMove } from "./move.js";
import { placeBook } from "./places.js";
import { planSection, wirePlan } from "./plan.js";
import { summaryTable, whereLists, whereSection, wireFilter } from "./where.js";

const MOVERS = ["admin", "supervisor"];
const APPLIERS = ["admin"];
const PLANNERS = ["admin", "supervisor", "viewer"];

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

    ${whereSection(book)}

    ${canMove ? moveSection(today) : ""}

    ${loansSection()}

    ${capacitySection()}

    ${canPlan ? planSection(today) : ""}`;
}

export async function render(root, { signal }) {
  const me = session.state.me;
  const campaign = await currentCampaign();
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
  // A kecamatan's supervisor sees their own devices and operators first; the city is one choice away.
  const own = book.kecamatanOf(me.area);
  if (own) root.querySelector("[data-form=filter]").elements.kecamatan.value = own;
  const slot = (name) => root.querySelector(`[data-slot=${name}]`);
  const moveForm = root.querySelector("[data-form=move]");
  // What the sections share: the page, the places, the lists as last loaded, who may do what.
  const view = { root, signal, campaign, today, book, state, slot, mayMove, canApply };
  const paintWhere = whereLists(view);

  view.loadWhere = async function loadWhere() {
    const [devices, operators, summary] = await Promise.all([
      allPages("/devices", { signal, maxPages: 20 }),
      allPages("/operators", { signal, maxPages: 20 }),
      api.get("/allocations/summary", { params: { area: campaign.root_area }, signal }),
    ]);
    Object.assign(state, { devices, operators, summary, byId: new Map(devices.map((d) => [d.id, d])) });
    paint(slot("summary"), summaryTable(summary));
    paintWhere();
    paint(slot("loans"), loansTable(devices, book, today));
    if (moveForm) paintMoveChoices(moveForm, view);
  };
  view.loadCapacity = () => loadCapacity(view);
  // After any change: every figure on the page again (the capacity follows the devices' places).
  view.refresh = () => Promise.all([view.loadWhere(), view.loadCapacity()]);

  await view.loadWhere();
  if (moveForm) {
    paint(moveForm.elements.place, placeOptions(book, points, moveScope ?? campaign.root_area));
  }
  view.loadCapacity(); // the rest of the page is usable while the capacity loads

  wireFilter(view, paintWhere);
  wireJumps(root, signal);
  if (moveForm) wireMove(moveForm, view);
  const planForm = root.querySelector("[data-form=plan]");
  if (planForm) wirePlan(planForm, view);
}
