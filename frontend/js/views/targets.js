// Targets and reported figures for a supervisor's area (an admin: the whole campaign): the
// targets and where they came from, a CSV upload of official targets with each rejected row
// shown, and the form to record a cumulative figure ("as of" a date). Staff of the campaign's
// whole area also change what residents read ("what to bring") and the caps on remote numbers
// and bookings while the campaign runs (PATCH /campaigns/{id}).

import { ApiError, api } from "../api.js";
import { campaignAndArea, currentCampaign, isWithin, replaceCampaign } from "../campaigns.js";
import { on } from "../lib/dom.js";
import { busy, clearErrors, showErrors, showSuccess } from "../lib/forms.js";
import { html, render as paint } from "../lib/html.js";
import { areasIn, field } from "../lib/staffkit.js";
import { fmt, t, todayInJakarta } from "../i18n.js";
import { session } from "../store.js";

const SNAPSHOT_PAGE = 20;

function targetsTable(targets, names) {
  if (!targets.items.length) return html`<p>${t("targets.none")}</p>`;
  // One basis for every apportioned target (the usual case) is said once under the table, not on each row.
  const bases = new Set(targets.items.filter((item) => item.basis).map((item) => item.basis));
  const shared = bases.size === 1 ? [...bases][0] : null;
  return html`<div class="table-wrap" role="region" aria-labelledby="targets-caption" tabindex="0">
    <table class="table" data-table="targets">
      <caption id="targets-caption">${t("targets.tableCaption")}</caption>
      <thead><tr>
        <th scope="col">${t("targets.area")}</th>
        <th scope="col" class="num">${t("targets.target")}</th>
        <th scope="col">${t("targets.source")}</th>
      </tr></thead>
      <tbody>
        ${targets.items.map(
          (item) => html`<tr data-area="${item.area}">
            <th scope="row">${names.get(item.area) ?? item.area} <span class="code">${item.area}</span></th>
            <td class="num">${fmt.number(item.target)}</td>
            <td>${t(`targets.source.${item.source}`)}${item.basis && !shared ? html`<br><span class="hint">${item.basis}</span>` : ""}</td>
          </tr>`,
        )}
      </tbody>
    </table>
  </div>
  ${shared ? html`<p class="hint" data-basis>${t("targets.basisShared", { basis: shared })}</p>` : ""}
  ${targets.inconsistencies.map(
    (i) => html`<p class="notice notice-warning" role="note">${t("targets.inconsistent", {
      area: names.get(i.area) ?? i.area,
      target: fmt.number(i.target),
      sum: fmt.number(i.children_sum),
    })}</p>`,
  )}`;
}

function snapshotRows(items, names) {
  return items.map(
    (s) => html`<tr>
      <th scope="row">${names.get(s.area) ?? s.area}</th>
      <td class="nowrap">${fmt.mediumDate(s.as_of)}</td>
      <td class="num">${fmt.number(s.cumulative)}</td>
      <td class="wide-only">${s.source ?? "—"}</td>
    </tr>`,
  );
}

function snapshotsTable(page, names) {
  if (!page.items.length) return html`<p>${t("snapshots.none")}</p>`;
  return html`<div class="table-wrap" role="region" aria-labelledby="snapshots-caption" tabindex="0">
    <table class="table" data-table="snapshots">
      <caption id="snapshots-caption">${t("snapshots.tableCaption")}</caption>
      <thead><tr>
        <th scope="col">${t("targets.area")}</th><th scope="col">${t("snapshots.asOf")}</th>
        <th scope="col" class="num">${t("progress.recorded")}</th><th scope="col" class="wide-only">${t("snapshots.source")}</th>
      </tr></thead>
      <tbody data-rows="snapshots">${snapshotRows(page.items, names)}</tbody>
    </table>
  </div>
  ${page.next_cursor ? html`<p><button type="button" class="button" data-action="more-snapshots" data-cursor="${page.next_cursor}">${t("common.more")}</button></p>` : ""}`;
}

function settingsSection(campaign) {
  return html`<section aria-labelledby="settings-title">
    <h2 id="settings-title">${t("campaignSettings.title")}</h2>
    <p>${t("campaignSettings.help")}</p>
    <form class="form" data-form="campaign-settings" novalidate>
      ${field(
        "settings-bring",
        "what_to_bring",
        t("campaignSettings.bring"),
        html`<textarea id="settings-bring" name="what_to_bring" rows="3" maxlength="500" required aria-describedby="settings-bring-hint settings-bring-error">${campaign.what_to_bring}</textarea>`,
        t("campaignSettings.bringHint"),
      )}
      <p><label class="check"><input type="checkbox" name="cap_remote_numbers" ${campaign.cap_remote_numbers ? "checked" : ""}> ${t("campaignSettings.capNumbers")}</label></p>
      <p><label class="check"><input type="checkbox" name="cap_bookings_per_nik" ${campaign.cap_bookings_per_nik ? "checked" : ""}> ${t("campaignSettings.capBookings")}</label></p>
      <div data-form-status tabindex="-1"></div>
      <p><button type="submit" class="button primary">${t("campaignSettings.submit")}</button></p>
    </form>
  </section>`;
}

