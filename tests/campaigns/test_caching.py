"""Public progress answers: ETag, 304, Cache-Control, and never a stale figure after a change."""

from datetime import timedelta

import httpx
from sqlalchemy import select

from api.campaigns import service, versions
from api.campaigns.models import Campaign
from api.principal import SYSTEM
from api.progress import service as progress
from api.tallies import service as tallies
from api.types import Role
from tests.factories import headers_for, make_campaign
from tests.services.factories import make_rw
from tests.tallies.factories import post, rows

PUBLIC = "public, max-age=15, stale-while-revalidate=15"


def progress_url(campaign_id: int, suffix: str = "") -> str:
    return f"/api/v1/campaigns/{campaign_id}/progress{suffix}"


async def fresh(client: httpx.AsyncClient, url: str, etag: str, **params: object) -> httpx.Response:
    """The answer for a client that holds `etag`: must be a new 200 (the data changed)."""
    response = await client.get(url, params=params, headers={"If-None-Match": etag})
    assert response.status_code == 200, response.text
    assert response.headers["etag"] != etag
    return response


async def test_progress_has_etag_and_answers_304(client, session) -> None:
    campaign = await make_campaign(session)
    url = progress_url(campaign.id)
    first = await client.get(url, params={"depth": 1})
    assert first.status_code == 200
    etag = first.headers["etag"]
    assert etag.startswith('"') and first.headers["cache-control"] == PUBLIC
    again = await client.get(url, params={"depth": 1})
    assert again.headers["etag"] == etag and again.content == first.content
    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        not_modified = await client.get(url, params={"depth": 1}, headers={"If-None-Match": header})
        assert not_modified.status_code == 304, header
        assert not_modified.content == b"" and not_modified.headers["etag"] == etag
        assert not_modified.headers["cache-control"] == PUBLIC
    assert (await client.get(url, params={"depth": 1}, headers={"If-None-Match": '"other"'})).status_code == 200
    # Another query is another answer; the root asked by name is the same answer as the default.
    assert (await client.get(url, params={"depth": 2})).headers["etag"] != etag
    assert (await client.get(url, params={"depth": 1, "area": "36.74"})).headers["etag"] == etag
    for suffix, params in (("/daily", {}), (".csv", {"depth": 1})):
        answer = await client.get(url + suffix, params=params)
        assert answer.status_code == 200 and answer.headers["cache-control"] == PUBLIC
        assert (await client.get(url + suffix, params=params, headers={"If-None-Match": answer.headers["etag"]})).status_code == 304
    assert (await client.get(url + ".csv")).headers["content-disposition"].startswith("attachment")


async def test_errors_are_not_cached(client, session) -> None:
    campaign = await make_campaign(session)
    outside = await client.get(progress_url(campaign.id), params={"area": "31.71"})
    assert outside.status_code == 404 and "etag" not in outside.headers
    assert outside.headers["cache-control"] == "private, no-store"
    assert (await client.get(progress_url(999_999))).status_code == 404


