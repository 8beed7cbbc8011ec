// Daily tallies for a supervisor's area (an admin: the whole campaign): a day × area entry grid,
// a CSV upload that shows the import summary and every rejected row, a dry-run switch for both,
// and the history of one figure (old value, new value, who, when, which import). A grid saved
// without signal (a weekend service's count, entered in a hall) waits in the outbox and is sent
// with its Idempotency-Key when the signal returns.

import { ApiError, api } from "../api.js";
import { campaignAndArea, currentCampaign, isWithin } from "../campaigns.js";
import { on } from "../lib/dom.js";
import { busy, clearErrors, showErrors } from "../lib/forms.js";
import { html, render as paint } from "../lib/html.js";
import { enqueue } from "../lib/outbox.js";
import { describe } from "../problems.js";
import { mountOutbox } from "../lib/outboxpanel.js";
import { allPages, areasIn, field, parseCount, slotError } from "../lib/staffkit.js";
import { addDays, fmt, t, todayInJakarta } from "../i18n.js";
import { session } from "../store.js";

const GRID_DAYS = 7;
const ROW_LEVELS = ["kecamatan", "kelurahan"];

function summaryBlock(summary, { lineOf, gridCells } = {}) {
  const failed = summary.rejected > 0 && summary.atomic;
  const saved = !summary.dry_run && !failed;
  const verdict = summary.dry_run
    ? t(failed ? "tallies.dryRunFailed" : "tallies.dryRunOk")
    : failed
      ? t("tallies.nothingSaved")
      : t("tallies.saved");
  const kind = summary.rejected ? "notice-error" : summary.warnings.length ? "notice-warning" : "notice-ok";
  const rejectedRows = summary.conflicts.flatMap((c) => c.rows.map((row) => ({ row, field: c.field, message: describe(`import.${c.code}`, c.params, c.message) })));
  rejectedRows.sort((a, b) => a.row - b.row);
  const counts = ["rows", "imported", "updated", "unchanged", "deleted", "rejected"];
  return html`<div class="notice ${kind}" role="${summary.rejected ? "alert" : "status"}" data-summary="${saved ? "saved" : summary.dry_run ? "dry-run" : "rejected"}">
    <p><strong>${verdict}</strong></p>
    <dl class="tally-counts">
      ${counts.map((key) => html`<div data-count="${key}"><dt>${t(`tallies.count.${key}`)}</dt><dd>${fmt.number(summary[key])}</dd></div>`)}
    </dl>
    ${
      rejectedRows.length
        ? html`<div class="table-wrap" role="region" aria-label="${t("tallies.rejectedCaption")}" tabindex="0"><table class="table compact" data-table="rejected">
            <caption>${t("tallies.rejectedCaption")}</caption>
            <thead><tr><th scope="col">${t("form.row")}</th><th scope="col">${gridCells ? t("tallies.cell") : t("tallies.line")}</th><th scope="col">${t("form.field")}</th><th scope="col">${t("form.problem")}</th></tr></thead>
            <tbody>${rejectedRows.map(
              (r) => html`<tr data-row="${r.row}"><td class="num">${r.row}</td><td><code>${(gridCells ? gridCells(r.row) : lineOf?.(r.row)) ?? "—"}</code></td><td>${r.field ?? "—"}</td><td>${r.message}</td></tr>`,
            )}</tbody>
          </table></div>`
        : ""
    }
    ${
      summary.warnings.length
        ? html`<p>${t("tallies.warnings")}</p><ul>${summary.warnings.map(
            (w) => html`<li>${w.rows.length ? html`${t("form.row")} ${w.rows.join(", ")}: ` : ""}${describe(`import.${w.code}`, w.params, w.message)}</li>`,
          )}</ul>`
        : ""
    }
  </div>`;
}