function page({ campaign, scope, scopeName, areas, names }) {
  const today = todayInJakarta();
  const recordable = areas.filter((a) => ["kabkota", "kecamatan", "kelurahan", "rw", "rt"].includes(a.level));
  return html`<h1>${t("targets.title")}</h1>
    <p class="lede">${campaignAndArea(campaign, scopeName)}</p>

    <section aria-labelledby="targets-title">
      <h2 id="targets-title">${t("targets.current")}</h2>
      <div data-slot="targets"></div>
    </section>

    <section aria-labelledby="upload-title">
      <h2 id="upload-title">${t("targets.upload")}</h2>
      <p>${t("targets.uploadHelp")}</p>
      <pre class="example">area,target\n${scope},80828</pre>
      <form class="form" data-form="targets" novalidate>
        ${field("targets-file", "file", t("targets.file"), html`<input id="targets-file" name="file" type="file" accept=".csv,text/csv" aria-describedby="targets-file-error">`)}
        ${field(
          "targets-text",
          "text",
          t("targets.paste"),
          html`<textarea id="targets-text" name="text" rows="5" spellcheck="false" aria-describedby="targets-text-hint targets-text-error"></textarea>`,
          t("targets.pasteHint"),
        )}
        <div data-form-status tabindex="-1"></div>
        <p><button type="submit" class="button primary">${t("targets.submit")}</button></p>
      </form>
    </section>

    <section aria-labelledby="snapshot-title">
      <h2 id="snapshot-title">${t("snapshots.title")}</h2>
      <p>${t("snapshots.help")}</p>
      <form class="form" data-form="snapshot" novalidate>
        ${field(
          "snapshot-area",
          "area",
          t("targets.area"),
          html`<select id="snapshot-area" name="area" required aria-describedby="snapshot-area-error">
            ${recordable.map((a) => html`<option value="${a.code}">${a.name} (${a.code})</option>`)}
          </select>`,
        )}
        ${field("snapshot-as-of", "as_of", t("snapshots.asOf"), html`<input id="snapshot-as-of" name="as_of" type="date" max="${today}" value="${today}" required aria-describedby="snapshot-as-of-error">`)}
        ${field(
          "snapshot-cumulative",
          "cumulative",
          t("snapshots.cumulative"),
          html`<input id="snapshot-cumulative" name="cumulative" inputmode="numeric" autocomplete="off" required aria-describedby="snapshot-cumulative-hint snapshot-cumulative-error">`,
          t("snapshots.cumulativeHint"),
        )}
        ${field("snapshot-source", "source", t("snapshots.source"), html`<input id="snapshot-source" name="source" maxlength="200" aria-describedby="snapshot-source-error">`)}
        <div data-form-status tabindex="-1"></div>
        <p><button type="submit" class="button primary">${t("snapshots.submit")}</button></p>
      </form>
      <h3>${t("snapshots.recent")}</h3>
      <div data-slot="snapshots"></div>
    </section>

    ${scope === campaign.root_area ? settingsSection(campaign) : ""}`;
}

// Whole numbers as people type them: "56.458", "56,458", "56 458" or "56458".
function parseCount(text) {
  const digits = text.replace(/[.,\s]/g, "");
  return /^\d{1,12}$/.test(digits) ? Number(digits) : null;
}

