// The complaints inbox (admins and complaint handlers): fee complaints filtered by status,
// kecamatan and age; one complaint with its log, the public reply to the reporter, workflow steps
// with their internal note, assignment, the accused operator and the sanction. The reporter's
// identity is never in these answers; an admin may open it with a reason, which the API audits,
// and it is shown only until the page is left (never kept, never put in the address).

import { ApiError, api } from "../api.js";
import { currentCampaign } from "../campaigns.js";
import { on } from "../lib/dom.js";
import { busy, clearErrors, showErrors, showSuccess } from "../lib/forms.js";
import { html, render as paint } from "../lib/html.js";
import { childrenOf } from "../lib/public.js";
import { allPages, field, slotError } from "../lib/staffkit.js";
import { daysBetween, fmt, t, todayInJakarta } from "../i18n.js";
import { session } from "../store.js";

const STATUSES = ["received", "investigating", "substantiated", "unsubstantiated", "action_taken", "closed"];
// The workflow as the API states it; only used to offer the next steps, the API still decides.
const NEXT = {
  received: ["investigating"],
  investigating: ["substantiated", "unsubstantiated"],
  substantiated: ["action_taken"],
  unsubstantiated: ["closed"],
  action_taken: ["closed"],
  closed: [],
};
const AGES = ["overdue", "7", "30"];
const SANCTIONS = ["warning", "suspension", "removal"];

const kecamatanOf = (code) => code.split(".").slice(0, 3).join(".");
const rupiah = (amount) => `Rp ${fmt.number(amount)}`;
const receivedOn = (iso) => new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Jakarta" }).format(new Date(iso));

function confidentiality() {
  return html`<div class="notice notice-confidential" data-confidential>
    <p><strong>${t("complaints.confidentialTitle")}</strong></p>
    <p>${t("complaints.confidential")}</p>
  </div>`;
}

function statusBadge(status) {
  return html`<span class="badge complaint-status status-${status}" data-complaint-status="${status}">${t(`report.status.${status}`)}</span>`;
}

function handlerText(id, people) {
  if (id === null || id === undefined) return t("complaints.unassigned");
  if (id === session.state.me?.id) return t("complaints.you");
  return people.get(id) ?? t("complaints.staffN", { id });
}

/** Admins can read the accounts (names for the log, handlers to assign); handlers cannot. */
async function staffAccounts(signal) {
  if (session.state.me.role !== "admin") return [];
  return allPages("/users", { signal, maxPages: 10 }).catch((error) => {
    if (error instanceof ApiError) return [];
    throw error;
  });
}

// --- the inbox -----------------------------------------------------------------------------

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

