// The outbox as the person sees it: a count in the header while something waits, and on the
// screens that write offline (a crew's visits) the list of what waits and what was refused, with
// the server's reason and a way to dismiss it.

import { html, render } from "./html.js";
import { on } from "./dom.js";
import { fmt, t } from "../i18n.js";
import { dismiss, flush, outbox } from "./outbox.js";
import { session } from "../store.js";

/** The header's badge: how many writes wait (nothing when none). */
export function renderBadge(element) {
  const { pending, refused } = outbox.state;
  render(
    element,
    pending.length || refused.length
      ? html`<span class="badge outbox-count" data-outbox-count="${pending.length}" role="status">${t("outbox.badge", { count: fmt.number(pending.length) })}${
          refused.length ? html` · ${t("outbox.badgeRefused", { count: fmt.number(refused.length) })}` : ""
        }</span>${
          pending.length && !session.state.token
            ? html` <a class="outbox-signin" href="#/staff/signin" data-outbox-signin>${t("outbox.signinAgain")}</a>`
            : ""
        }`
      : "",
  );
}

function panel() {
  const { pending, refused } = outbox.state;
  if (!pending.length && !refused.length) return "";
  return html`<section class="outbox" aria-labelledby="outbox-title">
    <h2 id="outbox-title">${t("outbox.title")}</h2>
    ${
      pending.length
        ? html`<p class="hint">${t("outbox.lede")}</p>
          <ol class="outbox-list" data-outbox="pending">${pending.map(
            (item) => html`<li data-outbox-item="${item.id}">${item.label} <span class="hint">· ${t("outbox.keptAt", { time: fmt.dateTime(item.createdAt) })}</span></li>`,
          )}</ol>
          <p><button type="button" class="button small" data-action="outbox-send">${t("outbox.sendNow")}</button></p>`
        : ""
    }
    ${
      refused.length
        ? html`<h3>${t("outbox.refusedTitle")}</h3>
          <ul class="outbox-list" data-outbox="refused">${refused.map(
            (item) => html`<li class="notice notice-error" data-refused="${item.id}">
              <p><strong>${item.label}</strong></p>
              <p>${item.message}</p>
              ${item.detail ? html`<p data-field="detail">${item.detail}</p>` : ""}
              <p><button type="button" class="button small" data-action="outbox-dismiss" data-id="${item.id}">${t("outbox.dismiss")}</button></p>
            </li>`,
          )}</ul>`
        : ""
    }
  </section>`;
}

/** Show the list in `element` while the view lives (`signal`). */
export function mountOutbox(element, { signal }) {
  const draw = () => render(element, panel());
  draw();
  outbox.subscribe(draw, { signal });
  on(element, "click", "[data-action=outbox-send]", () => flush(), { signal });
  on(element, "click", "[data-action=outbox-dismiss]", (_, button) => dismiss(Number(button.dataset.id)), { signal });
}
