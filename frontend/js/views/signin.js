// Staff sign-in. Residents never need it; it is linked from the footer of every page.

import { signIn } from "../auth.js";
import { html, render as paint } from "../lib/html.js";
import { busy, clearErrors, showErrors } from "../lib/forms.js";
import { t } from "../i18n.js";
import { session } from "../store.js";

function safeNext(query) {
  const next = query.get("next") || "/staff";
  // A staff path, with the query the page was opened with (its filters); nothing else.
  return /^\/staff(\/[a-z0-9/_-]*)?(\?[A-Za-z0-9_.~%&=+-]*)?$/.test(next) ? next : "/staff";
}

export async function render(root, { query, signal, navigate }) {
  if (session.state.me) return navigate(safeNext(query), { replace: true });
  paint(
    root,
    html`<h1>${t("signin.title")}</h1>
      <p class="lede">${t("signin.lede")}</p>
      <form class="form narrow" data-form="signin" novalidate>
        <div class="field">
          <label for="signin-username">${t("signin.username")}</label>
          <input id="signin-username" name="username" autocomplete="username" autocapitalize="none" spellcheck="false" required aria-describedby="signin-username-error">
          <p class="field-error" id="signin-username-error" data-error-for="username" hidden></p>
        </div>
        <div class="field">
          <label for="signin-password">${t("signin.password")}</label>
          <input id="signin-password" name="password" type="password" autocomplete="current-password" required aria-describedby="signin-password-error">
          <p class="field-error" id="signin-password-error" data-error-for="password" hidden></p>
        </div>
        <div data-form-status tabindex="-1"></div>
        <p><button type="submit" class="button primary">${t("signin.submit")}</button></p>
      </form>`,
  );
  const form = root.querySelector("[data-form=signin]");
  form.addEventListener(
    "submit",
    async (event) => {
      event.preventDefault();
      clearErrors(form);
      const username = form.elements.username.value.trim();
      const password = form.elements.password.value;
      const missing = {};
      if (!username) missing.username = t("form.required");
      if (!password) missing.password = t("form.required");
      if (Object.keys(missing).length) {
        showErrors(form, { message: t("form.fix"), fields: missing });
        return;
      }
      try {
        await busy(form, () => signIn(username, password));
        navigate(safeNext(query));
      } catch (error) {
        if (error.status === 401) error.message = t("signin.wrong");
        form.elements.password.value = "";
        showErrors(form, error);
      }
    },
    { signal },
  );
}
