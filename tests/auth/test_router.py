from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update

from api.audit.models import AuditEntry
from api.auth import service
from api.auth.models import AccessToken, ApiKey, User
from api.devices.models import Operator
from api.types import Role
from tests.factories import PASSWORD, assert_problem, headers_for, make_service_point, make_user

TOKEN = "/api/v1/auth/token"


async def sign_in(client, username: str, password: str = PASSWORD):
    return await client.post(TOKEN, data={"username": username, "password": password})


async def audit_actions(session, action: str) -> int:
    return await session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action))


async def test_sign_in_me_and_logout(client, session) -> None:
    username = (await make_user(session, role=Role.supervisor, area="36.74.01")).username
    response = await sign_in(client, username)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 12 * 60 * 60 and body["access_token"].startswith("rkt_")
    bearer = {"Authorization": f"Bearer {body['access_token']}"}
    me = (await client.get("/api/v1/auth/me", headers=bearer)).json()
    assert me == {
        "kind": "user",
        "id": me["id"],
        "name": username,
        "role": "supervisor",
        "area": "36.74.01",
        "service_point_id": None,
        "operator_id": None,
        "recent_failed_sign_ins": [],
        "api_keys": [],
    }
    assert (await client.get("/api/v1/auth/me")).json()["kind"] == "anonymous"
    assert (await client.post("/api/v1/auth/logout", headers=bearer)).status_code == 204
    assert_problem(await client.get("/api/v1/auth/me", headers=bearer), 401)
    assert_problem(await client.get("/api/v1/auth/me", headers={"Authorization": "Basic abc"}), 401)
    assert_problem(await client.get("/api/v1/auth/me", headers={"Authorization": "Bearer rkt_made-up"}), 401)
    assert await audit_actions(session, "auth.logout") == 1


async def test_expired_token_gets_401(client, session) -> None:
    headers = await headers_for(session, role=Role.viewer)
    await session.commit()  # the 403 below rolls back to here
    assert (await client.get("/api/v1/users", headers=headers)).status_code == 403  # valid, just not admin
    await session.execute(update(AccessToken).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    await session.commit()
    problem = assert_problem(await client.get("/api/v1/users", headers=headers), 401)
    assert problem["code"] == "auth.token_expired" and "kedaluwarsa" in problem["detail"]


async def test_deactivated_user_cannot_sign_in_and_their_tokens_stop(client, session) -> None:
    admin = await headers_for(session, role=Role.admin)
    user = await make_user(session, role=Role.viewer)
    user_id, username = user.id, user.username
    await session.commit()
    token = (await sign_in(client, username)).json()["access_token"]
    assert (await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})).json()["kind"] == "user"
    response = await client.patch(f"/api/v1/users/{user_id}", json={"active": False}, headers=admin)
    assert response.status_code == 200 and response.json()["active"] is False
    assert_problem(await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}), 401)
    assert_problem(await sign_in(client, username), 401)
    # Reactivating does not bring the old session back: deactivation revoked it.
    assert (await client.patch(f"/api/v1/users/{user_id}", json={"active": True}, headers=admin)).status_code == 200
    assert_problem(await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}), 401)
    assert (await sign_in(client, username)).status_code == 200


async def test_password_change_ends_sessions_and_admin_cannot_deactivate_self(client, session) -> None:
    admin_user = await make_user(session, role=Role.admin)
    admin_id, admin_name = admin_user.id, admin_user.username
    await session.commit()
    token = (await sign_in(client, admin_name)).json()["access_token"]
    admin = {"Authorization": f"Bearer {token}"}
    assert_problem(await client.patch(f"/api/v1/users/{admin_id}", json={"active": False}, headers=admin), 422, field="active")
    assert_problem(await client.patch(f"/api/v1/users/{admin_id}", json={"password": "short"}, headers=admin), 422, field="password")
    changed = await client.patch(f"/api/v1/users/{admin_id}", json={"password": "a-new-long-password"}, headers=admin)
    assert changed.status_code == 200 and "password" not in changed.text
    assert_problem(await client.get("/api/v1/users", headers=admin), 401)
    assert (await sign_in(client, admin_name, "a-new-long-password")).status_code == 200
    entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "user.update").order_by(AuditEntry.id.desc()))
    assert entry.after["password"] == "***" and "a-new-long-password" not in str(entry.after)


