// What the sections of the devices view share: places (areas by code, service points by id, the
// kecamatan each lies in) shown as names, a device's status, and the order of serial numbers.

import { html } from "../../lib/html.js";
import { t } from "../../i18n.js";

export const KINDS = ["static", "mobile"];
export const NOWHERE = "none";

/** Names and levels of places: areas by code, service points by id, the kecamatan codes. */
export function placeBook(areas, points) {
  const names = new Map(areas.map((a) => [a.code, a.name]));
  const kecamatan = areas.filter((a) => a.level === "kecamatan");
  const kecamatanCodes = new Set(kecamatan.map((a) => a.code));
  const byId = new Map(points.map((p) => [p.id, p]));
  const kecamatanOf = (code) => {
    if (!code) return null;
    const parts = code.split(".");
    for (let n = parts.length; n > 0; n -= 1) {
      const prefix = parts.slice(0, n).join(".");
      if (kecamatanCodes.has(prefix)) return prefix;
    }
    return null;
  };
  return { names, kecamatan, byId, kecamatanOf };
}

/** A place (an allocation, a posting or a plan's from/to) as a name, with its kecamatan below. */
export function placeCell(place, book) {
  if (!place) return html`<span class="hint">${t("devices.nowhere")}</span>`;
  const kecamatan = book.kecamatanOf(place.area);
  const kecamatanName = kecamatan ? (book.names.get(kecamatan) ?? kecamatan) : null;
  if (place.service_point_id) {
    const point = book.byId.get(place.service_point_id);
    const name = point?.name ?? t("devices.pointNumber", { id: place.service_point_id });
    const says = kecamatanName && name.includes(kecamatanName);
    return html`<span data-place-name>${name}</span>${kecamatanName && !says ? html`<br><span class="code">${kecamatanName}</span>` : ""}`;
  }
  const area = book.names.get(place.area) ?? place.area;
  return html`<span data-place-name>${t("devices.areaPlace", { area })}</span>${kecamatan && kecamatan !== place.area ? html`<br><span class="code">${kecamatanName}</span>` : ""}`;
}

/** A place as plain text (an option, a sentence). */
export function placeText(place, book) {
  if (place.service_point_id) return book.byId.get(place.service_point_id)?.name ?? t("devices.pointNumber", { id: place.service_point_id });
  return t("devices.areaPlace", { area: book.names.get(place.area) ?? place.area });
}

export function statusBadge(status) {
  const kind = status === "active" ? "badge-ok" : status === "faulty" || status === "in_repair" ? "badge-behind" : "badge-muted";
  return html`<span class="badge ${kind}" data-status="${status}">${t(`device.status.${status}`)}</span>`;
}

export const bySerial = (a, b) => a.serial.localeCompare(b.serial, "en", { numeric: true });
