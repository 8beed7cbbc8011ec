// A mobile kit's operator at the door (#/staff/visits?date=YYYY-MM-DD): their own stops of a day,
// per kit in the API's route order, with what they need there, and per stop two big buttons —
// visited, not reachable — with an optional note. Only an operator account linked to a petugas
// has stops; the API gives it nothing else, and audits every stop it shows.
//
// Without signal the marks go to the outbox (lib/outbox.js) with their Idempotency-Key and the
// card says "waiting to be sent"; when they arrive the card shows the answer, and a mark the API
// refuses (the visit was cancelled meanwhile) shows on the card and in the outbox list.

import { ApiError, api } from "../api.js";
import { on } from "../lib/dom.js";
import { clearErrors, showErrors } from "../lib/forms.js";
import { html, render as paint } from "../lib/html.js";
import { enqueue, outbox, outboxLoaded } from "../lib/outbox.js";
import { mountOutbox } from "../lib/outboxpanel.js";
import { failure, loading } from "../lib/view.js";
import { field } from "../lib/staffkit.js";
import { addDays, fmt, has, t, todayInJakarta } from "../i18n.js";
import { session } from "../store.js";

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
// The API's 409 texts (English, for people) that the operator gets in the interface language.

const statusText = (status) => (has(`visitStatus.${status}`) ? t(`visitStatus.${status}`) : status);

function place(stop) {
  return [stop.kelurahan_name, stop.rw && `RW ${stop.rw}`, stop.rt && `RT ${stop.rt}`].filter(Boolean).join(" · ");
}

function markForm(stop, day, today) {
  const id = `stop-${stop.id}-note`;
  return html`<form class="mark-form" data-form="mark" data-id="${stop.id}" novalidate>
    ${field(id, "note", html`${t("crew.note")} <span class="optional">${t("public.optional")}</span>`,
      html`<textarea id="${id}" name="note" rows="2" maxlength="2000" class="prose" aria-describedby="${id}-hint ${id}-error"></textarea>`,
      t("crew.noteHint"))}
    ${day > today ? html`<p class="hint" data-hint="future">${t("crew.future", { date: fmt.date(day) })}</p>` : ""}
    <div class="mark-buttons" role="group" aria-label="${t("crew.markFor", { name: stop.name })}">
      <button type="submit" class="button mark-button ok" name="status" value="visited">${t("crew.visited")}</button>
      <button type="submit" class="button mark-button" name="status" value="unreachable">${t("crew.unreachable")}</button>
    </div>
    <div data-form-status tabindex="-1"></div>
  </form>`;
}

/** What the card says once the stop is no longer open. */
function outcome(stop, { note = null, at = null, refusal = null } = {}) {
  return html`<div class="mark-done" data-outcome="${stop.status}" role="status" tabindex="-1">
    ${refusal ? html`<p class="field-error">${refusal}</p>` : ""}
    <p><strong>${at ? t("crew.marked", { status: statusText(stop.status), time: fmt.dateTime(at) }) : t("crew.closed", { status: statusText(stop.status) })}</strong></p>
    ${note ? html`<p class="mark-note">${note}</p>` : ""}
  </div>`;
}

/** A mark kept in the outbox, not sent yet. */
function queued(stop, { status, note }) {
  return html`<div class="mark-done mark-queued" data-outcome="queued" data-queued="${status}" role="status" tabindex="-1">
    <p><strong>${t("crew.queued", { status: statusText(status) })}</strong></p>
    ${note ? html`<p class="mark-note">${note}</p>` : ""}
  </div>`;
}

function stopCard(stop, day, today, waiting) {
  return html`<li class="crew-stop status-${stop.status}" data-stop="${stop.id}" data-status="${stop.status}" aria-labelledby="stop-${stop.id}-name">
    <p class="crew-stop-head">
      <span class="crew-order" aria-label="${t("crew.order", { n: stop.order })}">${stop.order}</span>
      <span class="crew-window" data-field="window">${fmt.timeRange(stop.window_start, stop.window_end)}</span>
      <span class="badge crew-status" data-field="status">${statusText(stop.status)}</span>
    </p>
    <h4 class="crew-name" id="stop-${stop.id}-name" data-field="name">${stop.name}</h4>
    <dl class="crew-facts">
      <div><dt>${t("crew.address")}</dt><dd><span data-field="address">${stop.address}</span><br><span class="hint" data-field="place">${place(stop)}</span></dd></div>
      <div><dt>${t("dispatch.phone")}</dt><dd>${stop.phone ? html`<a href="tel:${stop.phone}" data-field="phone">${stop.phone}</a>` : html`<span class="hint" data-field="phone">${t("crew.phoneErased")}</span>`}</dd></div>
      <div><dt>${t("dispatch.reason")}</dt><dd data-field="reason">${t(`visitReason.${stop.reason}`)}</dd></div>
      ${stop.note ? html`<div><dt>${t("crew.residentNote")}</dt><dd data-field="note">${stop.note}</dd></div>` : ""}
    </dl>
    <div data-slot="mark">${
      stop.status !== "scheduled" ? outcome(stop) : waiting.has(stop.id) ? queued(stop, waiting.get(stop.id)) : markForm(stop, day, today)
    }</div>
  </li>`;
}

