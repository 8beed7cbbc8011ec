// Take a number at a service point (public): the queue now, then the number, the place in line
// and the estimated wait. Closed: no form, the next opening instead.

import { api } from "../api.js";
import { busy, clearErrors, showErrors } from "../lib/forms.js";
import { html, render as paint } from "../lib/html.js";
import { opensAgain } from "../lib/public.js";
import { fmt, t } from "../i18n.js";

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
  const board = await api.get(`/service-points/${id}/queue`, { signal });
  paint(
    root,
    html`<h1>${t("ticket.title")}</h1>
      <p class="lede">${board.name}</p>
      <dl class="figures">
        <div><dt>${t("board.waiting")}</dt><dd data-ticket="waiting">${fmt.number(board.waiting)}</dd></div>
        <div><dt>${t("board.estimatedWait")}</dt><dd>${t("board.minutes", { n: fmt.number(board.estimated_wait_minutes) })}</dd></div>
      </dl>
      ${
        board.open_now
          ? ""
          : html`<div class="notice notice-warning" data-closed><p>${t("ticket.closed")}</p><p class="opens-again" data-next-opening>${opensAgain(board.next_opening)}</p></div>`
      }
      ${board.open_now ? ticketForm() : ""}
      <div data-ticket-result></div>
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
        form.hidden = true;
        const result = root.querySelector("[data-ticket-result]");
        paint(
          result,
          html`<div class="code-box" tabindex="-1" data-ticket-issued>
            <p class="code-box-label">${t("ticket.yourNumber")}</p>
            <p class="code-box-value ticket-number" data-ticket-number>${fmt.number(ticket.number)}</p>
            <p>${t("ticket.position", { n: fmt.number(ticket.position) })} · ${t("ticket.wait", { n: fmt.number(ticket.estimated_wait_minutes) })}</p>
          </div>`,
        );
        result.firstElementChild.focus();
      } catch (error) {
        if (signal.aborted) return;
        if (error.status === 409) error.message = t("ticket.closed");
        showErrors(form, error);
      }
    },
    { signal },
  );
}
