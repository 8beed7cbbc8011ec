// Pieces the public views share: a code shown large with a copy button, the area chain picker
// (kecamatan → kelurahan → RW → RT), and the API's English rule messages in the interface language.

import { api } from "../api.js";
import { html, render } from "./html.js";
import { on } from "./dom.js";
import { fmt, t } from "../i18n.js";
import { keep, kept } from "../store.js";

const TICKETS_KEY = "rekam.tickets";

/** The tickets this phone took today ({ point, id, code, day, number }), older days dropped. */
export function myTickets(today) {
  try {
    const all = JSON.parse(kept(TICKETS_KEY) || "[]");
    return Array.isArray(all) ? all.filter((x) => x && x.day === today) : [];
  } catch {
    return [];
  }
}

/** Keep a ticket on the phone, so that a reload or a return to the app finds it. */
export function keepTicket(ticket, today) {
  const others = myTickets(today).filter((x) => x.id !== ticket.id);
  keep(TICKETS_KEY, JSON.stringify([...others, ticket])); // refused: the ticket's address still works
}

const BOOKINGS_KEY = "rekam.appointments";

/** The bookings made on this phone, from `today` on ({ code, point, day, start }). */
export function myBookings(today) {
  try {
    const all = JSON.parse(kept(BOOKINGS_KEY) || "[]");
    return Array.isArray(all) ? all.filter((x) => x && x.day >= today) : [];
  } catch {
    return [];
  }
}

/** Keep a booking (API `AppointmentRead`) on the phone; a cancelled one is forgotten. */
export function keepBooking(booking, today) {
  const others = myBookings(today).filter((x) => x.code !== booking.code);
  const booked = booking.status === "booked" ? [{ code: booking.code, point: booking.service_point_id, day: booking.date, start: booking.slot_start }] : [];
  keep(BOOKINGS_KEY, JSON.stringify([...others, ...booked])); // refused: the booking's address still works
}

/** The address of a kept ticket. */
export function ticketPath(ticket) {
  return `/ticket/${ticket.point}/${ticket.id}/${ticket.code}`;
}

/** "Buka lagi Senin, 7 Desember 2026 pukul 08.00": a closed point's next opening (API `next_opening`). */
export function opensAgain(next) {
  if (!next) return t("queue.noOpening");
  const [hh, mm] = next.time.split(":");
  return t("queue.opensAgain", { date: fmt.date(next.date), hh, mm });
}

/** "3 orang menunggu · perkiraan tunggu 7 menit": a point's line; while it is closed the wait counts from its opening. */
export function queueLine(queue) {
  const values = { waiting: fmt.number(queue.waiting), minutes: fmt.number(queue.estimated_wait_minutes) };
  return t(queue.open_now ? "where.queue" : "where.queueClosed", values);
}

/** A code (tracking code, receipt) shown large, with a copy button and a live "copied" note. */
export function codeBox(code, { label, id }) {
  return html`<div class="code-box" data-code-box>
    <p class="code-box-label" id="${id}-label">${label}</p>
    <p class="code-box-value" id="${id}" data-code aria-labelledby="${id}-label">${code}</p>
    <p class="code-box-actions">
      <button type="button" class="button primary" data-action="copy-code" data-copy="${code}" aria-describedby="${id}-copied">${t("public.copy")}</button>
      <span class="code-box-copied" id="${id}-copied" role="status" data-copied></span>
    </p>
  </div>`;
}

/** The page after a public form is sent: a confirmation, the code shown large with its copy
 * button, then `more`; focus moves to the heading so screen readers announce the new page. */
export function showCode(root, { title, body, code, label, id, more = "" }, signal) {
  render(
    root,
    html`<h1>${title}</h1>
      <div class="notice notice-ok" role="status"><p>${body}</p></div>
      ${codeBox(code, { label, id })}
      ${more}`,
  );
  wireCopy(root, signal);
  const heading = root.querySelector("h1");
  heading.setAttribute("tabindex", "-1");
  heading.focus();
}

/** Wire every copy button in `root`; when the clipboard is refused the code is selected instead. */
export function wireCopy(root, signal) {
  on(
    root,
    "click",
    "[data-action=copy-code]",
    async (_, button) => {
      const box = button.closest("[data-code-box]");
      const note = box.querySelector("[data-copied]");
      try {
        await navigator.clipboard.writeText(button.dataset.copy);
        note.textContent = t("public.copied");
      } catch {
        const range = document.createRange();
        range.selectNodeContents(box.querySelector("[data-code]"));
        const selection = getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
        note.textContent = t("public.copyManually");
      }
    },
    { signal },
  );
}

