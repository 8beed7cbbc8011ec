// Showing an ApiError on a form: each field's message next to the field (linked with
// aria-describedby, the field marked aria-invalid), the rest in the form's status area.

import { html, render } from "./html.js";
import { t } from "../i18n.js";

export function clearErrors(form) {
  for (const field of form.querySelectorAll("[aria-invalid]")) field.removeAttribute("aria-invalid");
  for (const slot of form.querySelectorAll("[data-error-for]")) {
    slot.textContent = "";
    slot.hidden = true;
  }
  const status = form.querySelector("[data-form-status]");
  if (status) render(status, "");
}

/** The input an API field's error belongs to: the API names references `<thing>_id` (docs/api.md),
 * a form's picker is often named by the thing itself ("device"), which needs no alias. */
function inputName(form, apiField) {
  if (form.elements.namedItem(apiField) || !apiField.endsWith("_id")) return apiField;
  const thing = apiField.slice(0, -3);
  return form.elements.namedItem(thing) ? thing : apiField;
}

/** Show `error` on `form`; `fieldAlias` maps API field names to input names when they differ otherwise. */
export function showErrors(form, error, { fieldAlias = {} } = {}) {
  clearErrors(form);
  const unplaced = [...(error.other || [])];
  let first = null;
  for (const [apiField, message] of Object.entries(error.fields || {})) {
    const name = fieldAlias[apiField] ?? inputName(form, apiField);
    const input = form.elements.namedItem(name);
    const slot = form.querySelector(`[data-error-for="${CSS.escape(name)}"]`);
    if (!input || !slot) {
      // Named as the form names it (its label), never by the API's field name.
      const label = input?.id ? form.querySelector(`label[for="${CSS.escape(input.id)}"]`)?.textContent?.trim() : null;
      unplaced.push(label ? `${label}: ${message}` : message);
      continue;
    }
    input.setAttribute("aria-invalid", "true");
    slot.textContent = message;
    slot.hidden = false;
    first ??= input;
  }
  const status = form.querySelector("[data-form-status]");
  if (status) {
    render(
      status,
      html`<div class="notice notice-error" role="alert">
        <p><strong>${error.message}</strong></p>
        ${error.detail ? html`<p>${error.detail}</p>` : ""}
        ${unplaced.length ? html`<ul>${unplaced.map((m) => html`<li>${m}</li>`)}</ul>` : ""}
        ${
          error.rows?.length
            ? html`<table class="table compact">
                <caption>${t("form.rowErrors")}</caption>
                <thead><tr><th scope="col">${t("form.row")}</th><th scope="col">${t("form.field")}</th><th scope="col">${t("form.problem")}</th></tr></thead>
                <tbody>${error.rows.map((r) => html`<tr><td>${r.row}</td><td>${r.field ?? "—"}</td><td>${r.message}</td></tr>`)}</tbody>
              </table>`
            : ""
        }
      </div>`,
    );
  }
  (first ?? status)?.focus?.();
}

export function showSuccess(form, message) {
  const status = form.querySelector("[data-form-status]");
  if (status) render(status, html`<div class="notice notice-ok" role="status"><p>${message}</p></div>`);
}

/** Disable the submit button while `work` runs, so a slow answer is not sent twice. */
export async function busy(form, work) {
  const button = form.querySelector("[type=submit]");
  const label = button?.textContent;
  if (button) {
    button.disabled = true;
    button.textContent = t("common.saving");
  }
  form.setAttribute("aria-busy", "true");
  try {
    return await work();
  } finally {
    form.removeAttribute("aria-busy");
    if (button) {
      button.disabled = false;
      button.textContent = label;
    }
  }
}

/** A labelled field with its hint and error slot (`showErrors` fills `data-error-for=name`); an
 * optional field says so next to its label. */
export function fieldBlock({ id, name, label, hint = "", input, optional = false }) {
  return html`<div class="field">
    <label for="${id}">${label}${optional ? html` <span class="optional">${t("public.optional")}</span>` : ""}</label>
    ${hint ? html`<p class="hint" id="${id}-hint">${hint}</p>` : ""}
    ${input}
    <p class="field-error" id="${id}-error" data-error-for="${name}" hidden></p>
  </div>`;
}
