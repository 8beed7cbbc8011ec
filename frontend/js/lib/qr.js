// A QR code of a page's address (a ticket, a booking): shown at the counter, or scanned to open the
// same page on another phone. The library (frontend/vendor/qrcode-generator, MIT) is loaded only
// when a ticket or booking page draws one; without it (offline, never cached) the address is shown
// as text. The code is drawn as an SVG path (no inline styles: the CSP forbids them).

import { html, render } from "./html.js";
import { t } from "../i18n.js";

const QUIET = 4; // modules of white border, as the standard asks

/** The SVG path of `url`'s QR code (error correction M) and its size in modules. */
export async function qrPath(url) {
  const { qrcode } = await import("../../vendor/qrcode-generator/qrcode.js");
  const code = qrcode(0, "M");
  code.addData(url);
  code.make();
  const count = code.getModuleCount();
  const parts = [];
  for (let row = 0; row < count; row += 1) {
    for (let col = 0; col < count; col += 1) {
      if (code.isDark(row, col)) parts.push(`M${col + QUIET} ${row + QUIET}h1v1h-1z`);
    }
  }
  return { d: parts.join(""), size: count + 2 * QUIET };
}

/** Draw the QR code of `url` into `slot` (a `.qr` figure keeps its space while it loads). */
export async function showQr(slot, url) {
  slot.dataset.qrUrl = url;
  try {
    const { d, size } = await qrPath(url);
    render(
      slot,
      html`<svg viewBox="0 0 ${size} ${size}" role="img" aria-label="${t("qr.label")}" shape-rendering="crispEdges" data-qr>
          <rect width="${size}" height="${size}" fill="#fff"></rect><path d="${d}" fill="#000"></path>
        </svg>
        <figcaption>${t("qr.hint")}</figcaption>`,
    );
  } catch {
    render(slot, html`<figcaption>${t("qr.unavailable")}</figcaption><p class="qr-url">${url}</p>`);
  }
}

/** The full address of an app path (#/…), as a QR code carries it. */
export function pageUrl(path) {
  return `${location.origin}${location.pathname}#${path}`;
}
