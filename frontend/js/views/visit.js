// Home visit (public): a resident who cannot come asks for a mobile kit; the tracking code shown
// large with a copy button; and the status page of a code (#/visit/track/HV-XXXX-XXXX).

import { api } from "../api.js";
import { currentCampaign } from "../campaigns.js";
import { busy, clearErrors, fieldBlock, showErrors } from "../lib/forms.js";
import { html, render as paint } from "../lib/html.js";
import { areaPicker, clearOnEdit, showCode } from "../lib/public.js";
import { fmt, t, todayInJakarta } from "../i18n.js";
import { resendCode } from "../lib/notify.js";

const REASONS = ["sick", "disabled", "elderly", "other"];
const DATES = 3;

function described(id, hint) {
  return hint ? `${id}-hint ${id}-error` : `${id}-error`;
}

function trackForm(code = "") {
  return html`<form class="form narrow track-form" data-form="visit-track" novalidate>
    <div class="field">
      <label for="visit-track-code">${t("visit.track.code")}</label>
      <input id="visit-track-code" name="code" value="${code}" autocomplete="off" autocapitalize="characters" spellcheck="false" placeholder="HV-XXXX-XXXX" aria-describedby="visit-track-code-error">
      <p class="field-error" id="visit-track-code-error" data-error-for="code" hidden></p>
    </div>
    <div data-form-status tabindex="-1"></div>
    <p><button type="submit" class="button">${t("visit.track.submit")}</button></p>
  </form>
  <div data-resend-slot></div>`;
}

function wireTrackForm(root, signal, navigate) {
  const form = root.querySelector("[data-form=visit-track]");
  const resend = root.querySelector("[data-resend-slot]");
  if (resend) resendCode(resend, signal);
  form.addEventListener(
    "submit",
    (event) => {
      event.preventDefault();
      const code = form.elements.code.value.trim();
      if (!code) return showErrors(form, { message: t("form.fix"), fields: { code: t("form.required") } });
      navigate(`/visit/track/${encodeURIComponent(code)}`);
    },
    { signal },
  );
}