async def test_user_scopes_are_validated(client, session) -> None:
    admin = await headers_for(session, role=Role.admin)
    point_id = (await make_service_point(session)).id
    await session.commit()  # failed requests roll back to here
    base = {"username": "siti.rahma", "display_name": "Siti", "password": "long-enough-password"}
    assert_problem(await client.post("/api/v1/users", json={**base, "role": "supervisor"}, headers=admin), 422, field="area")
    assert_problem(await client.post("/api/v1/users", json={**base, "role": "viewer", "area": "36.74.01"}, headers=admin), 422, field="area")
    assert_problem(await client.post("/api/v1/users", json={**base, "role": "operator"}, headers=admin), 422, field="service_point_id")
    assert_problem(
        await client.post("/api/v1/users", json={**base, "role": "operator", "service_point_id": 999999}, headers=admin), 404, field="service_point_id"
    )
    assert_problem(await client.post("/api/v1/users", json={**base, "role": "supervisor", "area": "99.99"}, headers=admin), 422, field="area")
    assert_problem(
        await client.post("/api/v1/users", json={**base, "role": "supervisor", "area": "36.74.01", "password": "short"}, headers=admin), 422, field="password"
    )
    created = await client.post("/api/v1/users", json={**base, "role": "supervisor", "area": "36.74.01"}, headers=admin)
    assert created.status_code == 201 and "password" not in created.text
    user_id = created.json()["id"]
    assert_problem(await client.post("/api/v1/users", json={**base, "role": "viewer"}, headers=admin), 409, field="username")
    # A new role drops the old scope; the new one is checked like on creation.
    assert_problem(await client.patch(f"/api/v1/users/{user_id}", json={"role": "operator"}, headers=admin), 422, field="service_point_id")
    moved = await client.patch(f"/api/v1/users/{user_id}", json={"role": "operator", "service_point_id": point_id}, headers=admin)
    assert moved.json()["role"] == "operator" and moved.json()["area"] is None and moved.json()["service_point_id"] == point_id
    assert_problem(await client.patch(f"/api/v1/users/{user_id}", json={"display_name": None}, headers=admin), 422, field="display_name")
    listed = await client.get("/api/v1/users", headers=admin, params={"limit": 1})
    assert len(listed.json()["items"]) == 1 and listed.json()["next_cursor"]


async def test_an_account_may_be_its_operator_and_then_needs_no_service_point(client, session) -> None:
    admin = await headers_for(session, role=Role.admin)
    petugas = Operator(name="Petugas Kit", staff_number="KIT-CREW-1", status="active")
    other = Operator(name="Petugas Lain", staff_number="KIT-CREW-2", status="active")
    session.add_all([petugas, other])
    await session.flush()
    petugas_id, other_id = petugas.id, other.id
    await session.commit()  # failed requests roll back to here
    base = {"display_name": "Kru kit keliling", "password": "long-enough-password", "role": "operator"}
    assert_problem(await client.post("/api/v1/users", json={**base, "username": "kru.a", "operator_id": 999999}, headers=admin), 404, field="operator_id")
    # Linked to a petugas, an operator account needs no counter: the database agrees.
    created = await client.post("/api/v1/users", json={**base, "username": "kru.a", "operator_id": petugas_id}, headers=admin)
    assert created.status_code == 201, created.text
    assert (created.json()["operator_id"], created.json()["service_point_id"]) == (petugas_id, None)
    user_id = created.json()["id"]
    assert_problem(await client.post("/api/v1/users", json={**base, "username": "kru.b", "operator_id": petugas_id}, headers=admin), 409, field="operator_id")
    token = (await sign_in(client, "kru.a", "long-enough-password")).json()["access_token"]
    me = (await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})).json()
    assert (me["role"], me["operator_id"], me["service_point_id"]) == ("operator", petugas_id, None)
    # Unlinked, it would be an operator of nothing.
    assert_problem(await client.patch(f"/api/v1/users/{user_id}", json={"operator_id": None}, headers=admin), 422, field="service_point_id")
    moved = await client.patch(f"/api/v1/users/{user_id}", json={"operator_id": other_id}, headers=admin)
    assert moved.status_code == 200 and moved.json()["operator_id"] == other_id
    audited = await session.scalar(select(AuditEntry).where(AuditEntry.action == "user.update", AuditEntry.entity_id == str(user_id)))
    assert audited is not None and (audited.before["operator_id"], audited.after["operator_id"]) == (petugas_id, other_id)