async function renderInbox(root, { query, signal, navigate }) {
  const me = session.state.me;
  const campaign = await currentCampaign({ signal });
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

// --- one complaint -------------------------------------------------------------------------

function entryMarkup(entry, people) {
  const author = entry.kind === "message" ? t("complaints.reporter") : handlerText(entry.author_id, people);
  const internal = entry.kind !== "reply" && entry.kind !== "message";
  return html`<li class="message log-${entry.kind}" data-entry="${entry.id}" data-kind="${entry.kind}">
    <p class="message-meta"><strong>${t(`complaints.entry.${entry.kind}`)}</strong> · ${author} · <time datetime="${entry.at}">${fmt.dateTime(entry.at)}</time>
      ${internal ? html` · <span class="tag tag-internal">${t("complaints.internal")}</span>` : entry.kind === "reply" ? html` · <span class="tag">${t("complaints.public")}</span>` : ""}</p>
    ${
      entry.kind === "transition"
        ? html`<p class="log-step">${t(`report.status.${entry.from_status}`)} → ${t(`report.status.${entry.to_status}`)}</p>`
        : ""
    }
    <p class="message-text">${entry.text}</p>
  </li>`;
}

function detailFigures(c, { where, operator, people }) {
  return html`<dl class="figures">
    <div><dt>${t("complaints.status")}</dt><dd>${statusBadge(c.status)}${c.overdue ? html` <span class="badge badge-behind" data-overdue>${t("complaints.overdue")}</span>` : ""}</dd></div>
    <div><dt>${t("complaints.received")}</dt><dd>${fmt.dateTime(c.received_at)}</dd></div>
    <div><dt>${t("complaints.due")}</dt><dd>${fmt.date(c.due_on)}</dd></div>
    <div><dt>${t("complaints.firstReply")}</dt><dd>${c.first_response_at ? fmt.dateTime(c.first_response_at) : "—"}</dd></div>
    <div><dt>${t("complaints.where")}</dt><dd data-where>${where}</dd></div>
    <div><dt>${t("complaints.occurred")}</dt><dd>${fmt.date(c.occurred_on)}</dd></div>
    <div><dt>${t("complaints.amount")}</dt><dd data-amount>${rupiah(c.amount)}</dd></div>
    <div><dt>${t("complaints.operator")}</dt><dd data-operator>${operator}</dd></div>
    <div><dt>${t("complaints.handler")}</dt><dd data-handler>${handlerText(c.handler_id, people)}</dd></div>
    ${c.closed_at ? html`<div><dt>${t("complaints.closed")}</dt><dd>${fmt.dateTime(c.closed_at)}</dd></div>` : ""}
  </dl>`;
}

function reporterBlock(c, isAdmin) {
  if (!c.reporter_contactable) return html`<p data-reporter="none">${t("complaints.reporterNone")}</p>`;
  if (!isAdmin) return html`<p data-reporter="closed">${t("complaints.reporterAdminOnly")}</p>`;
  return html`<p>${t("complaints.reporterLeft")}</p>
    <form class="form" data-form="reporter" novalidate>
      ${field("reporter-reason", "reason", t("complaints.reason"), html`<input id="reporter-reason" name="reason" minlength="10" maxlength="500" required aria-describedby="reporter-reason-hint reporter-reason-error">`, t("complaints.reasonHint"))}
      <div data-form-status tabindex="-1"></div>
      <p><button type="submit" class="button">${t("complaints.openReporter")}</button></p>
    </form>
    <div data-slot="reporter" aria-live="polite"></div>`;
}

/** A section with one text to send: the public reply, or an internal note. */
function textSection(form, { title, label, hint, submit, primary = false }) {
  return html`<section aria-labelledby="${form}-title">
    <h2 id="${form}-title">${title}</h2>
    <form class="form" data-form="${form}" novalidate>
      ${field(`${form}-text`, "text", label, html`<textarea id="${form}-text" name="text" class="prose" rows="4" maxlength="5000" required aria-describedby="${form}-text-hint ${form}-text-error"></textarea>`, hint)}
      <div data-form-status tabindex="-1"></div>
      <p><button type="submit" class="button${primary ? " primary" : ""}">${submit}</button></p>
    </form>
  </section>`;
}

function actionsBlock(c, { isAdmin, handlers, operators }) {
  const me = session.state.me;
  const next = NEXT[c.status] ?? [];
  return html`
    ${textSection("reply", { title: t("complaints.replyTitle"), label: t("complaints.replyText"), hint: t("complaints.replyHint"), submit: t("complaints.sendReply"), primary: true })}
    ${textSection("note", { title: t("complaints.noteTitle"), label: t("complaints.noteText"), hint: t("complaints.noteTextHint"), submit: t("complaints.addNote") })}
    <section aria-labelledby="step-title">
      <h2 id="step-title">${t("complaints.stepTitle")}</h2>
      ${
        next.length
          ? html`<form class="form" data-form="transition" novalidate>
              ${field("step-status", "status", t("complaints.nextStatus"), html`<select id="step-status" name="status" aria-describedby="step-status-error">
                ${next.map((s) => html`<option value="${s}">${t(`report.status.${s}`)}</option>`)}
              </select>`)}
              ${field("step-note", "note", t("complaints.note"), html`<textarea id="step-note" name="note" class="prose" rows="3" maxlength="2000" required aria-describedby="step-note-hint step-note-error"></textarea>`, t("complaints.noteHint"))}
              <div data-form-status tabindex="-1"></div>
              <p><button type="submit" class="button primary">${t("complaints.saveStep")}</button></p>
            </form>`
          : html`<p>${t("complaints.noNextStep")}</p>`
      }
    </section>
    <section aria-labelledby="assign-title">
      <h2 id="assign-title">${t("complaints.assignTitle")}</h2>
      <form class="form" data-form="assign" novalidate>
        ${
          isAdmin
            ? field("assign-handler", "handler_id", t("complaints.handler"), html`<select id="assign-handler" name="handler_id" aria-describedby="assign-handler-error">
                <option value="">${t("complaints.unassigned")}</option>
                ${handlers.map((u) => html`<option value="${u.id}" ${u.id === c.handler_id ? html`selected` : ""}>${u.display_name} (${t(`role.${u.role}`)})</option>`)}
              </select>`)
            : field("assign-handler", "handler_id", t("complaints.handler"), html`<select id="assign-handler" name="handler_id" aria-describedby="assign-handler-error">
                <option value="">${t("complaints.unassigned")}</option>
                <option value="${me.id}" ${c.handler_id === me.id ? html`selected` : ""}>${t("complaints.you")}</option>
                ${c.handler_id !== null && c.handler_id !== me.id ? html`<option value="${c.handler_id}" selected>${t("complaints.staffN", { id: c.handler_id })}</option>` : ""}
              </select>`)
        }
        ${field("assign-operator", "operator_id", t("complaints.operator"), html`<select id="assign-operator" name="operator_id" aria-describedby="assign-operator-hint assign-operator-error">
          <option value="">${t("complaints.operatorUnknown")}</option>
          ${operators.map((o) => html`<option value="${o.id}" ${o.id === c.operator_id ? html`selected` : ""}>${o.name} (${o.staff_number})</option>`)}
        </select>`, t("complaints.operatorHint"))}
        <div data-form-status tabindex="-1"></div>
        <p><button type="submit" class="button">${t("complaints.saveAssign")}</button></p>
      </form>
    </section>
    ${
      c.status === "substantiated"
        ? html`<section aria-labelledby="sanction-title">
            <h2 id="sanction-title">${t("complaints.sanctionTitle")}</h2>
            <p class="hint">${t("complaints.sanctionHelp")}</p>
            <form class="form" data-form="sanction" novalidate>
              ${field("sanction-kind", "kind", t("complaints.sanctionKind"), html`<select id="sanction-kind" name="kind">
                ${SANCTIONS.map((k) => html`<option value="${k}">${t(`complaints.sanction.${k}`)}</option>`)}
              </select>`)}
              ${field("sanction-from", "effective_from", t("complaints.effectiveFrom"), html`<input id="sanction-from" name="effective_from" type="date" value="${todayInJakarta()}" required aria-describedby="sanction-from-error">`)}
              ${field("sanction-note", "note", t("complaints.note"), html`<textarea id="sanction-note" name="note" class="prose" rows="3" maxlength="2000" required aria-describedby="sanction-note-error"></textarea>`)}
              <div data-form-status tabindex="-1"></div>
              <p><button type="submit" class="button primary">${t("complaints.saveSanction")}</button></p>
            </form>
          </section>`
        : ""
    }`;
}

async function placeText(c, names, signal) {
  const [point, area] = await Promise.all([
    c.service_point_id ? api.get(`/service-points/${c.service_point_id}`, { signal }).catch(() => null) : null,
    api.get(`/areas/${c.area}`, { signal }).catch(() => null),
  ]);
  const areaName = area?.name ?? names.get(c.area) ?? c.area;
  if (c.service_point_id) return `${point?.name ?? t("complaints.pointN", { id: c.service_point_id })} · ${areaName}`;
  return `${areaName}${c.place ? ` · ${c.place}` : ""}`;
}

async function renderDetail(root, { params, signal }) {
  const me = session.state.me;
  const isAdmin = me.role === "admin";
  const id = Number(params.id);
  const [first, accounts, operators] = await Promise.all([
    api.get(`/complaints/${id}`, { signal }),
    staffAccounts(signal),
    allPages("/operators", { signal, maxPages: 10 }).catch((error) => {
      if (error instanceof ApiError) return [];
      throw error;
    }),
  ]);
  const people = new Map(accounts.map((u) => [u.id, u.display_name]));
  const handlers = accounts.filter((u) => u.active && (u.role === "admin" || u.role === "handler"));
  const operatorNames = new Map(operators.map((o) => [o.id, `${o.name} (${o.staff_number})`]));
  const where = await placeText(first, new Map(), signal);
  let complaint = first;

  const paintAll = (message = null) => {
    const c = complaint;
    const operator = c.operator_id ? (operatorNames.get(c.operator_id) ?? `#${c.operator_id}`) : (c.operator_description ?? t("complaints.operatorUnknown"));
    paint(
      root,
      html`<p class="no-print"><a href="#/staff/complaints">${t("complaints.back")}</a></p>
        <h1>${t("complaints.detailTitle", { id: c.id })}</h1>
        ${confidentiality()}
        ${message ? html`<div class="notice notice-ok" role="status" data-done><p>${message}</p></div>` : ""}
        ${detailFigures(c, { where, operator, people })}
        ${c.operator_id && c.operator_description ? html`<p class="hint">${t("complaints.described")}: ${c.operator_description}</p>` : ""}
        <h2>${t("complaints.description")}</h2>
        <p class="message-text complaint-description" data-description>${c.description}</p>
        ${c.sanction ? html`<p class="notice notice-warning" data-sanction="${c.sanction.kind}">${t("complaints.sanctioned", { kind: t(`complaints.sanction.${c.sanction.kind}`), date: fmt.date(c.sanction.effective_from) })}</p>` : ""}
        <section aria-labelledby="reporter-title">
          <h2 id="reporter-title">${t("complaints.reporterTitle")}</h2>
          ${reporterBlock(c, isAdmin)}
        </section>
        <section aria-labelledby="log-title">
          <h2 id="log-title">${t("complaints.logTitle")}</h2>
          ${
            c.entries.length
              ? html`<ol class="conversation complaint-log" aria-labelledby="log-title" data-log>${c.entries.map((e) => entryMarkup(e, people))}</ol>`
              : html`<p class="hint">${t("complaints.logEmpty")}</p>`
          }
        </section>
        ${actionsBlock(c, { isAdmin, handlers, operators })}`,
    );
  };
  paintAll();

  // Every action answers with the complaint as it now is; the page is painted again from it.
  const act = async (form, work, done, { fieldAlias } = {}) => {
    clearErrors(form);
    try {
      const answer = await busy(form, work);
      complaint = answer?.entries ? answer : await api.get(`/complaints/${id}`, { signal });
      paintAll(done);
      root.querySelector("[data-done]")?.focus?.();
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      if (signal.aborted) return;
      showErrors(form, error, { fieldAlias });
    }
  };
  const required = (form, names) => {
    const missing = {};
    for (const name of names) if (!String(form.elements[name].value).trim()) missing[name] = t("form.required");
    if (Object.keys(missing).length) {
      showErrors(form, { message: t("form.fix"), fields: missing });
      return false;
    }
    return true;
  };

  on(
    root,
    "submit",
    "form[data-form]",
    async (event, form) => {
      event.preventDefault();
      const f = form.elements;
      switch (form.dataset.form) {
        case "reply":
          if (!required(form, ["text"])) return;
          return act(form, () => api.post(`/complaints/${id}/replies`, { json: { text: f.text.value.trim() }, signal }), t("complaints.replied"));
        case "note":
          if (!required(form, ["text"])) return;
          return act(form, () => api.post(`/complaints/${id}/notes`, { json: { text: f.text.value.trim() }, signal }), t("complaints.noted"));
        case "transition":
          if (!required(form, ["status", "note"])) return;
          return act(
            form,
            () => api.post(`/complaints/${id}/transitions`, { json: { status: f.status.value, note: f.note.value.trim() }, signal }),
            t("complaints.stepSaved", { status: t(`report.status.${f.status.value}`) }),
          );
        case "assign": {
          const data = {};
          const handler = f.handler_id.value ? Number(f.handler_id.value) : null;
          const operator = f.operator_id.value ? Number(f.operator_id.value) : null;
          if (handler !== complaint.handler_id) data.handler_id = handler;
          if (operator !== complaint.operator_id) data.operator_id = operator;
          if (!Object.keys(data).length) return showSuccess(form, t("complaints.nothingChanged"));
          return act(form, () => api.patch(`/complaints/${id}`, { json: data, signal }), t("complaints.assigned"));
        }
        case "sanction":
          if (!required(form, ["kind", "effective_from", "note"])) return;
          return act(
            form,
            () => api.post(`/complaints/${id}/sanction`, { json: { kind: f.kind.value, effective_from: f.effective_from.value, note: f.note.value.trim() }, signal }),
            t("complaints.sanctionSaved"),
          );
        case "reporter": {
          clearErrors(form);
          const reason = f.reason.value.trim();
          if (reason.length < 10) return showErrors(form, { message: t("form.fix"), fields: { reason: t("complaints.reasonShort") } });
          try {
            const who = await busy(form, () => api.post(`/complaints/${id}/reporter`, { json: { reason }, signal }));
            paint(
              root.querySelector("[data-slot=reporter]"),
              html`<dl class="figures reporter-identity" data-reporter="open">
                  <div><dt>${t("report.name")}</dt><dd data-reporter-name>${who.reporter_name ?? "—"}</dd></div>
                  <div><dt>${t("report.contact")}</dt><dd data-reporter-contact>${who.reporter_contact ?? "—"}</dd></div>
                </dl>
                <p class="hint">${t("complaints.reporterOpened")}</p>`,
            );
            form.hidden = true;
          } catch (error) {
            if (!(error instanceof ApiError)) throw error;
            showErrors(form, error);
          }
          return;
        }
        default:
      }
    },
    { signal },
  );
}

export async function render(root, context) {
  if (context.params.id) return renderDetail(root, context);
  return renderInbox(root, context);
}