async function renderRequest(root, { signal, navigate }) {
  const campaign = await currentCampaign();
  const today = todayInJakarta();
  const picker = areaPicker({ idPrefix: "visit-area", name: "area", required: "kelurahan" });
  const nikHint = t("visit.nikHint");
  paint(
    root,
    html`<h1>${t("visit.title")}</h1>
      <p class="lede">${t("visit.lede")}</p>
      <p class="notice notice-free">${t("visit.free")}</p>
      <p><a href="#/visit/track">${t("visit.haveCode")}</a></p>
      <form class="form" data-form="visit" novalidate>
        <fieldset class="group">
          <legend>${t("visit.who")}</legend>
          ${fieldBlock({ id: "visit-name", name: "name", label: t("visit.name"), input: html`<input id="visit-name" name="name" autocomplete="name" required maxlength="200" aria-describedby="visit-name-error">` })}
          ${fieldBlock({
            id: "visit-nik",
            name: "nik",
            label: t("visit.nik"),
            hint: nikHint,
            input: html`<input id="visit-nik" name="nik" inputmode="numeric" autocomplete="off" spellcheck="false" required maxlength="32" aria-describedby="${described("visit-nik", nikHint)}">`,
          })}
          ${fieldBlock({
            id: "visit-phone",
            name: "phone",
            label: t("visit.phone"),
            hint: t("visit.phoneHint"),
            input: html`<input id="visit-phone" name="phone" type="tel" inputmode="tel" autocomplete="tel" required maxlength="32" aria-describedby="${described("visit-phone", true)}">`,
          })}
        </fieldset>
        <fieldset class="group">
          <legend>${t("visit.where")}</legend>
          <div data-area-picker>${picker.markup}</div>
          ${fieldBlock({
            id: "visit-address",
            name: "address",
            label: t("visit.address"),
            hint: t("visit.addressHint"),
            input: html`<textarea id="visit-address" name="address" class="prose" rows="3" autocomplete="street-address" required maxlength="500" aria-describedby="${described("visit-address", true)}"></textarea>`,
          })}
        </fieldset>
        <fieldset class="group">
          <legend>${t("visit.why")}</legend>
          <div class="field" role="radiogroup" aria-labelledby="visit-reason-label" aria-describedby="visit-reason-error">
            <p class="label" id="visit-reason-label">${t("visit.reason")}</p>
            ${REASONS.map(
              (reason, i) => html`<label class="choice"><input type="radio" name="reason" value="${reason}" ${i === 0 ? html`checked` : ""}> ${t(`visit.reason.${reason}`)}</label>`,
            )}
            <p class="field-error" id="visit-reason-error" data-error-for="reason" hidden></p>
          </div>
          ${fieldBlock({
            id: "visit-note",
            name: "note",
            label: html`${t("visit.note")} <span class="optional">${t("public.optional")}</span>`,
            hint: t("visit.noteHint"),
            input: html`<textarea id="visit-note" name="note" class="prose" rows="3" maxlength="1000" aria-describedby="${described("visit-note", true)}"></textarea>`,
          })}
          <div class="field-group">
            <p class="label" id="visit-dates-label">${t("visit.dates")} <span class="optional">${t("public.optional")}</span></p>
            <p class="hint">${t("visit.datesHint", { deadline: campaign ? fmt.date(campaign.deadline) : "—" })}</p>
            <div class="date-row">
              ${Array.from({ length: DATES }, (_, i) =>
                fieldBlock({
                  id: `visit-date-${i}`,
                  name: `preferred_dates.${i}`,
                  label: t("visit.dateN", { n: i + 1 }),
                  input: html`<input id="visit-date-${i}" name="preferred_dates.${i}" type="date" min="${today}" ${campaign ? html`max="${campaign.deadline}"` : ""} aria-describedby="visit-date-${i}-error">`,
                }),
              )}
            </div>
          </div>
        </fieldset>
        <div class="field">
          <label class="choice"><input type="checkbox" name="consent" value="yes" aria-describedby="visit-consent-error"> ${t("visit.consent")}</label>
          <p class="field-error" id="visit-consent-error" data-error-for="consent" hidden></p>
        </div>
        <div class="field">
          <label class="choice"><input type="checkbox" name="messages" value="whatsapp"> ${t("notify.visitMessages")}</label>
        </div>
        <p class="hint">${t("visit.privacy")}</p>
        <div data-form-status tabindex="-1"></div>
        <p><button type="submit" class="button primary wide">${t("visit.submit")}</button></p>
      </form>`,
  );
  const form = root.querySelector("[data-form=visit]");
  const pickerBox = form.querySelector("[data-area-picker]");
  await picker.wire(pickerBox, campaign?.root_area ?? "36.74", signal);
  clearOnEdit(form, signal);
  form.addEventListener(
    "submit",
    async (event) => {
      event.preventDefault();
      clearErrors(form);
      const get = (name) => form.elements.namedItem(name).value.trim();
      const data = {
        name: get("name"),
        nik: get("nik"),
        phone: get("phone"),
        address: get("address"),
        area: picker.value(pickerBox),
        reason: form.elements.reason.value,
        note: get("note") || null,
        preferred_dates: Array.from({ length: DATES }, (_, i) => get(`preferred_dates.${i}`)).filter(Boolean),
        consent: form.elements.consent.checked,
        messages: form.elements.messages.checked ? "whatsapp" : null,
      };
      const missing = {};
      for (const name of ["name", "nik", "phone", "address"]) if (!data[name]) missing[name] = t("form.required");
      if (!data.area || data.area.split(".").length < 4) missing.area = t("visit.err.chooseKelurahan");
      if (data.address && data.address.length < 5) missing.address = t("visit.err.addressShort");
      if (Object.keys(missing).length) return showErrors(form, { message: t("form.fix"), fields: missing });
      try {
        const receipt = await busy(form, () => api.post("/home-visits", { json: data, signal }));
        renderReceipt(root, receipt, signal);
      } catch (error) {
        if (signal.aborted) return;
        // The dates' errors name their position in the list we sent: map them back to the inputs.
        const filled = Array.from({ length: DATES }, (_, i) => i).filter((i) => get(`preferred_dates.${i}`));
        const alias = Object.fromEntries(filled.map((input, sent) => [`preferred_dates.${sent}`, `preferred_dates.${input}`]));
        showErrors(form, error, { fieldAlias: alias });
      }
    },
    { signal },
  );
}