async def test_tallies_give_a_new_etag_and_the_new_figures(client, session) -> None:
    campaign = await make_campaign(session)
    admin = await headers_for(session, role=Role.admin)
    url = progress_url(campaign.id)
    today = service.today_for(campaign)
    before = await client.get(url)
    daily_before = await client.get(url + "/daily", params={"area": "36.74.01"})
    csv_before = await client.get(url + ".csv")
    assert before.json()["recorded"] == 0

    assert (await post(client, campaign.id, rows({"36.74.01": 40}, today), admin)).status_code == 200
    after_today = await fresh(client, url, before.headers["etag"])
    assert after_today.json()["recorded"] == 40
    assert after_today.json()["recorded_last_7_days"] == 0  # today is not in the 7 days that ended yesterday
    daily = (await fresh(client, url + "/daily", daily_before.headers["etag"], area="36.74.01")).json()
    assert daily["days"][-1] == {"date": today.isoformat(), "recorded": 40, "official": 40, "provisional": 0, "cumulative": 40}
    assert "\r\n36.74,Kota Tangerang Selatan,kabkota,760097,40," in (await fresh(client, url + ".csv", csv_before.headers["etag"])).text

    # A past day's figure changes the 7-day sums too, which are kept between versions.
    two_days_ago = today - timedelta(days=2)
    assert (await post(client, campaign.id, rows({"36.74.02": 25}, two_days_ago), admin)).status_code == 200
    after_past = (await fresh(client, url, after_today.headers["etag"])).json()
    assert after_past["recorded"] == 65 and after_past["recorded_last_7_days"] == 25
    assert {c["code"]: c["recorded_last_7_days"] for c in after_past["children"]}["36.74.02"] == 25

    # A correction of that day (same key, new value) and a replace that deletes it.
    etag = (await client.get(url)).headers["etag"]
    assert (await post(client, campaign.id, rows({"36.74.02": 5}, two_days_ago), admin)).json()["updated"] == 1
    corrected = await fresh(client, url, etag)
    assert corrected.json()["recorded_last_7_days"] == 5 and corrected.json()["recorded"] == 45
    replaced = await post(client, campaign.id, rows({"36.74.02": 0}, today), admin, mode="replace")
    assert replaced.status_code == 200
    # Posting the same figures again changes nothing, and so keeps the ETag.
    etag = (await client.get(url)).headers["etag"]
    assert (await post(client, campaign.id, rows({"36.74.01": 40}, today), admin)).json()["unchanged"] == 1
    assert (await client.get(url, headers={"If-None-Match": etag})).status_code == 304


async def test_snapshots_targets_and_areas_give_a_new_etag(client, session) -> None:
    campaign = await make_campaign(session, target=1000)
    admin = await headers_for(session, role=Role.admin)
    url = progress_url(campaign.id)
    etag = (await client.get(url)).headers["etag"]

    yesterday = (service.today_for(campaign) - timedelta(days=1)).isoformat()
    snapshot = await client.post(f"/api/v1/campaigns/{campaign.id}/snapshots", json={"area": "36.74.01", "as_of": yesterday, "cumulative": 300}, headers=admin)
    assert snapshot.status_code == 201
    after_snapshot = await fresh(client, url, etag)
    assert after_snapshot.json()["recorded"] == 300

    targets = await client.put(f"/api/v1/campaigns/{campaign.id}/targets", json={"targets": [{"area": "36.74.01", "target": 400}]}, headers=admin)
    assert targets.status_code == 200
    after_targets = await fresh(client, url, after_snapshot.headers["etag"])
    assert {c["code"]: c["target"] for c in after_targets.json()["children"]}["36.74.01"] == 400

    apportioned = await client.post(
        f"/api/v1/campaigns/{campaign.id}/targets/apportion", json={"parent": "36.74", "level": "kecamatan", "method": "equal"}, headers=admin
    )
    assert apportioned.status_code == 200
    after_apportion = await fresh(client, url, after_targets.headers["etag"])
    assert sum(c["target"] for c in after_apportion.json()["children"]) == 1000

    # An RW added or renamed shows in deeper trees.
    kecamatan = await make_campaign(session, root="36.74.01")
    deep = progress_url(kecamatan.id)
    before = await client.get(deep, params={"depth": 2})
    rw = await make_rw(session)
    added = await fresh(client, deep, before.headers["etag"], depth=2)
    kelurahan = next(c for c in added.json()["children"] if c["code"] == "36.74.01.1001")
    assert rw in [c["code"] for c in kelurahan["children"]]
    renamed = await client.patch(f"/api/v1/areas/{rw}", json={"name": "RW Melati"}, headers=admin)
    assert renamed.status_code == 200, renamed.text
    after_rename = await fresh(client, deep, added.headers["etag"], depth=2)
    kelurahan = next(c for c in after_rename.json()["children"] if c["code"] == "36.74.01.1001")
    assert "RW Melati" in [c["name"] for c in kelurahan["children"]]