async def test_api_keys_shown_once_scoped_and_revocable(client, session) -> None:
    admin = await headers_for(session, role=Role.admin)
    await session.commit()
    campaign = (
        await client.post(
            "/api/v1/campaigns", headers=admin, json={"name": "T", "root_area": "36.74", "start_date": "2026-01-01", "deadline": "2027-01-01", "target": 10}
        )
    ).json()
    created = await client.post("/api/v1/api-keys", json={"name": "serpong tallies", "role": "supervisor", "area": "36.74.01"}, headers=admin)
    assert created.status_code == 201
    body = created.json()
    key, key_id = body["key"], body["id"]
    assert key.startswith("rkk_") and body["prefix"] == key[:12] and body["last_used_at"] is None
    listed = (await client.get("/api/v1/api-keys", headers=admin)).json()["items"]
    assert [k["id"] for k in listed] == [key_id] and "key" not in listed[0]
    stored = await session.scalar(select(ApiKey.key_hash).where(ApiKey.id == key_id))
    assert key not in stored
    script = {"X-API-Key": key}
    snapshot = {"area": "36.74.01", "as_of": "2026-06-01", "cumulative": 5}
    assert (await client.post(f"/api/v1/campaigns/{campaign['id']}/snapshots", json=snapshot, headers=script)).status_code == 201
    assert_problem(await client.post(f"/api/v1/campaigns/{campaign['id']}/snapshots", json={**snapshot, "area": "36.74.07"}, headers=script), 403)
    assert (await client.get("/api/v1/auth/me", headers=script)).json() == {
        "kind": "api_key",
        "id": key_id,
        "name": "key:serpong tallies",
        "role": "supervisor",
        "area": "36.74.01",
        "service_point_id": None,
        "operator_id": None,
        "recent_failed_sign_ins": [],
        "api_keys": [],
    }
    used = (await client.get("/api/v1/api-keys", headers=admin)).json()["items"][0]
    assert used["last_used_at"] is not None
    entry = await session.scalar(select(AuditEntry).where(AuditEntry.entity == "snapshot").order_by(AuditEntry.id.desc()))
    assert entry.actor_kind == "api_key" and entry.actor_name == "key:serpong tallies"
    assert (await client.delete(f"/api/v1/api-keys/{key_id}", headers=admin)).status_code == 204
    assert_problem(await client.get("/api/v1/auth/me", headers=script), 401)
    assert_problem(await client.post(f"/api/v1/campaigns/{campaign['id']}/snapshots", json=snapshot, headers=script), 401)
    assert_problem(await client.delete("/api/v1/api-keys/999999", headers=admin), 404)
    assert_problem(await client.post("/api/v1/api-keys", json={"name": "x", "role": "viewer", "area": "36.74.01"}, headers=admin), 422, field="area")


