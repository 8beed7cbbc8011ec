// Escaping templates: every interpolated value is text unless it is itself an Html made by `html`.
// This is the only way views put markup into the page, so a `<script>` in a name stays text.

export class Html {
  constructor(value) {
    this.value = value;
  }

  toString() {
    return this.value;
  }
}

const ENTITIES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;", "`": "&#96;" };

export function escape(text) {
  return String(text).replace(/[&<>"'`]/g, (c) => ENTITIES[c]);
}

function toMarkup(value) {
  if (value instanceof Html) return value.value;
  if (Array.isArray(value)) return value.map(toMarkup).join("");
  if (value === null || value === undefined || value === false) return "";
  return escape(value);
}

export function html(strings, ...values) {
  let out = strings[0];
  values.forEach((value, i) => {
    out += toMarkup(value) + strings[i + 1];
  });
  return new Html(out);
}

/** Replace the content of `element` with an escaped template. */
export function render(element, template) {
  element.innerHTML = toMarkup(template);
}
