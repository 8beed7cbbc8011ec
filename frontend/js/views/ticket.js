// Take a number at a service point (public): the queue now, then the number, the place in line
// and the estimated wait. Closed: no form, the next opening instead. A number taken lives at its
// own address (#/ticket/<point>/<ticket>/<code>, the code is its secret) and is kept on the phone
// (localStorage), so a reload or a return to the point shows it again, its place in line kept live.

import { api } from "../api.js";
import { whileSeen } from "../lib/dom.js";
import { busy, clearErrors, showErrors } from "../lib/forms.js";
import { html, render as paint } from "../lib/html.js";
import { fmt, t, todayInJakarta } from "../i18n.js";
import { ticketAlerts } from "../lib/notify.js";
import { keepTicket, myTickets, opensAgain, ticketPath } from "../lib/public.js";
import { pageUrl, showQr } from "../lib/qr.js";
import { failure, navigate } from "../lib/view.js";

const REFRESH_MS = 20_000;

function mineMarkup(mine) {
  const line =
    mine.status === "waiting"
      ? html`${t("ticket.position", { n: fmt.number(mine.position ?? 0) })} · ${t("ticket.wait", { n: fmt.number(mine.estimated_wait_minutes) })}`
      : mine.status === "called" || mine.status === "serving"
        ? t("ticket.goTo", { counter: fmt.number(mine.counter ?? 0) })
        : t(`ticket.${mine.status}`);
  return html`<div class="code-box" tabindex="-1" data-ticket-issued data-ticket-status="${mine.status}">
    <p class="code-box-label">${t("ticket.yourNumber")}</p>
    <p class="code-box-value ticket-number" data-ticket-number>${fmt.number(mine.number)}</p>
    <p data-ticket-position>${line}</p>
    <p class="hint">${t("ticket.kept")}</p>
  </div>`;
}

// The resident's own ticket: read with its code, refreshed while the page is open.
async function renderMine(root, { point, ticket, code, signal }) {
  const path = `/tickets/${ticket}/status/${code}`;
  const mine = await api.get(path, { signal });
  keepTicket({ point, id: mine.id, code, day: mine.date, number: mine.number }, todayInJakarta());
  paint(
    root,
    html`<h1>${t("ticket.mineTitle")}</h1>
      <p class="lede">${mine.point_name}</p>
      <div data-ticket-result aria-live="polite">${mineMarkup(mine)}</div>
      <figure class="qr" data-qr-slot></figure>
      <div data-ticket-alerts-slot></div>
      <p><a href="#/board/${point}">${t("ticket.board")}</a></p>`,
  );
  showQr(root.querySelector("[data-qr-slot]"), pageUrl(ticketPath({ point, id: ticket, code })));
  ticketAlerts(root.querySelector("[data-ticket-alerts-slot]"), ticket, code, signal);
  const box = root.querySelector("[data-ticket-result]");
  whileSeen(
    REFRESH_MS,
    async () => {
      try {
        paint(box, mineMarkup(await api.get(path, { signal })));
      } catch (error) {
        if (!signal.aborted && error.status === 404) paint(box, failure(error));
        /* otherwise keep the last good figures: the next refresh may have signal */
      }
    },
    signal,
  );
}

function ticketForm() {
  return html`<form class="form narrow" data-form="ticket" novalidate>
        <div class="field">
          <label for="ticket-priority">${t("ticket.priority")}</label>
          <select id="ticket-priority" name="priority" aria-describedby="ticket-priority-error">
            <option value="none">${t("ticket.priority.none")}</option>
            <option value="elderly">${t("ticket.priority.elderly")}</option>
            <option value="disabled">${t("ticket.priority.disabled")}</option>
          </select>
          <p class="field-error" id="ticket-priority-error" data-error-for="priority" hidden></p>
        </div>
        <div data-form-status tabindex="-1"></div>
        <p><button type="submit" class="button primary wide">${t("ticket.submit")}</button></p>
      </form>`;
}

export async function render(root, { params, signal }) {
  const id = Number(params.id);
  if (params.ticket) return renderMine(root, { point: id, ticket: Number(params.ticket), code: params.code, signal });
  const kept = myTickets(todayInJakarta()).find((x) => x.point === id);
  if (kept) return navigate(ticketPath(kept), { replace: true });
  const board = await api.get(`/service-points/${id}/queue`, { signal });
  paint(
    root,
    html`<h1>${t("ticket.title")}</h1>
      <p class="lede">${board.name}</p>
      <dl class="figures">
        <div><dt>${t("board.waiting")}</dt><dd data-ticket="waiting">${fmt.number(board.waiting)}</dd></div>
        <div><dt>${t(board.open_now ? "board.estimatedWait" : "board.estimatedWaitClosed")}</dt><dd class="nowrap">${t("board.minutes", { n: fmt.number(board.estimated_wait_minutes) })}</dd></div>
      </dl>
      ${
        board.open_now
          ? ""
          : html`<div class="notice notice-warning" data-closed><p>${t("ticket.closed")}</p><p class="opens-again" data-next-opening>${opensAgain(board.next_opening)}</p></div>`
      }
      ${board.open_now ? ticketForm() : ""}
      <div data-ticket-result></div>
      <p><a href="#/appointment/${id}" data-book-link>${t("ticket.book")}</a></p>
      <p><a href="#/board/${id}">${t("ticket.board")}</a></p>`,
  );
  const form = root.querySelector("[data-form=ticket]");
  if (!form) return;
  form.addEventListener(
    "submit",
    async (event) => {
      event.preventDefault();
      clearErrors(form);
      try {
        const ticket = await busy(form, () => api.post(`/service-points/${id}/tickets`, { json: { priority: form.elements.priority.value }, signal }));
        const kept = { point: id, id: ticket.id, code: ticket.code, day: ticket.date, number: ticket.number };
        keepTicket(kept, todayInJakarta());
        navigate(ticketPath(kept));
      } catch (error) {
        if (signal.aborted) return;
        if (error.problem?.code === "queue.number_held") {
          // One active remote number per point and day per phone (the API's cap, issue #23).
          error.message = t("ticket.numberHeld");
          error.detail = null;
        } else if (error.status === 409) error.message = t("ticket.closed");
        showErrors(form, error);
      }
    },
    { signal },
  );
}