async def test_queue_and_home_visit_recordings_give_a_new_etag(client, session) -> None:
    """Queue tickets and home visits add recordings through `add_recordings`, the tally path."""
    campaign = await make_campaign(session)
    url = progress_url(campaign.id)
    etag = (await client.get(url)).headers["etag"]
    today = service.today_for(campaign)
    await tallies.add_recordings(session, area_code="36.74.03", day=today, source="queue", actor=SYSTEM)
    after_ticket = await fresh(client, url, etag)
    assert after_ticket.json()["recorded"] == 1
    await tallies.add_recordings(session, area_code="36.74.03", day=today - timedelta(days=1), source="home_visit", actor=SYSTEM)
    after_visit = (await fresh(client, url, after_ticket.headers["etag"])).json()
    assert after_visit["recorded"] == 2 and after_visit["recorded_last_7_days"] == 1


async def test_the_key_holds_the_version_and_the_campaigns_date(session) -> None:
    campaign = await make_campaign(session)
    key = progress.read_key(campaign, "progress", area="36.74", depth=1)
    assert campaign.data_version in key and service.today_for(campaign).isoformat() in key
    await tallies.add_recordings(session, area_code="36.74.03", day=service.today_for(campaign), source="queue", actor=SYSTEM)
    assert progress.read_key(campaign, "progress", area="36.74", depth=1) != key


async def test_staff_answers_are_private(client, session) -> None:
    campaign = await make_campaign(session)
    admin = await headers_for(session, role=Role.admin)
    for path in (f"/api/v1/campaigns/{campaign.id}/tallies", f"/api/v1/campaigns/{campaign.id}/imports", "/api/v1/auth/me", "/api/v1/audit"):
        response = await client.get(path, headers=admin)
        assert response.status_code == 200, (path, response.text)
        assert response.headers["cache-control"] == "private, no-store", path
        assert "etag" not in response.headers
    posted = await post(client, campaign.id, rows({"36.74.01": 1}, service.today_for(campaign)), admin)
    assert posted.headers["cache-control"] == "private, no-store"
    # Signed in or not, a public progress answer is the same for everyone.
    assert (await client.get(progress_url(campaign.id), headers=admin)).headers["cache-control"] == PUBLIC


async def test_two_processes_each_with_its_own_cache_stay_current(app, client, session, settings) -> None:
    """Worker processes keep separate caches; the version each reads keeps every one of them current."""
    from api.main import create_app

    other_app = create_app(settings)
    other_app.dependency_overrides = dict(app.dependency_overrides)  # the same database session
    campaign = await make_campaign(session)
    admin = await headers_for(session, role=Role.admin)
    url = progress_url(campaign.id)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=other_app), base_url="http://test") as other:
        first, first_other = await client.get(url), await other.get(url)
        assert first.headers["etag"] == first_other.headers["etag"]  # the same tag from any process
        # One process takes the write; the other, which holds the old answer, must not serve it.
        assert (await post(client, campaign.id, rows({"36.74.05": 12}, service.today_for(campaign)), admin)).status_code == 200
        after = await other.get(url)
        assert after.headers["etag"] != first.headers["etag"] and after.json()["recorded"] == 12
        assert (await client.get(url)).headers["etag"] == after.headers["etag"]
        assert (await client.get(url, headers={"If-None-Match": after.headers["etag"]})).status_code == 304


