"""The audit trail: one entry per change, none for what was rolled back, readable by admins."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from api import calendar
from api.audit import service as audit
from api.audit.models import AuditEntry
from api.campaigns.models import Target
from api.db import SessionDep
from api.errors import RuleViolation
from api.principal import SYSTEM
from api.types import Role
from tests.factories import PASSWORD, assert_problem, headers_for, make_campaign, make_user


async def last_id(session) -> int:
    return await session.scalar(select(func.coalesce(func.max(AuditEntry.id), 0)))


async def entries_since(session, after: int) -> list[AuditEntry]:
    return list((await session.scalars(select(AuditEntry).where(AuditEntry.id > after).order_by(AuditEntry.id))).all())


async def test_every_foundation_write_leaves_one_entry_per_change(client, session) -> None:
    admin_user = await make_user(session, role=Role.admin)
    admin_name = admin_user.username
    token = (await client.post("/api/v1/auth/token", data={"username": admin_name, "password": PASSWORD})).json()["access_token"]
    admin = {"Authorization": f"Bearer {token}"}
    campaign_id = (await make_campaign(session)).id
    viewer = await make_user(session, role=Role.viewer)
    viewer_id, viewer_name = viewer.id, viewer.username
    await session.commit()
    as_of = str(calendar.today() - timedelta(days=3))
    key_id: list[int] = []

    async def create_key():
        response = await client.post("/api/v1/api-keys", json={"name": "script", "role": "viewer"}, headers=admin)
        key_id.append(response.json()["id"])
        return response

    # (what, request, status, the actions it must leave, in order)
    writes = [
        ("add an RW", lambda: client.post("/api/v1/areas", json={"code": "36.74.01.1001.004"}, headers=admin), 201, ["area.create"]),
        ("set a population", lambda: client.patch("/api/v1/areas/36.74.01.1001.004", json={"population": 900}, headers=admin), 200, ["area.update"]),
        (
            "start a campaign",
            lambda: client.post(
                "/api/v1/campaigns",
                json={"name": "C", "root_area": "36.74", "start_date": "2026-01-01", "deadline": "2027-01-01", "target": 100},
                headers=admin,
            ),
            201,
            ["campaign.create"],
        ),
        (
            "enter two targets",
            lambda: client.put(
                f"/api/v1/campaigns/{campaign_id}/targets",
                json={"targets": [{"area": "36.74.01", "target": 60}, {"area": "36.74.02", "target": 40}]},
                headers=admin,
            ),
            200,
            ["target.set", "target.set"],
        ),
        (
            "enter the same again",
            lambda: client.put(f"/api/v1/campaigns/{campaign_id}/targets", json={"targets": [{"area": "36.74.01", "target": 60}]}, headers=admin),
            200,
            [],
        ),
        (
            "record a snapshot",
            lambda: client.post(f"/api/v1/campaigns/{campaign_id}/snapshots", json={"area": "36.74.01", "as_of": as_of, "cumulative": 5}, headers=admin),
            201,
            ["snapshot.create"],
        ),
        (
            "replace it",
            lambda: client.post(f"/api/v1/campaigns/{campaign_id}/snapshots", json={"area": "36.74.01", "as_of": as_of, "cumulative": 6}, headers=admin),
            200,
            ["snapshot.replace"],
        ),
        (
            "create a user",
            lambda: client.post(
                "/api/v1/users", json={"username": "new.viewer", "display_name": "N", "password": "long-enough-pw", "role": "viewer"}, headers=admin
            ),
            201,
            ["user.create"],
        ),
        ("rename a user", lambda: client.patch(f"/api/v1/users/{viewer_id}", json={"display_name": "Renamed"}, headers=admin), 200, ["user.update"]),
        ("create a key", create_key, 201, ["api_key.create"]),
        ("revoke it", lambda: client.delete(f"/api/v1/api-keys/{key_id[0]}", headers=admin), 204, ["api_key.revoke"]),
        ("revoke it again", lambda: client.delete(f"/api/v1/api-keys/{key_id[0]}", headers=admin), 204, []),
        ("sign in", lambda: client.post("/api/v1/auth/token", data={"username": viewer_name, "password": PASSWORD}), 200, ["auth.login"]),
        (
            "fail to sign in",
            lambda: client.post("/api/v1/auth/token", data={"username": viewer_name, "password": "wrong-password"}),
            401,
            ["auth.login_failed"],
        ),
        ("sign out", lambda: client.post("/api/v1/auth/logout", headers=admin), 204, ["auth.logout"]),
    ]
    for what, send, status, actions in writes:
        before = await last_id(session)
        response = await send()
        assert response.status_code == status, (what, response.text)
        entries = await entries_since(session, before)
        assert [e.action for e in entries] == actions, what
        for entry in entries:
            assert entry.request_id == response.headers["x-request-id"] and entry.client == "127.0.0.1", what
            assert entry.actor_name in (admin_name, "anonymous", viewer_name), what


async def test_apportioning_leaves_one_entry_per_area(client, session) -> None:
    admin = await headers_for(session, role=Role.admin)
    campaign_id = (await make_campaign(session, target=1000)).id
    before = await last_id(session)
    response = await client.post(
        f"/api/v1/campaigns/{campaign_id}/targets/apportion", json={"parent": "36.74", "level": "kecamatan", "method": "equal"}, headers=admin
    )
    assert response.status_code == 200
    entries = await entries_since(session, before)
    assert len(entries) == len(response.json()) == 7 and {e.action for e in entries} == {"target.apportion"}
    assert len({e.entity_id for e in entries}) == 7


async def test_a_rejected_request_leaves_no_entry(client, session) -> None:
    campaign_id = (await make_campaign(session)).id
    serpong = await headers_for(session, role=Role.supervisor, area="36.74.01")
    await session.commit()
    before = await last_id(session)
    # One good row and one bad: nothing is saved, nothing is audited.
    bad = {"targets": [{"area": "36.74.01", "target": 10}, {"area": "36.74.01.9999", "target": 1}]}
    assert_problem(await client.put(f"/api/v1/campaigns/{campaign_id}/targets", json=bad, headers=serpong), 422)
    assert_problem(
        await client.put(
            f"/api/v1/campaigns/{campaign_id}/targets",
            json={"targets": [{"area": "36.74.01", "target": 10}, {"area": "36.74.07", "target": 1}]},
            headers=serpong,
        ),
        403,
    )
    assert_problem(
        await client.post(
            f"/api/v1/campaigns/{campaign_id}/snapshots", json={"area": "36.74.07", "as_of": str(calendar.today()), "cumulative": 1}, headers=serpong
        ),
        403,
    )
    assert await entries_since(session, before) == []
    assert await session.scalar(select(func.count()).select_from(Target).where(Target.campaign_id == campaign_id, Target.area_code == "36.74.01")) == 0


@pytest.mark.parametrize("keep", [False, True])
async def test_an_entry_written_before_a_failure_goes_with_the_transaction(app, client, session, keep: bool) -> None:
    """The mechanism itself: an entry flushed before an error is rolled back, unless the error keeps changes."""

    @app.post("/api/v1/test-fails-after-audit")
    async def fails(db: SessionDep) -> None:
        await audit.record(db, actor=SYSTEM, action="test.half_done", entity="test")
        raise RuleViolation("Failed after writing.", keep_changes=keep)

    await session.commit()
    before = await last_id(session)
    problem = assert_problem(await client.post("/api/v1/test-fails-after-audit", headers={"Accept-Language": "en"}), 422)
    assert problem["detail"] == "Failed after writing."  # a generic code keeps its English words for an English reader
    assert [e.action for e in await entries_since(session, before)] == (["test.half_done"] if keep else [])


async def test_admins_read_the_trail_newest_first_with_filters(client, session) -> None:
    admin = await headers_for(session, role=Role.admin)
    campaign_id = (await make_campaign(session)).id
    serpong = await headers_for(session, role=Role.supervisor, area="36.74.01")
    await session.commit()
    for n in range(3):
        await client.post(
            f"/api/v1/campaigns/{campaign_id}/snapshots",
            json={"area": "36.74.01", "as_of": str(calendar.today() - timedelta(days=n + 1)), "cumulative": n},
            headers=serpong,
        )
    page = await client.get("/api/v1/audit", params={"entity": "snapshot", "limit": 2}, headers=admin)
    assert page.status_code == 200
    first = page.json()
    assert [e["action"] for e in first["items"]] == ["snapshot.create"] * 2 and first["next_cursor"]
    assert first["items"][0]["id"] > first["items"][1]["id"]
    rest = (await client.get("/api/v1/audit", params={"entity": "snapshot", "limit": 2, "cursor": first["next_cursor"]}, headers=admin)).json()
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None and rest["items"][0]["id"] < first["items"][1]["id"]
    snapshot_id = first["items"][0]["entity_id"]
    one = (await client.get("/api/v1/audit", params={"entity": "snapshot", "entity_id": snapshot_id}, headers=admin)).json()["items"]
    assert len(one) == 1 and one[0]["after"]["cumulative"] == 2 and one[0]["actor_kind"] == "user"
    by_actor = (await client.get("/api/v1/audit", params={"actor": one[0]["actor_name"], "action": "snapshot.create"}, headers=admin)).json()["items"]
    assert len(by_actor) == 3
    today, tomorrow, yesterday = calendar.today(), calendar.today() + timedelta(days=1), calendar.today() - timedelta(days=2)
    assert (
        len((await client.get("/api/v1/audit", params={"entity": "snapshot", "from": str(yesterday), "to": str(tomorrow)}, headers=admin)).json()["items"]) == 3
    )
    assert (await client.get("/api/v1/audit", params={"entity": "snapshot", "from": str(tomorrow + timedelta(days=1))}, headers=admin)).json()["items"] == []
    assert (await client.get("/api/v1/audit", params={"entity": "snapshot", "to": str(today - timedelta(days=3))}, headers=admin)).json()["items"] == []
    assert_problem(await client.get("/api/v1/audit", params={"from": "2026-13-01"}, headers=admin), 422, field="from")
    assert_problem(await client.get("/api/v1/audit", params={"to": "yesterday"}, headers=admin), 422, field="to")
    assert_problem(await client.get("/api/v1/audit", params={"from": str(today), "to": str(yesterday)}, headers=admin), 422, field="from")
    assert_problem(await client.get("/api/v1/audit", params={"cursor": "garbage"}, headers=admin), 422, field="cursor")
    assert_problem(await client.get("/api/v1/audit", headers=serpong), 403)
    assert_problem(await client.get("/api/v1/audit"), 401)


async def test_personal_and_secret_fields_are_masked(session) -> None:
    before = await last_id(session)
    await audit.record(
        session,
        actor=SYSTEM,
        action="test.mask",
        entity="test",
        after={"nik": "3674010101900001", "phone": "0812", "name": "Siti", "key_hash": "abc", "nested": {"address": "Jl. Raya"}},
    )
    [entry] = await entries_since(session, before)
    assert entry.after == {"nik": "***", "phone": "***", "name": "Siti", "key_hash": "***", "nested": {"address": "***"}}
