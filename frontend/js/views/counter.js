// The counter console: an operator (or a supervisor/admin at a point they choose) calls the next
// resident, starts, completes, marks a no-show, recalls or cancels. Big buttons, one-key shortcuts
// (N, S, C, X, R), the ticket at this counter and the waiting count, refreshed every few seconds.

import { ApiError, api } from "../api.js";
import { on, whileSeen } from "../lib/dom.js";
import { html, render as paint } from "../lib/html.js";
import { allPages, field, slotError } from "../lib/staffkit.js";
import { fmt, t } from "../i18n.js";
import { keep, kept, session } from "../store.js";
import { mountDayCount } from "./daycount.js";

const REFRESH_MS = 10_000;
// Moves, the key that does each, and the states each applies to.
const ACTIONS = [
  { action: "call-next", key: "n", when: (s) => !s || !["called", "serving"].includes(s), kind: "primary" },
  { action: "start", key: "s", when: (s) => s === "called", kind: "primary" },
  { action: "complete", key: "c", when: (s) => s === "serving", kind: "ok" },
  { action: "no-show", key: "x", when: (s) => s === "called", kind: "" },
  { action: "recall", key: "r", when: (s) => s === "called", kind: "" },
  { action: "cancel", key: null, when: (s) => s === "called", kind: "" },
];

// The ticket at a counter is remembered for this tab: the API has no "current ticket of counter".
const ticketKey = (point, counter) => `rekam.counter.${point}.${counter}`;
const remember = (point, counter, ticket) => keep(ticketKey(point, counter), ticket?.id, { tab: true });
const remembered = (point, counter) => Number(kept(ticketKey(point, counter), { tab: true })) || null;
const savedCounter = (point) => Number(kept(`rekam.counterNo.${point}`)) || 1;
const saveCounter = (point, counter) => keep(`rekam.counterNo.${point}`, counter);

async function choosePoint(root, { signal, navigate }) {
  const me = session.state.me;
  const points = await allPages("/service-points", { params: { area: me.area ?? undefined }, signal, maxPages: 5 });
  paint(
    root,
    html`<h1>${t("counter.title")}</h1>
      <p class="lede">${t("counter.choose")}</p>
      <form class="form narrow" data-form="choose" novalidate>
        ${field("counter-point", "point", t("counter.point"), html`<select id="counter-point" name="point">
          ${points.filter((p) => p.active).map((p) => html`<option value="${p.id}">${p.name} (${p.area})</option>`)}
        </select>`)}
        <p><button type="submit" class="button primary">${t("counter.open")}</button></p>
      </form>`,
  );
  root.querySelector("[data-form=choose]").addEventListener(
    "submit",
    (event) => {
      event.preventDefault();
      navigate(`/staff/counter/${event.currentTarget.elements.point.value}`);
    },
    { signal },
  );
}

function ticketBlock(ticket) {
  if (!ticket || ["done", "no_show", "cancelled"].includes(ticket.status)) {
    return html`<div class="ticket-now idle" data-ticket="none">
      <p class="ticket-label">${t("counter.noTicket")}</p>
      ${ticket ? html`<p class="hint">${t("counter.last", { number: ticket.number, status: t(`ticket.${ticket.status}`) })}</p>` : ""}
    </div>`;
  }
  return html`<div class="ticket-now ${ticket.status}" data-ticket="${ticket.id}" data-status="${ticket.status}">
    <p class="ticket-label">${t("counter.ticket")}</p>
    <p class="ticket-number" data-figure="number">${ticket.number}</p>
    <p class="ticket-status"><span class="badge">${t(`ticket.${ticket.status}`)}</span>
      ${ticket.priority && ticket.priority !== "none" ? html` <span class="badge badge-behind">${t(`priority.${ticket.priority}`)}</span>` : ""}
      ${ticket.recalls ? html` <span class="hint">${t("counter.recalls", { count: ticket.recalls })}</span>` : ""}</p>
    ${ticket.name_on_ticket ? html`<p class="ticket-name">${ticket.name_on_ticket}</p>` : ""}
    <p class="hint">${t("counter.arrived", { time: fmt.dateTime(ticket.arrived_at) })}</p>
  </div>`;
}

function boardBlock(board) {
  return html`<dl class="figures counter-figures">
    <div><dt>${t("counter.waiting")}</dt><dd data-figure="waiting">${fmt.number(board.waiting)}</dd></div>
    <div><dt>${t("counter.estimate")}</dt><dd>${t("counter.minutes", { count: fmt.number(board.estimated_wait_minutes) })}</dd></div>
    <div><dt>${t("counter.served")}</dt><dd data-figure="served">${fmt.number(board.served)}</dd></div>
    <div><dt>${t("counter.noShows")}</dt><dd>${fmt.number(board.no_shows)}</dd></div>
  </dl>
  ${board.open_now ? "" : html`<p class="notice notice-warning">${t("counter.closed")}</p>`}
  ${
    board.now_serving.length
      ? html`<p class="hint">${t("counter.otherCounters")}: ${board.now_serving.map((c, i) => html`${i ? ", " : ""}${t("counter.atCounter", { counter: c.counter, number: c.number })}`)}</p>`
      : ""
  }`;
}