function renderReceipt(root, receipt, signal) {
  showCode(
    root,
    {
      title: t("visit.sent.title"), body: t("visit.sent.body"), code: receipt.tracking_code, label: t("visit.sent.code"), id: "visit-code",
      more: html`<p>${t("visit.sent.keep")}</p>
        <p class="actions">
          <a class="button primary" href="#/visit/track/${encodeURIComponent(receipt.tracking_code)}" data-link="track">${t("visit.sent.track")}</a>
          <a class="button" href="#/visit">${t("visit.sent.another")}</a>
        </p>`,
    },
    signal,
  );
}

const STEPS = ["submitted", "triaged", "scheduled", "visited"];

async function renderTrack(root, { params, signal, navigate }) {
  let code = params.code ?? "";
  try {
    code = decodeURIComponent(code);
  } catch {
    /* a mangled address: looked up as typed, the API answers 404 */
  }
  if (!code) {
    paint(root, html`<h1>${t("visit.track.title")}</h1><p class="lede">${t("visit.track.lede")}</p>${trackForm()}`);
    return wireTrackForm(root, signal, navigate);
  }
  let visit;
  try {
    visit = await api.get(`/home-visits/track/${encodeURIComponent(code)}`, { signal });
  } catch (error) {
    if (error.status !== 404 && error.status !== 422) throw error;
    paint(
      root,
      html`<h1>${t("visit.track.title")}</h1>
        <div class="notice notice-error" role="alert"><p><strong>${t("visit.track.notFound")}</strong></p><p>${t("visit.track.notFoundHelp")}</p></div>
        ${trackForm(code)}`,
    );
    return wireTrackForm(root, signal, navigate);
  }
  const final = ["visited", "cancelled", "unreachable"].includes(visit.status);
  const reached = STEPS.indexOf(visit.status);
  paint(
    root,
    html`<h1>${t("visit.track.title")}</h1>
      <p class="lede">${t("visit.track.for")} <strong class="code-inline" data-tracking-code>${visit.tracking_code}</strong></p>
      <div class="status-card status-${visit.status}" data-status="${visit.status}">
        <p class="status-label">${t(`visit.status.${visit.status}`)}</p>
        <p>${t(`visit.status.${visit.status}.help`)}</p>
        ${
          visit.visit_date
            ? html`<p class="status-when" data-visit-date>${t("visit.track.when", {
                date: fmt.date(visit.visit_date),
                from: fmt.time(visit.window_start),
                to: fmt.time(visit.window_end),
              })}</p>`
            : ""
        }
      </div>
      ${
        reached >= 0
          ? html`<ol class="steps" aria-label="${t("visit.track.steps")}">
              ${STEPS.map(
                (step, i) =>
                  html`<li class="${i < reached ? "done" : i === reached ? "current" : ""}" ${i === reached ? html`aria-current="step"` : ""}>${t(`visit.status.${step}`)}</li>`,
              )}
            </ol>`
          : ""
      }
      <dl class="figures">
        <div><dt>${t("visit.track.requested")}</dt><dd>${fmt.date(visit.requested_on)}</dd></div>
        <div><dt>${t("visit.track.updated")}</dt><dd>${fmt.dateTime(visit.updated_at)}</dd></div>
      </dl>
      ${final ? "" : html`<p class="hint">${t("visit.track.privacy")}</p>`}
      <p class="actions"><button type="button" class="button" data-action="retry">${t("visit.track.refresh")}</button></p>
      <h2>${t("visit.track.other")}</h2>
      ${trackForm()}`,
  );
  wireTrackForm(root, signal, navigate);
}

export async function render(root, context) {
  if (context.params.page === "track") return renderTrack(root, context);
  return renderRequest(root, context);
}