function gridTable({ rows, days, values }) {
  if (!rows.length) return html`<p>${t("tallies.noAreas")}</p>`;
  return html`<div class="table-wrap grid-wrap" role="region" aria-labelledby="grid-caption" tabindex="0">
    <table class="table tally-grid" data-table="grid">
      <caption id="grid-caption">${t("tallies.gridCaption")}</caption>
      <thead><tr>
        <th scope="col">${t("targets.area")}</th>
        ${days.map((d) => html`<th scope="col" class="num"><abbr title="${fmt.date(d)}">${fmt.shortDate(d)}</abbr></th>`)}
      </tr></thead>
      <tbody>
        ${rows.map(
          (a) => html`<tr data-area="${a.code}">
            <th scope="row">${a.name}</th>
            ${days.map((d) => {
              const value = values.get(`${a.code}|${d}`);
              const shown = value === undefined ? "" : String(value);
              return html`<td><input class="cell" inputmode="numeric" autocomplete="off" size="5"
                data-area="${a.code}" data-date="${d}" data-original="${shown}" value="${shown}"
                aria-label="${t("tallies.cellLabel", { area: a.name, date: fmt.date(d) })}"></td>`;
            })}
          </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

function historyTable(items, names) {
  if (!items.length) return html`<p data-history="empty">${t("tallies.historyNone")}</p>`;
  return html`<div class="table-wrap" role="region" aria-labelledby="history-caption" tabindex="0"><table class="table" data-table="history">
    <caption id="history-caption">${t("tallies.historyCaption", { area: names.get(items[0].area) ?? items[0].area, date: fmt.date(items[0].date) })}</caption>
    <thead><tr>
      <th scope="col">${t("tallies.when")}</th><th scope="col" class="num">${t("tallies.old")}</th><th scope="col" class="num">${t("tallies.new")}</th>
      <th scope="col">${t("tallies.who")}</th><th scope="col" class="wide-only">${t("tallies.via")}</th>
    </tr></thead>
    <tbody>${items.map(
      (c) => html`<tr>
        <td class="nowrap">${fmt.dateTime(c.at)}</td>
        <td class="num">${c.old_count === null ? "—" : fmt.number(c.old_count)}</td>
        <td class="num">${c.new_count === null ? t("tallies.deleted") : fmt.number(c.new_count)}</td>
        <td>${c.actor_name}${c.service_point_id || c.device_id ? html`<br><span class="hint">${t("tallies.keyed", { point: c.service_point_id ?? "—", device: c.device_id ?? "—" })}</span>` : ""}</td>
        <td class="wide-only">${c.source}${c.import_id ? html` · ${t("tallies.import", { id: c.import_id })}` : ""}</td>
      </tr>`,
    )}</tbody>
  </table></div>`;
}

function page({ campaign, scopeName, levels, level, end, today, recordable }) {
  return html`<h1>${t("tallies.title")}</h1>
    <p class="lede">${campaignAndArea(campaign, scopeName)}</p>
    <div data-slot="outbox"></div>

    <section aria-labelledby="grid-title">
      <h2 id="grid-title">${t("tallies.gridTitle")}</h2>
      <p>${t("tallies.gridHelp")} <span data-keys>${t("tallies.gridKeys")}</span></p>
      <form class="form inline-form" data-form="grid-view" novalidate>
        ${field("grid-level", "level", t("tallies.level"), html`<select id="grid-level" name="level">
          ${levels.map((l) => html`<option value="${l}" ${l === level ? html`selected` : ""}>${t(`level.${l}.per`)}</option>`)}
        </select>`)}
        ${field("grid-end", "end", t("tallies.until"), html`<input id="grid-end" name="end" type="date" max="${today}" value="${end}" required>`)}
        <p><button type="submit" class="button">${t("tallies.show")}</button></p>
      </form>
      <form class="form wide" data-form="grid" novalidate>
        <div data-slot="grid"></div>
        <label class="check"><input type="checkbox" name="dry_run"> ${t("tallies.dryRun")}</label>
        <div data-form-status tabindex="-1"></div>
        <p><button type="submit" class="button primary">${t("tallies.saveGrid")}</button></p>
      </form>
    </section>

    <section aria-labelledby="csv-title">
      <h2 id="csv-title">${t("tallies.csvTitle")}</h2>
      <p>${t("tallies.csvHelp")}</p>
      <pre class="example">area,date,count\n${recordable[0]?.code ?? "36.74.01"},${today},412</pre>
      <form class="form" data-form="csv" novalidate>
        ${field("csv-file", "file", t("targets.file"), html`<input id="csv-file" name="file" type="file" accept=".csv,text/csv" aria-describedby="csv-file-error">`)}
        ${field(
          "csv-text",
          "text",
          t("targets.paste"),
          html`<textarea id="csv-text" name="text" rows="5" spellcheck="false" aria-describedby="csv-text-hint csv-text-error"></textarea>`,
          t("targets.pasteHint"),
        )}
        <label class="check"><input type="checkbox" name="dry_run"> ${t("tallies.dryRun")}</label>
        <div data-form-status tabindex="-1"></div>
        <p><button type="submit" class="button primary">${t("tallies.upload")}</button></p>
      </form>
    </section>

    <section aria-labelledby="history-title">
      <h2 id="history-title">${t("tallies.historyTitle")}</h2>
      <form class="form inline-form" data-form="history" novalidate>
        ${field("history-area", "area", t("targets.area"), html`<select id="history-area" name="area">
          ${recordable.map((a) => html`<option value="${a.code}">${a.name} (${a.code})</option>`)}
        </select>`)}
        ${field("history-date", "date", t("tallies.date"), html`<input id="history-date" name="date" type="date" max="${today}" value="${addDays(today, -1)}" required aria-describedby="history-date-error">`)}
        <div data-form-status tabindex="-1"></div>
        <p><button type="submit" class="button">${t("tallies.showHistory")}</button></p>
      </form>
      <div data-slot="history" aria-live="polite"></div>
    </section>`;
}

async function post(campaignId, body, { dryRun, signal }) {
  try {
    return await api.post(`/campaigns/${campaignId}/tallies`, { ...body, params: { dry_run: dryRun ? "true" : undefined }, signal });
  } catch (error) {
    // A rejected import (atomic) still carries its summary: show that, row by row.
    if (error instanceof ApiError && error.problem?.summary) return error.problem.summary;
    throw error;
  }
}

export async function render(root, { signal, query }) {
  const me = session.state.me;
  const campaign = await currentCampaign();
  if (!campaign) {
    paint(root, html`<h1>${t("tallies.title")}</h1><p>${t("progress.noCampaign")}</p>`);
    return;
  }
  const scope = me.area ?? campaign.root_area;
  if (!isWithin(scope, campaign.root_area) && !isWithin(campaign.root_area, scope)) {
    paint(root, html`<h1>${t("tallies.title")}</h1><p>${t("targets.outside", { area: scope, campaign: campaign.name })}</p>`);
    return;
  }
  const areas = (await areasIn(scope, signal)).filter((a) => isWithin(a.code, campaign.root_area));
  const names = new Map(areas.map((a) => [a.code, a.name]));
  const levels = ROW_LEVELS.filter((l) => areas.some((a) => a.level === l));
  const today = todayInJakarta();
  const level = levels.includes(query.get("level")) ? query.get("level") : (levels.includes("kelurahan") && scope.split(".").length >= 3 ? "kelurahan" : levels[0]);
  const end = /^\d{4}-\d{2}-\d{2}$/.test(query.get("end") ?? "") && query.get("end") <= today ? query.get("end") : today;
  const recordable = areas.filter((a) => ["kecamatan", "kelurahan", "rw", "rt"].includes(a.level));
  paint(root, page({ campaign, scopeName: names.get(scope) ?? scope, levels, level, end, today, recordable }));
  mountOutbox(root.querySelector("[data-slot=outbox]"), { signal });

  const gridForm = root.querySelector("[data-form=grid]");
  const gridSlot = root.querySelector("[data-slot=grid]");
  let posted = []; // the cells of the last grid post, by JSON row number - 1

  const showGrid = async (rowLevel, until) => {
    // Newest first: the day being entered sits next to the area names, on a phone too (issue #19).
    const days = Array.from({ length: GRID_DAYS }, (_, i) => addDays(until, -i)).filter((d) => d >= campaign.start_date);
    const rows = areas.filter((a) => a.level === rowLevel);
    paint(gridSlot, html`<p class="loading" role="status"><span class="spinner" aria-hidden="true"></span>${t("common.loading")}</p>`);
    try {
      const tallies = await allPages(`/campaigns/${campaign.id}/tallies`, { params: { area: scope, from: days.at(-1), to: until }, signal, limit: 500 });
      const values = new Map(tallies.filter((x) => x.service_point_id === null && x.device_id === null).map((x) => [`${x.area}|${x.date}`, x.count]));
      paint(gridSlot, gridTable({ rows, days, values }));
    } catch (error) {
      paint(gridSlot, slotError(error));
    }
  };
  await showGrid(level, end);

  root.querySelector("[data-form=grid-view]").addEventListener(
    "submit",
    (event) => {
      event.preventDefault();
      const form = event.currentTarget.elements;
      clearErrors(gridForm);
      showGrid(form.level.value, form.end.value && form.end.value <= today ? form.end.value : today);
    },
    { signal },
  );

  gridForm.addEventListener(
    "submit",
    async (event) => {
      event.preventDefault();
      clearErrors(gridForm);
      const cells = [...gridForm.querySelectorAll("input.cell")];
      const bad = [];
      posted = [];
      for (const cell of cells) {
        cell.removeAttribute("aria-invalid");
        const text = cell.value.trim();
        if (text === cell.dataset.original || text === "") continue;
        const count = parseCount(text);
        if (count === null) bad.push(cell);
        else posted.push({ cell, tally: { area: cell.dataset.area, date: cell.dataset.date, count } });
      }
      if (bad.length) {
        showErrors(gridForm, { message: t("form.fix"), other: bad.map((c) => `${c.getAttribute("aria-label")}: ${t("form.wholeNumber")}`) });
        bad.forEach((cell) => cell.setAttribute("aria-invalid", "true"));
        bad[0].focus();
        return;
      }
      const status = gridForm.querySelector("[data-form-status]");
      if (!posted.length) {
        paint(status, html`<p class="notice" role="status">${t("tallies.nothingChanged")}</p>`);
        return;
      }
      const dryRun = gridForm.elements.dry_run.checked;
      const tallies = posted.map((p) => p.tally);
      // Without signal the figures wait in the outbox; the same key makes a resend harmless.
      const key = crypto.randomUUID();
      const keep = async () => {
        const first = tallies[0];
        const label = t("tallies.outboxLabel", { count: fmt.number(tallies.length), area: names.get(first.area) ?? first.area, date: fmt.shortDate(first.date) });
        await enqueue({ path: `/campaigns/${campaign.id}/tallies`, body: { tallies }, label, ref: { campaign: campaign.id }, idempotencyKey: key });
        for (const p of posted) p.cell.dataset.original = String(p.tally.count);
        paint(status, html`<p class="notice notice-warning" role="status" data-summary="queued">${t("tallies.queued", { count: fmt.number(tallies.length) })}</p>`);
        status.focus();
      };
      if (!dryRun && !navigator.onLine) return keep();
      try {
        const headers = dryRun ? undefined : { "Idempotency-Key": key };
        const summary = await busy(gridForm, () => post(campaign.id, { json: { tallies }, headers }, { dryRun, signal }));
        const describe = (row) => {
          const p = posted[row - 1];
          return p ? `${names.get(p.tally.area) ?? p.tally.area} · ${fmt.shortDate(p.tally.date)} · ${fmt.number(p.tally.count)}` : null;
        };
        for (const c of summary.conflicts) for (const row of c.rows) posted[row - 1]?.cell.setAttribute("aria-invalid", "true");
        paint(status, summaryBlock(summary, { gridCells: describe }));
        if (!summary.dry_run && !(summary.atomic && summary.rejected)) {
          for (const p of posted) p.cell.dataset.original = String(p.tally.count);
        }
        status.focus();
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        if (error.status === 0 && !dryRun) return keep();
        showErrors(gridForm, error);
      }
    },
    { signal },
  );

  const csvForm = root.querySelector("[data-form=csv]");
  csvForm.addEventListener(
    "submit",
    async (event) => {
      event.preventDefault();
      clearErrors(csvForm);
      const file = csvForm.elements.file.files[0];
      const text = file ? await file.text() : csvForm.elements.text.value;
      if (!text.trim()) {
        showErrors(csvForm, { message: t("form.fix"), fields: { text: t("targets.empty") } });
        return;
      }
      // Row numbers as the API counts them: the header is row 1 and blank lines are skipped.
      const lines = text.split(/\r?\n/).filter((line) => line.trim() && line.replace(/[;,\s]/g, ""));
      const dryRun = csvForm.elements.dry_run.checked;
      try {
        const summary = await busy(csvForm, () => post(campaign.id, { text, contentType: "text/csv" }, { dryRun, signal }));
        const status = csvForm.querySelector("[data-form-status]");
        paint(status, summaryBlock(summary, { lineOf: (row) => lines[row - 1] ?? null }));
        status.focus();
        if (!summary.dry_run && !(summary.atomic && summary.rejected)) {
          csvForm.elements.file.value = "";
          const view = root.querySelector("[data-form=grid-view]").elements;
          await showGrid(view.level.value, view.end.value || today);
        }
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        showErrors(csvForm, error);
      }
    },
    { signal },
  );

  const historyForm = root.querySelector("[data-form=history]");
  const historySlot = root.querySelector("[data-slot=history]");
  const showHistory = async (area, day) => {
    clearErrors(historyForm);
    if (!day) {
      showErrors(historyForm, { message: t("form.fix"), fields: { date: t("form.required") } });
      return;
    }
    try {
      const items = await busy(historyForm, () =>
        allPages(`/campaigns/${campaign.id}/tallies/history`, { params: { area, date: day }, signal, maxPages: 5 }),
      );
      // The API answers for the subtree; the history of this figure is the area's own entries.
      const own = items.filter((c) => c.area === area).sort((a, b) => b.at.localeCompare(a.at) || b.id - a.id);
      paint(historySlot, own.length ? historyTable(own, names) : html`<p data-history="empty">${t("tallies.historyNone")}</p>`);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      showErrors(historyForm, error);
    }
  };
  historyForm.addEventListener(
    "submit",
    (event) => {
      event.preventDefault();
      showHistory(historyForm.elements.area.value, historyForm.elements.date.value);
    },
    { signal },
  );
  // Alt+H in a grid cell: that figure's history.
  on(
    root,
    "keydown",
    "input.cell",
    (event, cell) => {
      if (!(event.altKey && event.key.toLowerCase() === "h")) return;
      event.preventDefault();
      historyForm.elements.area.value = cell.dataset.area;
      historyForm.elements.date.value = cell.dataset.date;
      showHistory(cell.dataset.area, cell.dataset.date).then(() => historySlot.scrollIntoView({ block: "nearest" }));
    },
    { signal },
  );
}