async def test_history_marks_list_the_areas_of_past_days_changes(session, monkeypatch) -> None:
    """`history_since`, `history_areas`: each change of past days' tallies appends its areas to a
    known list; a list that would grow too long, days whose areas were not told, or areas changing
    leave it unknown, and the next change starts a new list from the version it replaces; today's
    tallies move no history version (the database's row and the loaded one alike)."""
    monkeypatch.setattr(versions, "_MIDNIGHT_MARGIN", timedelta(0))  # today is never a past day here
    monkeypatch.setattr(versions, "MAX_HISTORY_AREAS", 40)
    campaign = await make_campaign(session)
    today = service.today_for(campaign)
    day = today - timedelta(days=4)

    async def marks() -> tuple:
        query = select(Campaign.history_version, Campaign.history_since, Campaign.history_areas).where(Campaign.id == campaign.id)
        assert tuple((await session.execute(query)).one()) == versions.history_marks(campaign)
        return versions.history_marks(campaign)

    start = await marks()
    await versions.tallies_changed(session, campaign.id, earliest=day, areas={"36.74.01.1001", "36.74.01"})
    first = await marks()
    assert first[1:] == (start[0], "36.74.01,36.74.01.1001") and first[0] != start[0]
    assert versions.areas_changed(campaign, start) == ["36.74.01", "36.74.01.1001"]
    await versions.tallies_changed(session, campaign.id, earliest=day - timedelta(days=20), areas={"36.74.02"})
    second = await marks()
    assert second[1:] == (start[0], "36.74.01,36.74.01.1001,36.74.02")
    assert versions.areas_changed(campaign, first) == ["36.74.02"] and versions.areas_changed(campaign, start) == ["36.74.01", "36.74.01.1001", "36.74.02"]
    await versions.tallies_changed(session, campaign.id, earliest=today, areas={"36.74.03"})  # today: nothing moves
    assert await marks() == second
    await versions.tallies_changed(session, campaign.id, earliest=day, areas={"36.74.04.1001"})  # the list would be too long
    third = await marks()
    assert third[2] is None and versions.areas_changed(campaign, second) is None
    await versions.tallies_changed(session, campaign.id, earliest=day, areas={"36.74.05"})  # a new list
    fourth = await marks()
    assert fourth[1:] == (third[0], "36.74.05") and versions.areas_changed(campaign, third) == ["36.74.05"]
    assert versions.areas_changed(campaign, second) is None and versions.areas_changed(campaign, start) is None
    for areas in (None, {f"36.74.0{i}.100{i}" for i in range(1, 7)}):  # not told; too many
        await versions.tallies_changed(session, campaign.id, earliest=day, areas=areas)
        assert (await marks())[2] is None and versions.areas_changed(campaign, fourth) is None
        await versions.tallies_changed(session, campaign.id, earliest=day, areas={"36.74.05"})
    await versions.touch_all(session)
    assert (await marks())[2] is None


async def test_concurrent_writers_both_list_their_areas(pg_cluster, monkeypatch) -> None:
    """Two writers of one campaign on PostgreSQL, the second reading the campaign's row before the
    first commits: the list holds both writers' areas (the UPDATE decides on the row as the first
    left it, not as the second read it)."""
    import asyncio

    from sqlalchemy.ext.asyncio import AsyncSession

    from tests.committing import city_database

    monkeypatch.setattr(versions, "_MIDNIGHT_MARGIN", timedelta(0))
    async with city_database(pg_cluster, "history_areas_race") as engine:
        async with AsyncSession(engine, expire_on_commit=False) as setup, setup.begin():
            campaign = await make_campaign(setup)
        day = service.today_for(campaign) - timedelta(days=2)
        async with AsyncSession(engine, expire_on_commit=False) as first, AsyncSession(engine, expire_on_commit=False) as second:
            await first.begin()
            await second.begin()
            await second.get(Campaign, campaign.id)  # read before the first writes
            await versions.tallies_changed(first, campaign.id, earliest=day, areas={"36.74.01"})
            racing = asyncio.create_task(versions.tallies_changed(second, campaign.id, earliest=day, areas={"36.74.02"}))
            await asyncio.sleep(0.5)
            assert not racing.done()  # waits for the first's row lock
            await first.commit()
            await racing
            await second.commit()
        async with AsyncSession(engine) as check:
            stored = (await check.execute(select(Campaign.history_since, Campaign.history_areas).where(Campaign.id == campaign.id))).one()
    assert tuple(stored) == (campaign.history_version, "36.74.01,36.74.02")
