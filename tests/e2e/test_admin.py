"""Users and API keys in a real browser: an admin creates an operator, changes and deactivates an
account, creates an API key whose secret is shown once, and revokes it; other roles neither see
the view nor open it; a display name with markup stays text."""

import httpx

from tests.e2e.conftest import DESKTOP, PASSWORD, PHONE, nav_to, serious_axe_violations, shoot
from tests.e2e.test_staff import sign_in

SCRIPT_NAME = "<script>window.__owned = 1</script> Operator Baru"


def open_users(page) -> None:
    sign_in(page, "e2e.admin")
    page.wait_for_selector("h1:text-is('Halo, e2e.admin')")
    assert page.locator(".cards a[href='#/staff/users']").count() == 1
    nav_to(page, "#/staff/users")
    page.wait_for_selector("h1:text-is('Pengguna dan kunci API')")
    page.wait_for_selector("[data-table=users] tr[data-username='e2e.admin']")


def test_admin_creates_an_operator_changes_and_deactivates_the_account(page, server) -> None:
    open_users(page)
    form = page.locator("[data-form=create-user]")
    # Checked in the page first: an operator needs a service point.
    form.locator("input[name=username]").fill("e2e.operator.baru")
    form.locator("input[name=display_name]").fill(SCRIPT_NAME)
    form.locator("input[name=password]").fill("pendek")
    form.locator("select[name=role]").select_option("operator")
    assert form.locator("select[name=service_point_id]").is_visible()
    assert not form.locator("select[name=area]").is_visible()
    form.locator("[type=submit]").click()
    assert form.locator("[data-error-for=service_point_id]").inner_text() == "Operator memerlukan tempat layanan."
    # The API's rule (password length) lands next to the password.
    form.locator("select[name=service_point_id]").select_option("1")
    form.locator("[type=submit]").click()
    form.locator("[data-error-for=password]").wait_for()
    assert form.locator("input[name=password]").get_attribute("aria-invalid") == "true"
    form.locator("input[name=password]").fill(PASSWORD)
    form.locator("[type=submit]").click()
    form.locator("[role=status]:has-text('Akun dibuat')").wait_for()
    row = page.locator("[data-table=users] tr[data-username='e2e.operator.baru']")
    row.wait_for()
    # The name with a script is shown as text and did not run.
    assert row.locator("[data-display-name]").inner_text() == SCRIPT_NAME
    assert page.evaluate("window.__owned") is None
    assert row.locator("[data-role-cell]").text_content() == "Operator"
    created = next(u for u in server.get("/users", params={"limit": 200}, headers=admin(server)).json()["items"] if u["username"] == "e2e.operator.baru")
    assert created["role"] == "operator" and created["service_point_id"] == 1 and created["display_name"] == SCRIPT_NAME
    token = server.token("e2e.operator.baru")  # the new account signs in
    # The same username again: the API's conflict, next to the field.
    form.locator("input[name=username]").fill("e2e.operator.baru")
    form.locator("input[name=display_name]").fill("Lagi")
    form.locator("input[name=password]").fill(PASSWORD)
    form.locator("select[name=role]").select_option("viewer")
    form.locator("[type=submit]").click()
    page.wait_for_selector("[data-form=create-user] [data-error-for=username]:text-is('Nama pengguna ini sudah dipakai.')")
    assert serious_axe_violations(page) == []
    shoot(page, "staff-users-phone")

    # Change the role to supervisor of Serpong: the area is asked for, then saved.
    row.locator("[data-action=edit-user]").click()
    edit = page.locator("[data-form=edit-user]")
    edit.wait_for()
    assert edit.locator("select[name=role]").input_value() == "operator"
    edit.locator("select[name=role]").select_option("supervisor")
    edit.locator("[type=submit]").click()
    edit.locator("[data-error-for=area]").wait_for()
    assert "Supervisor memerlukan wilayah" in edit.locator("[data-error-for=area]").inner_text()  # user.area_needed, in Indonesian
    edit.locator("select[name=area]").select_option("36.74.01")
    edit.locator("[type=submit]").click()
    edit.locator("[role=status]:has-text('Tersimpan')").wait_for()
    page.wait_for_selector("[data-table=users] tr[data-username='e2e.operator.baru'] [data-role-cell]:text-is('Supervisor')", state="attached")
    changed = httpx.get(f"{server.base}/api/v1/auth/me", headers={"Authorization": f"Bearer {server.token('e2e.operator.baru')}"}).json()
    assert changed["role"] == "supervisor" and changed["area"] == "36.74.01"

    # Deactivate: the first click asks, the second does it; the account's tokens stop working.
    button = row.locator("[data-action=deactivate]")
    button.click()
    assert button.inner_text() == "Yakin? Klik lagi"
    assert httpx.get(f"{server.base}/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    button.click()
    page.wait_for_selector("[data-table=users] tr[data-username='e2e.operator.baru'][data-active=false] [data-inactive]")
    assert httpx.get(f"{server.base}/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    # The admin cannot deactivate themself: no button is offered for their own row.
    assert page.locator("[data-table=users] tr[data-username='e2e.admin'] [data-action=deactivate]").count() == 0
    page.set_viewport_size(DESKTOP)
    shoot(page, "staff-users-desktop")
    page.set_viewport_size(PHONE)


def admin(server) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.token('e2e.admin')}"}


def test_admin_creates_an_api_key_sees_the_secret_once_and_revokes_it(page, server) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    open_users(page)
    form = page.locator("[data-form=create-key]")
    form.locator("input[name=name]").fill("Impor rekap <b>Disdukcapil</b>")
    form.locator("select[name=role]").select_option("supervisor")
    form.locator("select[name=area]").select_option("36.74.01")
    form.locator("[type=submit]").click()
    secret_box = page.locator("[data-secret]")
    secret_box.wait_for()
    assert "hanya ditampilkan sekali" in secret_box.inner_text()
    secret = page.inner_text("[data-secret] [data-code]")
    assert secret and secret not in page.url
    page.click("[data-secret] [data-action=copy-code]")
    page.wait_for_selector("[data-secret] [data-copied]:has-text('disalin')")
    assert page.evaluate("navigator.clipboard.readText()") == secret
    shoot(page, "staff-api-key-secret-phone")
    # The key works as the role and area it was given.
    me = httpx.get(f"{server.base}/api/v1/auth/me", headers={"X-API-Key": secret}).json()
    assert me["role"] == "supervisor" and me["area"] == "36.74.01"
    # Listed by name and prefix only; the name with markup is text.
    row = page.locator("[data-table=keys] tr", has_text="Impor rekap <b>Disdukcapil</b>")
    row.wait_for()
    assert secret[:12] in row.inner_text() and secret not in row.inner_text()
    # Hidden on request, and never shown again (not after a reload either).
    page.click("[data-action=forget-secret]")
    assert secret not in page.content()
    page.reload()
    page.wait_for_selector("[data-table=keys]")
    assert secret not in page.content()
    assert page.evaluate("JSON.stringify(sessionStorage) + JSON.stringify(localStorage)").find(secret) == -1
    # Revoke: asks once more, then the key gets 401.
    row = page.locator("[data-table=keys] tr", has_text="Impor rekap <b>Disdukcapil</b>")
    row.locator("[data-action=revoke]").click()
    assert row.locator("[data-action=revoke]").inner_text() == "Yakin cabut? Klik lagi"
    row.locator("[data-action=revoke]").click()
    page.wait_for_selector("[data-table=keys] tr[data-revoked=true]:has-text('Disdukcapil') [data-revoked-at]")
    assert httpx.get(f"{server.base}/api/v1/auth/me", headers={"X-API-Key": secret}).status_code == 401
    assert serious_axe_violations(page) == []


def test_a_non_admin_neither_sees_nor_opens_the_users_view(page, server) -> None:
    for username in ("e2e.supervisor", "e2e.viewer"):
        sign_in(page, username)
        page.wait_for_selector(f"h1:text-is('Halo, {username}')")
        assert page.locator("a[href='#/staff/users']").count() == 0  # neither the menu nor the tools
        page.goto("/#/staff/users")
        page.wait_for_selector("h1:text-is('Tidak tersedia untuk peran Anda')")
        assert page.locator("[data-table=users]").count() == 0
        page.click("[data-action=signout]")
        page.wait_for_selector("[data-figure=recorded]")
    # Signed out, the view asks for sign-in first.
    page.goto("/#/staff/users")
    page.wait_for_selector("h1:text-is('Masuk staf')")
