// The inbox: complaints filtered by status, kecamatan and age.

import { currentCampaign } from "../../campaigns.js";
import { html, render as paint } from "../../lib/html.js";
import { childrenOf } from "../../lib/public.js";
import { allPages, field, slotError } from "../../lib/staffkit.js";
import { daysBetween, fmt, t, todayInJakarta } from "../../i18n.js";
import { session } from "../../store.js";
import { AGES, STATUSES, confidentiality, handlerText, kecamatanOf, receivedOn, rupiah, staffAccounts, statusBadge } from "./common.js";

function filterFrom(query) {
  const status = query.get("status") ?? "open";
  return {
    status: status === "open" || STATUSES.includes(status) || status === "" ? status : "open",
    area: /^[0-9.]{2,40}$/.test(query.get("area") ?? "") ? query.get("area") : "",
    age: AGES.includes(query.get("age")) ? query.get("age") : "",
    mine: query.get("mine") === "1",
  };
}

function inboxTable(items, names, people) {
  if (!items.length) return html`<p data-complaints="none">${t("complaints.none")}</p>`;
  return html`<div class="table-wrap" role="region" aria-labelledby="complaints-caption" tabindex="0">
    <table class="table" data-table="complaints">
      <caption id="complaints-caption">${t("complaints.caption", { count: fmt.number(items.length) })}</caption>
      <thead><tr>
        <th scope="col">${t("complaints.complaint")}</th>
        <th scope="col">${t("complaints.status")}</th>
        <th scope="col" class="num">${t("complaints.amount")}</th>
        <th scope="col" class="wide-only">${t("complaints.received")}</th>
        <th scope="col" class="wide-only">${t("complaints.handler")}</th>
      </tr></thead>
      <tbody>${items.map(
        (c) => html`<tr data-complaint="${c.id}" data-status="${c.status}">
          <th scope="row"><a href="#/staff/complaints/${c.id}">#${c.id} · ${names.get(kecamatanOf(c.area)) ?? c.area}</a>
            <br><span class="complaint-snippet" data-snippet>${c.description.length > 90 ? `${c.description.slice(0, 90)}…` : c.description}</span></th>
          <td>${statusBadge(c.status)}${c.overdue ? html` <span class="badge badge-behind" data-overdue>${t("complaints.overdue")}</span>` : ""}</td>
          <td class="num">${rupiah(c.amount)}</td>
          <td class="wide-only">${fmt.mediumDate(receivedOn(c.received_at))}<br><span class="hint">${t("complaints.dueOn", { date: fmt.shortDate(c.due_on) })}</span></td>
          <td class="wide-only">${handlerText(c.handler_id, people)}</td>
        </tr>`,
      )}</tbody>
    </table>
  </div>`;
}

export async function renderInbox(root, { query, signal, navigate }) {
  const me = session.state.me;
  const campaign = await currentCampaign();
  const [kecamatan, accounts] = await Promise.all([campaign ? childrenOf(campaign.root_area, signal) : [], staffAccounts(signal)]);
  const names = new Map(kecamatan.map((a) => [a.code, a.name]));
  const people = new Map(accounts.map((u) => [u.id, u.display_name]));
  const filter = filterFrom(query);
  paint(
    root,
    html`<h1>${t("complaints.title")}</h1>
      <p class="lede">${t("complaints.lede")}</p>
      ${confidentiality()}
      <form class="form inline-form" data-form="complaint-filter" novalidate>
        ${field("complaints-status", "status", t("complaints.status"), html`<select id="complaints-status" name="status">
          <option value="open" ${filter.status === "open" ? html`selected` : ""}>${t("complaints.open")}</option>
          ${STATUSES.map((s) => html`<option value="${s}" ${filter.status === s ? html`selected` : ""}>${t(`report.status.${s}`)}</option>`)}
          <option value="" ${filter.status === "" ? html`selected` : ""}>${t("complaints.all")}</option>
        </select>`)}
        ${field("complaints-area", "area", t("level.kecamatan.one"), html`<select id="complaints-area" name="area">
          <option value="">${t("complaints.allAreas")}</option>
          ${kecamatan.map((a) => html`<option value="${a.code}" ${filter.area === a.code ? html`selected` : ""}>${a.name}</option>`)}
        </select>`)}
        ${field("complaints-age", "age", t("complaints.age"), html`<select id="complaints-age" name="age">
          <option value="">${t("complaints.anyAge")}</option>
          ${AGES.map((a) => html`<option value="${a}" ${filter.age === a ? html`selected` : ""}>${t(`complaints.age.${a}`)}</option>`)}
        </select>`)}
        <label class="check"><input type="checkbox" name="mine" value="1" ${filter.mine ? html`checked` : ""}>${t("complaints.mine")}</label>
        <p><button type="submit" class="button">${t("complaints.show")}</button></p>
      </form>
      <div data-slot="complaints" aria-live="polite"></div>`,
  );
  const slot = root.querySelector("[data-slot=complaints]");
  paint(slot, html`<p class="loading" role="status"><span class="spinner" aria-hidden="true"></span>${t("common.loading")}</p>`);
  try {
    const params = {
      status: STATUSES.includes(filter.status) ? filter.status : undefined,
      area: filter.area || undefined,
      overdue: filter.age === "overdue" ? "true" : undefined,
      handler_id: filter.mine ? me.id : undefined,
    };
    let items = await allPages("/complaints", { params, signal, maxPages: 10 });
    if (filter.status === "open") items = items.filter((c) => c.status !== "closed");
    if (filter.age === "7" || filter.age === "30") {
      const today = todayInJakarta();
      items = items.filter((c) => daysBetween(receivedOn(c.received_at), today) >= Number(filter.age));
    }
    // Overdue first, then the oldest: what needs an answer soonest.
    items.sort((a, b) => Number(b.overdue) - Number(a.overdue) || a.due_on.localeCompare(b.due_on) || a.id - b.id);
    paint(slot, inboxTable(items, names, people));
  } catch (error) {
    paint(slot, slotError(error));
  }
  root.querySelector("[data-form=complaint-filter]").addEventListener(
    "submit",
    (event) => {
      event.preventDefault();
      const f = event.currentTarget.elements;
      const search = new URLSearchParams();
      search.set("status", f.status.value);
      if (f.area.value) search.set("area", f.area.value);
      if (f.age.value) search.set("age", f.age.value);
      if (f.mine.checked) search.set("mine", "1");
      navigate(`/staff/complaints?${search}`);
    },
    { signal },
  );
}