async def test_logout_needs_a_token_not_a_key(client, session) -> None:
    admin = await headers_for(session, role=Role.admin)
    await session.commit()
    key = (await client.post("/api/v1/api-keys", json={"name": "k", "role": "viewer"}, headers=admin)).json()["key"]
    assert_problem(await client.post("/api/v1/auth/logout", headers={"X-API-Key": key}), 422)


async def test_failed_sign_ins_are_audited_and_kept(client, session) -> None:
    username = (await make_user(session, role=Role.viewer)).username
    await session.commit()
    response = await sign_in(client, username, "not-the-password")
    problem = assert_problem(response, 401)
    assert "not-the-password" not in response.text and problem["detail"]
    assert_problem(await sign_in(client, "nobody.here", "whatever-password"), 401)
    assert_problem(await sign_in(client, username, "x" * 10_000), 401)
    entries = (await session.scalars(select(AuditEntry).where(AuditEntry.action == "auth.login_failed").order_by(AuditEntry.id))).all()
    assert len(entries) == 3
    assert entries[0].request_id == response.headers["x-request-id"] and entries[0].client == "127.0.0.1"
    assert entries[1].entity_id is None  # an unknown username is not stored
    assert (await sign_in(client, username)).status_code == 200
    assert await audit_actions(session, "auth.login") == 1


async def test_failed_sign_ins_per_username_are_throttled_per_address(client, session, configure, client_from) -> None:
    configure(login_failure_limit="3/hour", login_failure_limit_per_client="100/hour")
    username = (await make_user(session, role=Role.viewer)).username
    await session.commit()
    for _ in range(3):
        assert_problem(await sign_in(client, username, "wrong-password"), 401)
    # Refused now from this address, even with the right password.
    refused = await sign_in(client, username)
    problem = assert_problem(refused, 429)
    assert 1 <= int(refused.headers["retry-after"]) <= 3600 and username not in problem["detail"]
    assert await audit_actions(session, "auth.login_refused") == 1
    # Other usernames from the same address are not held to this username's count.
    other = (await make_user(session, role=Role.viewer)).username
    assert (await sign_in(client, other)).status_code == 200


async def test_nobody_can_lock_an_account_out_for_its_owner(client, session, configure, client_from) -> None:
    """Issue 17, item 8: five wrong passwords for `admin` from anywhere locked its owner out for ever."""
    configure(login_failure_limit="5/15minutes", login_failure_limit_per_client="20/15minutes")
    user = await make_user(session, role=Role.admin)
    username, user_id = user.username, user.id
    await session.commit()
    async with client_from("198.51.100.66") as attacker:
        for _ in range(5):
            assert_problem(await sign_in(attacker, username, "wrong-password"), 401)
        assert_problem(await sign_in(attacker, username, "wrong-password"), 429)
    # The owner, from an address without failures, signs in with the right password.
    async with client_from("10.20.30.40") as owner:
        signed_in = await sign_in(owner, username)
        assert signed_in.status_code == 200, signed_in.text
        bearer = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
        # ... and sees what happened to their account: newest first, refused ones marked.
        me = (await owner.get("/api/v1/auth/me", headers=bearer)).json()
    failures = me["recent_failed_sign_ins"]
    assert len(failures) == 6 and failures[0]["refused"] is True and not any(f["refused"] for f in failures[1:])
    assert {f["client"] for f in failures} == {"198.51.100.66"}
    # Nobody else's failures are shown, and the anonymous caller sees none.
    assert (await client.get("/api/v1/auth/me")).json()["recent_failed_sign_ins"] == []
    assert user_id == me["id"]


async def test_failed_sign_ins_per_client_are_throttled(client, session, configure, client_from) -> None:
    configure(login_failure_limit="100/hour", login_failure_limit_per_client="3/hour")
    username = (await make_user(session, role=Role.viewer)).username
    await session.commit()
    for n in range(3):
        assert_problem(await sign_in(client, f"guess.{n}", "wrong-password"), 401)
    assert_problem(await sign_in(client, username), 429)
    async with client_from("10.9.9.9") as elsewhere:
        assert (await sign_in(elsewhere, username)).status_code == 200