function kitSummary(stops) {
  const open = stops.filter((s) => s.status === "scheduled").length;
  return t("crew.kitSummary", { count: fmt.number(stops.length), open: fmt.number(open) });
}

function kitSection(plan, day, today, waiting) {
  const stops = [...plan.stops].sort((a, b) => a.order - b.order);
  return html`<section class="crew-kit" data-kit="${plan.device_id}" aria-labelledby="kit-${plan.device_id}">
    <h3 id="kit-${plan.device_id}">${t("crew.kit", { serial: plan.serial })}</h3>
    <p class="hint" data-kit-summary>${kitSummary(stops)}</p>
    <ol class="crew-stops">${stops.map((s) => stopCard(s, day, today, waiting))}</ol>
  </section>`;
}

/** The operator's kits that day, each with its day plan (only their own stops). */
async function dayOf(day, signal) {
  const kits = (await api.get("/mobile-kits/mine", { params: { date: day, limit: 500 }, signal })).items;
  return Promise.all(kits.map((kit) => api.get(`/mobile-kits/${kit.device_id}/day-plan`, { params: { date: day }, signal })));
}

/** The API's refusal as the operator should read it; `current` when it tells the visit's status. */
function explain(error) {
  // Read from the refusal's code and params (api/messages.py), never from its words.
  const { code, params } = error.problem ?? {};
  if (code === "visit.too_early") return { message: t("crew.err.notYet", { date: fmt.date(params.day) }) };
  if (code === "visit.move" || code === "visit.closed") return { message: t("crew.err.closed", { status: statusText(params.status) }), current: params.status };
  if (error.status === 404) return { message: t("crew.err.gone") };
  if (error.status === 403) return { message: t("crew.err.forbidden"), detail: error.detail };
  return error;
}