/** The direct children of an area (all pages), by code. */
export async function childrenOf(code, signal) {
  const items = [];
  let cursor = null;
  do {
    const page = await api.get("/areas", { params: { parent: code, limit: 500, cursor }, signal });
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  return items.sort((a, b) => a.code.localeCompare(b.code));
}

const LEVELS = ["kecamatan", "kelurahan", "rw", "rt"];

/**
 * Chained selects below `rootCode` (the campaign's city): kecamatan, kelurahan, then RW and RT
 * when the kelurahan has them. `levels` says how deep to go; `required` the level that must be
 * chosen (its select carries `name`, so that API errors on that field land next to it).
 * Returns { markup, wire(container, signal), value(form) } where value is the deepest code chosen.
 */
export function areaPicker({ idPrefix, name, levels = LEVELS, required = null, anyLabel = null }) {
  const ids = Object.fromEntries(levels.map((level) => [level, `${idPrefix}-${level}`]));
  // Levels above the required one are needed to reach it; only those below it are optional.
  const optional = (level) => (required ? levels.indexOf(level) > levels.indexOf(required) : true);
  const markup = html`${levels.map(
    (level, index) => html`<div class="field" data-area-level="${level}" ${index > 0 ? html`hidden` : ""}>
      <label for="${ids[level]}">${t(`level.${level}.one`)}${optional(level) ? html` <span class="optional">${t("public.optional")}</span>` : ""}</label>
      <select id="${ids[level]}" data-area-select="${level}" ${level === required ? html`name="${name}" aria-describedby="${ids[level]}-error" required` : ""}>
        <option value="">${index === 0 && anyLabel ? anyLabel : t("public.choose")}</option>
      </select>
      ${level === required ? html`<p class="field-error" id="${ids[level]}-error" data-error-for="${name}" hidden></p>` : ""}
    </div>`,
  )}`;

  function fill(select, items, selected = "") {
    const first = select.options[0].textContent;
    render(
      select,
      html`<option value="">${first}</option>${items.map(
        (a) => html`<option value="${a.code}" ${a.code === selected ? html`selected` : ""}>${a.name}</option>`,
      )}`,
    );
  }

  async function showBelow(container, level, code, signal, selected = "") {
    const index = levels.indexOf(level);
    for (const deeper of levels.slice(index + 1)) {
      const field = container.querySelector(`[data-area-level="${deeper}"]`);
      field.hidden = true;
      fill(field.querySelector("select"), []);
    }
    const next = levels[index + 1];
    if (!code || !next) return;
    const items = await childrenOf(code, signal);
    if (!items.length) return;
    const field = container.querySelector(`[data-area-level="${next}"]`);
    fill(field.querySelector("select"), items, selected);
    field.hidden = false;
  }

  return {
    markup,
    /** Load the first level below `rootCode`; `initial` is a code to preselect down the chain. */
    async wire(container, rootCode, signal, initial = "") {
      const first = container.querySelector(`[data-area-select="${levels[0]}"]`);
      fill(first, await childrenOf(rootCode, signal));
      on(
        container,
        "change",
        "[data-area-select]",
        (_, select) => {
          showBelow(container, select.dataset.areaSelect, select.value, signal).catch(() => {});
          container.dispatchEvent(new CustomEvent("area-change", { bubbles: true }));
        },
        { signal },
      );
      // Preselect a chain like 36.74.01.1001: each prefix at its level.
      const parts = initial ? initial.split(".") : [];
      for (let depth = 3, index = 0; depth <= parts.length && index < levels.length; depth += 1, index += 1) {
        const code = parts.slice(0, depth).join(".");
        const select = container.querySelector(`[data-area-select="${levels[index]}"]`);
        if (![...select.options].some((o) => o.value === code)) break;
        select.value = code;
        const deeper = parts.length > depth ? parts.slice(0, depth + 1).join(".") : "";
        await showBelow(container, levels[index], code, signal, deeper);
      }
    },
    value(container) {
      let code = "";
      for (const level of levels) {
        const field = container.querySelector(`[data-area-level="${level}"]`);
        const value = field.hidden ? "" : field.querySelector("select").value;
        if (!value) break;
        code = value;
      }
      return code;
    },
  };
}

/** A message and a line of help inside a notice. */
export function notice(kind, title, body = "") {
  return html`<div class="notice notice-${kind}"><p><strong>${title}</strong></p>${body ? html`<p>${body}</p>` : ""}</div>`;
}

/** A field's error goes away as soon as the person changes that field. */
export function clearOnEdit(form, signal) {
  const clear = (event) => {
    const name = event.target.name || event.target.closest("[data-area-picker]")?.querySelector("select[name]")?.name;
    if (!name) return;
    const slot = form.querySelector(`[data-error-for="${CSS.escape(name)}"]`);
    if (slot && !slot.hidden) {
      slot.hidden = true;
      slot.textContent = "";
      form.elements.namedItem(name)?.removeAttribute?.("aria-invalid");
      // The summary at the end goes too once nothing is marked any more.
      const status = form.querySelector("[data-form-status]");
      if (status && !form.querySelector("[data-error-for]:not([hidden])")) status.textContent = "";
    }
  };
  form.addEventListener("input", clear, { signal });
  form.addEventListener("change", clear, { signal });
}