async def test_successful_sign_in_clears_the_username_count(client, session, configure) -> None:
    configure(login_failure_limit="2/hour")
    username = (await make_user(session, role=Role.viewer)).username
    await session.commit()
    assert_problem(await sign_in(client, username, "wrong-password"), 401)
    assert (await sign_in(client, username)).status_code == 200
    assert_problem(await sign_in(client, username, "wrong-password"), 401)
    assert (await sign_in(client, username)).status_code == 200


async def test_a_deactivated_owners_api_keys_stop_working(client, session) -> None:
    """Issue 17, item 2: an admin's key kept creating admins after the admin was deactivated."""
    leaving = await make_user(session, role=Role.admin)
    leaving_id, leaving_name = leaving.id, leaving.username
    staying = await headers_for(session, role=Role.admin)
    await session.commit()
    token = (await sign_in(client, leaving_name)).json()["access_token"]
    created = await client.post("/api/v1/api-keys", json={"name": "admin script", "role": "admin"}, headers={"Authorization": f"Bearer {token}"})
    assert created.status_code == 201 and created.json()["owner_id"] == leaving_id
    script = {"X-API-Key": created.json()["key"]}
    new_admin = {"username": "made.by.key", "display_name": "K", "password": "long-enough-password", "role": "admin"}
    assert (await client.post("/api/v1/users", json=new_admin, headers=script)).status_code == 201
    assert (await client.patch(f"/api/v1/users/{leaving_id}", json={"active": False}, headers=staying)).status_code == 200
    refused = await client.post("/api/v1/users", json={**new_admin, "username": "made.after"}, headers=script)
    assert_problem(refused, 401)
    [listed] = [k for k in (await client.get("/api/v1/api-keys", headers=staying)).json()["items"] if k["id"] == created.json()["id"]]
    assert listed["revoked_at"] is not None
    assert await audit_actions(session, "api_key.revoke") == 1
    # A key is never more than its owner: an admin moved to viewer takes the admin key's power along.
    demoted = await make_user(session, role=Role.admin)
    demoted_id = demoted.id
    await session.commit()
    admin_key = (await client.post("/api/v1/api-keys", json={"name": "admin key", "role": "admin", "owner": demoted.username}, headers=staying)).json()
    assert "key" in admin_key, admin_key
    assert (await client.get("/api/v1/users", headers={"X-API-Key": admin_key["key"]})).status_code == 200
    assert (await client.patch(f"/api/v1/users/{demoted_id}", json={"role": "viewer"}, headers=staying)).status_code == 200
    assert_problem(await client.get("/api/v1/users", headers={"X-API-Key": admin_key["key"]}), 401)
    # A key whose owner was deactivated behind the service's back is refused as well.
    other = await client.post("/api/v1/api-keys", json={"name": "viewer script", "role": "viewer"}, headers=staying)
    owner_id = other.json()["owner_id"]
    await session.execute(update(User).where(User.id == owner_id).values(active=False))
    await session.commit()
    assert_problem(await client.get("/api/v1/auth/me", headers={"X-API-Key": other.json()["key"]}), 401)