export async function render(root, { signal }) {
  const me = session.state.me;
  const campaign = await currentCampaign();
  if (!campaign) {
    paint(root, html`<h1>${t("targets.title")}</h1><p>${t("progress.noCampaign")}</p>`);
    return;
  }
  const scope = me.area ?? campaign.root_area;
  if (!isWithin(scope, campaign.root_area)) {
    paint(root, html`<h1>${t("targets.title")}</h1><p>${t("targets.outside", { area: scope, campaign: campaign.name })}</p>`);
    return;
  }
  const areas = await areasIn(scope, signal);
  const names = new Map(areas.map((a) => [a.code, a.name]));
  paint(root, page({ campaign, scope, scopeName: names.get(scope) ?? scope, areas, names }));

  const targetsSlot = root.querySelector("[data-slot=targets]");
  const snapshotsSlot = root.querySelector("[data-slot=snapshots]");
  const showTargets = async () => {
    try {
      paint(targetsSlot, targetsTable(await api.get(`/campaigns/${campaign.id}/targets`, { params: { area: scope }, signal }), names));
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      paint(targetsSlot, html`<p class="notice notice-error" role="alert">${error.message}</p>`);
    }
  };
  const showSnapshots = async () => {
    try {
      paint(snapshotsSlot, snapshotsTable(await api.get(`/campaigns/${campaign.id}/snapshots`, { params: { area: scope, limit: SNAPSHOT_PAGE }, signal }), names));
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      paint(snapshotsSlot, html`<p class="notice notice-error" role="alert">${error.message}</p>`);
    }
  };
  await Promise.all([showTargets(), showSnapshots()]);

  on(
    root,
    "click",
    "[data-action=more-snapshots]",
    async (_, button) => {
      button.disabled = true;
      try {
        const next = await api.get(`/campaigns/${campaign.id}/snapshots`, { params: { area: scope, limit: SNAPSHOT_PAGE, cursor: button.dataset.cursor }, signal });
        const body = root.querySelector("[data-rows=snapshots]");
        body.insertAdjacentHTML("beforeend", html`${snapshotRows(next.items, names)}`.value);
        if (next.next_cursor) button.dataset.cursor = next.next_cursor;
        else button.remove();
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        button.insertAdjacentHTML("afterend", html`<span class="field-error" role="alert">${error.message}</span>`.value);
      } finally {
        button.disabled = false;
      }
    },
    { signal },
  );

  const settingsForm = root.querySelector("[data-form=campaign-settings]");
  settingsForm?.addEventListener(
    "submit",
    async (event) => {
      event.preventDefault();
      clearErrors(settingsForm);
      const f = settingsForm.elements;
      const bring = f.what_to_bring.value.trim();
      if (!bring) return showErrors(settingsForm, { message: t("form.fix"), fields: { what_to_bring: t("form.required") } });
      const data = { what_to_bring: bring, cap_remote_numbers: f.cap_remote_numbers.checked, cap_bookings_per_nik: f.cap_bookings_per_nik.checked };
      try {
        replaceCampaign(await busy(settingsForm, () => api.patch(`/campaigns/${campaign.id}`, { json: data, signal })));
        showSuccess(settingsForm, t("campaignSettings.saved"));
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        showErrors(settingsForm, error);
      }
    },
    { signal },
  );

  const targetsForm = root.querySelector("[data-form=targets]");
  targetsForm.addEventListener(
    "submit",
    async (event) => {
      event.preventDefault();
      clearErrors(targetsForm);
      const file = targetsForm.elements.file.files[0];
      const text = file ? await file.text() : targetsForm.elements.text.value;
      if (!text.trim()) {
        showErrors(targetsForm, { message: t("form.fix"), fields: { text: t("targets.empty") } });
        return;
      }
      try {
        const answer = await busy(targetsForm, () => api.put(`/campaigns/${campaign.id}/targets`, { text, contentType: "text/csv", signal }));
        const rows = text.trim().split(/\r?\n/).length - 1;
        showSuccess(targetsForm, t("targets.saved", { count: fmt.number(rows), inconsistencies: fmt.number(answer.inconsistencies.length) }));
        targetsForm.reset();
        await showTargets();
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        showErrors(targetsForm, error);
      }
    },
    { signal },
  );

  const snapshotForm = root.querySelector("[data-form=snapshot]");
  snapshotForm.addEventListener(
    "submit",
    async (event) => {
      event.preventDefault();
      clearErrors(snapshotForm);
      const form = snapshotForm.elements;
      const cumulative = parseCount(form.cumulative.value);
      const missing = {};
      if (!form.as_of.value) missing.as_of = t("form.required");
      if (cumulative === null) missing.cumulative = t(form.cumulative.value.trim() ? "form.wholeNumber" : "form.required");
      if (Object.keys(missing).length) {
        showErrors(snapshotForm, { message: t("form.fix"), fields: missing });
        return;
      }
      const data = { area: form.area.value, as_of: form.as_of.value, cumulative, source: form.source.value.trim() || null };
      try {
        const saved = await busy(snapshotForm, () => api.post(`/campaigns/${campaign.id}/snapshots`, { json: data, signal }));
        showSuccess(snapshotForm, t("snapshots.saved", { area: names.get(saved.area) ?? saved.area, date: fmt.date(saved.as_of), count: fmt.number(saved.cumulative) }));
        form.cumulative.value = "";
        await showSnapshots();
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        showErrors(snapshotForm, error);
      }
    },
    { signal },
  );
}
