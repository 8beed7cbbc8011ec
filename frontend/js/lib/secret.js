// A secret the API gives once (an API key, a webhook's signing secret): shown once in the page,
// with a copy button and a warning, until staff say they stored it. It lives in the page only:
// gone on the next render, never stored anywhere.

import { on } from "./dom.js";
import { html, render as paint } from "./html.js";
import { codeBox, wireCopy } from "./public.js";

/**
 * The "shown once" panel in `slot`. `texts`: { title, once, help, label, stored }; `id` names its
 * elements. Focus moves to its title.
 */
export function showSecret(slot, secret, { id, title, once, help, label, stored }) {
  paint(
    slot,
    html`<div class="secret" data-secret role="region" aria-labelledby="${id}-title">
      <h3 id="${id}-title" tabindex="-1">${title}</h3>
      <div class="notice notice-warning"><p><strong>${once}</strong></p><p>${help}</p></div>
      ${codeBox(secret, { label, id })}
      <p><button type="button" class="button" data-action="forget-secret">${stored}</button></p>
    </div>`,
  );
  slot.querySelector(`#${id}-title`).focus();
}

/** Copy buttons in `root`, and "I stored it" clears `slot` (then `afterForget()`, e.g. to move focus). */
export function wireSecret(root, slot, signal, afterForget = () => {}) {
  wireCopy(root, signal);
  on(
    root,
    "click",
    "[data-action=forget-secret]",
    () => {
      paint(slot, "");
      afterForget();
    },
    { signal },
  );
}