async def test_api_keys_expire_and_the_expiring_ones_are_listed(client, session) -> None:
    admin = await headers_for(session, role=Role.admin)
    await session.commit()
    soon = (await client.post("/api/v1/api-keys", json={"name": "soon", "role": "viewer", "expires_in_days": 10}, headers=admin)).json()
    later = (await client.post("/api/v1/api-keys", json={"name": "later", "role": "viewer"}, headers=admin)).json()
    expires = datetime.fromisoformat(later["expires_at"]) - datetime.fromisoformat(later["created_at"])
    assert expires == timedelta(days=365)
    expiring = (await client.get("/api/v1/api-keys", params={"expiring_within": "30d"}, headers=admin)).json()["items"]
    assert [k["name"] for k in expiring] == ["soon"]
    assert_problem(await client.get("/api/v1/api-keys", params={"expiring_within": "soon"}, headers=admin), 422)
    assert (await client.get("/api/v1/auth/me", headers={"X-API-Key": soon["key"]})).json()["kind"] == "api_key"
    await session.execute(update(ApiKey).where(ApiKey.id == soon["id"]).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    await session.commit()
    problem = assert_problem(await client.get("/api/v1/auth/me", headers={"X-API-Key": soon["key"], "Accept-Language": "en"}), 401)
    assert problem["code"] == "auth.key_expired" and "expired" in problem["detail"]
    assert (await client.get("/api/v1/api-keys", params={"expiring_within": "30d"}, headers=admin)).json()["items"] == []
    assert_problem(await client.post("/api/v1/api-keys", json={"name": "x", "role": "viewer", "expires_in_days": 5000}, headers=admin), 422)


async def test_concurrent_creation_of_one_username_is_a_409(pg_migrated_url) -> None:
    """Issue 17, item 7 (POST /users): the second of two concurrent creations was a 500 on PostgreSQL."""
    import asyncio

    import pytest
    from sqlalchemy.ext.asyncio import AsyncSession

    from api.auth import service
    from api.auth.schemas import UserCreate
    from api.db import create_engine_for
    from api.errors import Conflict
    from api.principal import SYSTEM

    engine = create_engine_for(pg_migrated_url)
    data = UserCreate(username="same.name", display_name="Same", password="long-enough-password", role=Role.viewer)
    try:
        async with AsyncSession(engine, expire_on_commit=False) as first, AsyncSession(engine, expire_on_commit=False) as second:
            await first.begin()
            await service.create_user(first, data=data, actor=SYSTEM)
            await second.begin()
            # The second checks the username before the first commits, then waits on the index.
            racing = asyncio.create_task(service.create_user(second, data=data, actor=SYSTEM))
            await asyncio.sleep(1.5)
            await first.commit()
            with pytest.raises(Conflict) as conflict:
                await racing
            assert conflict.value.errors[0]["field"] == "username"
            await second.rollback()
    finally:
        await engine.dispose()


async def test_staff_see_the_expiry_of_the_keys_they_answer_for(client, session) -> None:
    """Issue 17, item 2: each account's own live keys with their expiry, soonest first, in /auth/me."""
    admin = await headers_for(session, role=Role.admin)
    owner = await make_user(session, role=Role.supervisor, area="36.74.01")
    token, _ = await service.sign_in(session, username=owner.username, password=PASSWORD)
    mine = {"Authorization": f"Bearer {token}"}
    body = {"role": "supervisor", "area": "36.74.01", "owner": owner.username}
    later = (await client.post("/api/v1/api-keys", json={**body, "name": "later", "expires_in_days": 200}, headers=admin)).json()
    soon = (await client.post("/api/v1/api-keys", json={**body, "name": "soon", "expires_in_days": 10}, headers=admin)).json()
    gone = (await client.post("/api/v1/api-keys", json={**body, "name": "gone"}, headers=admin)).json()
    assert (await client.delete(f"/api/v1/api-keys/{gone['id']}", headers=admin)).status_code == 204
    await client.post("/api/v1/api-keys", json={"name": "the admin's", "role": "viewer"}, headers=admin)
    keys = (await client.get("/api/v1/auth/me", headers=mine)).json()["api_keys"]
    assert [(k["name"], k["expires_at"]) for k in keys] == [("soon", soon["expires_at"]), ("later", later["expires_at"])]
    assert all("key" not in k for k in keys)  # never the secret again
    assert (await client.get("/api/v1/auth/me")).json()["api_keys"] == []
