// Loans due back to their lender: the overdue first, then by the day they are due.

import { daysBetween, fmt, t } from "../../i18n.js";
import { html } from "../../lib/html.js";
import { bySerial, placeCell } from "./places.js";

export function loansSection() {
  return html`<section aria-labelledby="loans-title">
      <h2 id="loans-title">${t("devices.loansTitle")}</h2>
      <div data-slot="loans"></div>
    </section>`;
}

export function loansTable(devices, book, today) {
  const loans = devices
    .filter((d) => d.owner === "loan" && d.status !== "returned")
    .sort((a, b) => Number(b.loan_overdue) - Number(a.loan_overdue) || (a.return_due ?? "").localeCompare(b.return_due ?? "") || bySerial(a, b));
  if (!loans.length) return html`<p data-loans="none">${t("devices.noLoans")}</p>`;
  return html`<div class="table-wrap" role="region" aria-labelledby="loans-caption" tabindex="0">
    <table class="table" data-table="loans">
      <caption id="loans-caption">${t("devices.loansCaption", { count: fmt.number(loans.length) })}</caption>
      <thead><tr>
        <th scope="col">${t("devices.device")}</th>
        <th scope="col">${t("devices.returnDue")}</th>
        <th scope="col" class="wide-only">${t("devices.placeToday")}</th>
      </tr></thead>
      <tbody>${loans.map((d) => {
        const days = d.return_due ? daysBetween(today, d.return_due) : null;
        return html`<tr data-loan="${d.id}" data-overdue="${d.loan_overdue ? "true" : "false"}">
          <th scope="row">${d.serial}<br><span class="code">${d.lender ?? ""}</span></th>
          <td>${d.return_due ? fmt.date(d.return_due) : "—"}<br>${
            d.loan_overdue
              ? html`<span class="badge badge-behind">${t("devices.overdueBy", { count: fmt.number(Math.abs(days ?? 0)) })}</span>`
              : days === null
                ? ""
                : html`<span class="hint">${days === 0 ? t("devices.dueToday") : t("devices.dueIn", { count: fmt.number(days) })}</span>`
          }</td>
          <td class="wide-only">${placeCell(d.placed, book)}</td>
        </tr>`;
      })}</tbody>
    </table>
  </div>`;
}
