// One complaint: its log, the public reply to the reporter, workflow steps with their internal
// note, assignment, the accused operator and the sanction; an admin may open the reporter's
// identity with a reason, shown only until the page is left.

import { ApiError, api } from "../../api.js";
import { on } from "../../lib/dom.js";
import { busy, clearErrors, showErrors, showSuccess } from "../../lib/forms.js";
import { html, render as paint } from "../../lib/html.js";
import { allPages, field } from "../../lib/staffkit.js";
import { fmt, t, todayInJakarta } from "../../i18n.js";
import { session } from "../../store.js";
import { describe } from "../../problems.js";
import { NEXT, SANCTIONS, confidentiality, handlerText, rupiah, staffAccounts, statusBadge } from "./common.js";

function entryMarkup(entry, people) {
  // No author on a staff step: an integration's key or Rekam itself took it, not "nobody assigned".
  const author = entry.kind === "message" ? t("complaints.reporter") : entry.author_id === null ? t("complaints.system") : handlerText(entry.author_id, people);
  const internal = entry.kind !== "reply" && entry.kind !== "message";
  return html`<li class="message log-${entry.kind}" data-entry="${entry.id}" data-kind="${entry.kind}">
    <p class="message-meta"><strong>${t(`complaints.entry.${entry.kind}`)}</strong> · ${author} · <time datetime="${entry.at}">${fmt.dateTime(entry.at)}</time>
      ${internal ? html` · <span class="tag tag-internal">${t("complaints.internal")}</span>` : entry.kind === "reply" ? html` · <span class="tag">${t("complaints.public")}</span>` : ""}</p>
    ${
      entry.kind === "transition"
        ? html`<p class="log-step">${t(`report.status.${entry.from_status}`)} → ${t(`report.status.${entry.to_status}`)}</p>`
        : ""
    }
    ${entry.code && entry.kind !== "transition" ? html`<p class="log-step">${describe(entry.code, entry.params)}</p>` : ""}
    ${entry.kind === "assignment" && entry.code ? "" : html`<p class="message-text">${entry.text}</p>`}
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

// "Who was there": the operators at the complaint's service point on its day first (issue #19),
// then everyone else, so that the handler does not scan the whole city's list.
function operatorOptions(c, operators, present) {
  const option = (o) => html`<option value="${o.id}" ${o.id === c.operator_id ? html`selected` : ""}>${o.name} (${o.staff_number})</option>`;
  const there = operators.filter((o) => present.has(o.id));
  if (!there.length) return operators.map(option);
  return html`<optgroup label="${t("complaints.presentThatDay", { date: fmt.shortDate(c.occurred_on) })}" data-present>${there.map(option)}</optgroup>
    <optgroup label="${t("complaints.otherOperators")}">${operators.filter((o) => !present.has(o.id)).map(option)}</optgroup>`;
}

function actionsBlock(c, { isAdmin, handlers, operators, present }) {
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
          ${operatorOptions(c, operators, present)}
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

/** The ids of the operators at the complaint's service point on its day (none without a point). */
async function presentAt(c, signal) {
  if (!c.service_point_id) return new Set();
  const at = await allPages("/operators", { params: { service_point: c.service_point_id, date: c.occurred_on }, signal, maxPages: 2 }).catch((error) => {
    if (error instanceof ApiError) return [];
    throw error;
  });
  return new Set(at.map((o) => o.id));
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

export async function renderDetail(root, { params, signal }) {
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
  const [where, present] = await Promise.all([placeText(first, new Map(), signal), presentAt(first, signal)]);
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
        ${actionsBlock(c, { isAdmin, handlers, operators, present })}`,
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