export async function render(root, { query, signal }) {
  const me = session.state.me;
  if (!me.operator_id) {
    paint(root, html`<h1>${t("crew.title")}</h1><div class="notice notice-warning"><p>${t("crew.notLinked")}</p></div>`);
    return;
  }
  const today = todayInJakarta();
  let day = ISO_DATE.test(query.get("date") ?? "") ? query.get("date") : today;
  const [plans] = await Promise.all([dayOf(day, signal), outboxLoaded()]);

  paint(
    root,
    html`<h1>${t("crew.title")}</h1>
      <p class="lede">${t("crew.lede")}</p>
      <form class="crew-day" data-form="day" novalidate aria-label="${t("crew.chooseDay")}">
        <button type="button" class="button" data-step="-1"><span aria-hidden="true">‹</span><span class="visually-hidden">${t("crew.prevDay")}</span></button>
        <div class="field">
          <label for="crew-date">${t("crew.date")}</label>
          <input id="crew-date" name="date" type="date" value="${day}" required>
        </div>
        <button type="button" class="button" data-step="1"><span aria-hidden="true">›</span><span class="visually-hidden">${t("crew.nextDay")}</span></button>
        <button type="button" class="button small" data-action="today" ${day === today ? html`hidden` : ""}>${t("crew.today")}</button>
      </form>
      <div data-slot="outbox"></div>
      <div data-slot="day" aria-live="polite"></div>`,
  );
  const slot = root.querySelector("[data-slot=day]");
  const input = root.querySelector("#crew-date");
  let stops = new Map();

  mountOutbox(root.querySelector("[data-slot=outbox]"), { signal });
  // Marks waiting in the outbox, by visit: their cards say so instead of offering the buttons.
  const waitingMarks = () => new Map(outbox.state.pending.filter((item) => item.ref?.visit).map((item) => [item.ref.visit, item.body]));
  const show = (shown) => {
    stops = new Map(shown.flatMap((plan) => plan.stops.map((s) => [s.id, s])));
    const waiting = waitingMarks();
    paint(
      slot,
      html`<h2 data-day="${day}">${fmt.date(day)}${day === today ? html` · ${t("crew.todayMark")}` : ""}</h2>
        ${shown.length ? shown.map((plan) => kitSection(plan, day, today, waiting)) : html`<p class="notice" data-stops="none">${t("crew.none")}</p>`}`,
    );
  };
  show(plans);
  // With the service worker keeping answers, tomorrow's plan is fetched now so it is there offline.
  if (day === today && navigator.serviceWorker?.controller) dayOf(addDays(today, 1), signal).catch(() => {});

  let turn = 0;
  const load = async (next) => {
    if (!ISO_DATE.test(next)) return;
    day = next;
    input.value = day;
    const todayButton = root.querySelector("[data-action=today]");
    // The button goes away on today; the keyboard focus must not go with it.
    if (day === today && document.activeElement === todayButton) input.focus();
    todayButton.hidden = day === today;
    history.replaceState(null, "", day === today ? "#/staff/visits" : `#/staff/visits?date=${day}`);
    const mine = ++turn;
    slot.setAttribute("aria-busy", "true");
    paint(slot, loading());
    try {
      const shown = await dayOf(day, signal);
      if (mine === turn) show(shown);
    } catch (error) {
      if (mine === turn && !signal.aborted) paint(slot, failure(error));
    } finally {
      if (mine === turn) slot.removeAttribute("aria-busy");
    }
  };
  const dayForm = root.querySelector("[data-form=day]");
  dayForm.addEventListener("submit", (event) => (event.preventDefault(), load(input.value)), { signal });
  input.addEventListener("change", () => load(input.value), { signal });
  on(dayForm, "click", "[data-step]", (_, button) => load(addDays(day, Number(button.dataset.step))), { signal });
  on(dayForm, "click", "[data-action=today]", () => load(today), { signal });
  // "Try again" after a failed day reloads that day in place (the router's retry reloads the view).
  on(slot, "click", "[data-action=retry]", (event) => (event.stopPropagation(), load(day)), { signal });

  const settle = (card, stop, extra, { focus = true } = {}) => {
    card.dataset.status = stop.status;
    card.className = `crew-stop status-${stop.status}`;
    card.querySelector("[data-field=status]").textContent = statusText(stop.status);
    const kit = card.closest("[data-kit]");
    const onKit = [...kit.querySelectorAll("[data-stop]")].map((c) => stops.get(Number(c.dataset.stop)));
    kit.querySelector("[data-kit-summary]").textContent = kitSummary(onKit);
    const slotOf = card.querySelector("[data-slot=mark]");
    paint(slotOf, outcome(stop, extra));
    if (focus) slotOf.firstElementChild.focus();
  };
  const cardOf = (id) => slot.querySelector(`[data-stop="${id}"]`);

  // The outbox sent a mark (now or later): the card shows the answer; or the API refused it.
  outbox.addEventListener(
    "sent",
    ({ detail: { item, answer } }) => {
      const stop = stops.get(item.ref?.visit);
      const card = cardOf(item.ref?.visit);
      if (!stop || !card) return;
      stop.status = answer.status;
      settle(card, stop, { note: item.body.note, at: answer.updated_at }, { focus: false });
    },
    { signal },
  );
  outbox.addEventListener(
    "refused",
    ({ detail: { item, error } }) => {
      const stop = stops.get(item.ref?.visit);
      const card = cardOf(item.ref?.visit);
      if (!stop || !card) return;
      const told = explain(error);
      if (told.current) stop.status = told.current;
      if (stop.status !== "scheduled") return settle(card, stop, { refusal: told.message }, { focus: false });
      const slotOf = card.querySelector("[data-slot=mark]");
      paint(slotOf, markForm(stop, day, today));
      showErrors(slotOf.querySelector("form"), told);
    },
    { signal },
  );

  /** Keep the mark in the outbox; the card says it waits. */
  const keep = async (card, stop, mark, idempotencyKey) => {
    await enqueue({
      path: `/home-visits/${stop.id}/status`,
      body: mark,
      label: t("crew.label", { status: statusText(mark.status), name: stop.name }),
      ref: { visit: stop.id },
      idempotencyKey,
    });
    const slotOf = card.querySelector("[data-slot=mark]");
    paint(slotOf, queued(stop, mark));
    slotOf.firstElementChild.focus();
  };

  on(
    slot,
    "submit",
    "[data-form=mark]",
    async (event, form) => {
      event.preventDefault();
      const status = event.submitter?.value;
      if (!status || form.getAttribute("aria-busy") === "true") return;
      const stop = stops.get(Number(form.dataset.id));
      const card = form.closest("[data-stop]");
      const note = form.elements.note.value.trim() || null;
      const buttons = [...form.querySelectorAll("button")];
      const label = event.submitter.textContent;
      clearErrors(form);
      buttons.forEach((b) => (b.disabled = true));
      event.submitter.textContent = t("common.saving");
      form.setAttribute("aria-busy", "true");
      // One key per mark: the outbox sends it again with the same key, so it is done once.
      const key = crypto.randomUUID();
      if (!navigator.onLine) return keep(card, stop, { status, note }, key);
      try {
        const moved = await api.post(`/home-visits/${stop.id}/status`, { json: { status, note }, signal, headers: { "Idempotency-Key": key } });
        stop.status = moved.status;
        settle(card, stop, { note, at: moved.updated_at });
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        if (error.status === 0) return keep(card, stop, { status, note }, key);
        event.submitter.textContent = label;
        buttons.forEach((b) => (b.disabled = false));
        form.removeAttribute("aria-busy");
        const told = explain(error);
        if (told.current && told.current !== "scheduled") {
          // Closed meanwhile (by the dispatcher, or in another tab): the card shows what it is now.
          stop.status = told.current;
          settle(card, stop, { refusal: told.message });
        } else {
          showErrors(form, told);
        }
      }
    },
    { signal },
  );
}