export async function render(root, { params, signal, navigate }) {
  const me = session.state.me;
  if (!params.point) {
    if (me.role === "operator") {
      if (me.service_point_id) return navigate(`/staff/counter/${me.service_point_id}`, { replace: true });
      paint(root, html`<h1>${t("counter.title")}</h1><p>${t("counter.noPoint")}</p>`);
      return;
    }
    return choosePoint(root, { signal, navigate });
  }
  const pointId = Number(params.point);
  const point = await api.get(`/service-points/${pointId}`, { signal });
  const counters = Math.max(1, point.counters);
  let counter = Math.min(savedCounter(pointId), counters);
  let ticket = null;
  let board = null;

  paint(
    root,
    html`<h1>${t("counter.title")}</h1>
      <p class="lede">${point.name} · ${point.area}${me.role !== "operator" ? html` · <a href="#/staff/counter">${t("counter.other")}</a>` : ""}</p>
      <div class="counter-head">
        ${field("counter-no", "counter", t("counter.counter"), html`<select id="counter-no" name="counter" data-input="counter">
          ${Array.from({ length: counters }, (_, i) => html`<option value="${i + 1}" ${i + 1 === counter ? html`selected` : ""}>${t("counter.counterN", { n: i + 1 })}</option>`)}
        </select>`)}
      </div>
      <section class="console" aria-labelledby="now-title">
        <h2 id="now-title" class="visually-hidden">${t("counter.now")}</h2>
        <div data-slot="ticket"></div>
        <div class="console-buttons" role="group" aria-label="${t("counter.actions")}">
          ${ACTIONS.map(
            (a) => html`<button type="button" class="button console-button ${a.kind}" data-move="${a.action}" ${a.key ? html`aria-keyshortcuts="${a.key.toUpperCase()}"` : ""}>
              <span>${t(`counter.move.${a.action}`)}</span>${a.key ? html`<kbd aria-hidden="true">${a.key.toUpperCase()}</kbd>` : ""}
            </button>`,
          )}
        </div>
        <p class="console-message" data-slot="message" role="status" aria-live="polite"></p>
        <p class="hint" data-keys>${t("counter.keys")}</p>
      </section>
      <section aria-labelledby="queue-title">
        <h2 id="queue-title">${t("counter.queue")}</h2>
        <div data-slot="board"></div>
      </section>
      <div data-slot="daycount"></div>`,
  );
  mountDayCount(root.querySelector("[data-slot=daycount]"), { point, signal });
  const ticketSlot = root.querySelector("[data-slot=ticket]");
  const boardSlot = root.querySelector("[data-slot=board]");
  const message = root.querySelector("[data-slot=message]");
  const say = (text, kind = "") => {
    message.className = `console-message ${kind}`;
    message.textContent = text;
  };

  const paintTicket = () => {
    paint(ticketSlot, ticketBlock(ticket));
    for (const button of root.querySelectorAll("[data-move]")) {
      const spec = ACTIONS.find((a) => a.action === button.dataset.move);
      button.disabled = !spec.when(ticket?.status);
    }
  };
  const loadBoard = async () => {
    try {
      board = await api.get(`/service-points/${pointId}/queue`, { signal });
      paint(boardSlot, boardBlock(board));
    } catch (error) {
      if (error?.name === "AbortError") return;
      paint(boardSlot, slotError(error));
    }
  };
  const loadTicket = async () => {
    const id = remembered(pointId, counter);
    ticket = null;
    if (id) {
      try {
        ticket = await api.get(`/tickets/${id}`, { signal });
        if (ticket.counter !== counter || ["done", "no_show", "cancelled"].includes(ticket.status)) {
          remember(pointId, counter, null);
          ticket = ticket.counter === counter ? ticket : null;
        }
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        remember(pointId, counter, null);
      }
    }
    paintTicket();
  };
  await Promise.all([loadTicket(), loadBoard()]);

  let working = false;
  const act = async (move) => {
    const spec = ACTIONS.find((a) => a.action === move);
    if (working || !spec.when(ticket?.status)) return;
    working = true;
    root.querySelectorAll("[data-move]").forEach((b) => (b.disabled = true));
    say(t("common.saving"));
    try {
      if (move === "call-next") {
        const called = await api.post(`/service-points/${pointId}/call-next`, { json: { counter }, signal });
        if (!called) {
          say(t("counter.nobody"));
        } else {
          ticket = called;
          remember(pointId, counter, ticket);
          // The name on the ticket (to call out) comes with the single-ticket read.
          ticket = await api.get(`/tickets/${called.id}`, { signal }).catch(() => called);
          say(t("counter.called", { number: ticket.number, counter }), "ok");
        }
      } else {
        const moved = await api.post(`/tickets/${ticket.id}/${move}`, { signal });
        ticket = { ...ticket, ...moved };
        if (["done", "no_show", "cancelled"].includes(ticket.status)) remember(pointId, counter, null);
        say(t(`counter.did.${move}`, { number: ticket.number }), "ok");
      }
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      say(`${error.message}${error.detail ? ` ${error.detail}` : ""}${Object.values(error.fields).length ? ` ${Object.values(error.fields).join(" ")}` : ""}`, "error");
      if (error.status === 409 && ticket) ticket = await api.get(`/tickets/${ticket.id}`, { signal }).catch(() => ticket);
    } finally {
      working = false;
      paintTicket();
      loadBoard();
    }
  };

  on(root, "click", "[data-move]", (_, button) => act(button.dataset.move), { signal });
  root.querySelector("[data-input=counter]").addEventListener(
    "change",
    (event) => {
      counter = Number(event.target.value);
      saveCounter(pointId, counter);
      say("");
      loadTicket();
    },
    { signal },
  );
  document.addEventListener(
    "keydown",
    (event) => {
      if (event.altKey || event.ctrlKey || event.metaKey || event.repeat) return;
      if (event.target.closest?.("input, select, textarea, [contenteditable]")) return;
      const spec = ACTIONS.find((a) => a.key && a.key === event.key.toLowerCase());
      if (!spec) return;
      event.preventDefault();
      act(spec.action);
    },
    { signal },
  );
  whileSeen(REFRESH_MS, loadBoard, signal);
}
