from datetime import timedelta

from sqlalchemy import func, select

from api.areas.models import Area
from api.campaigns import demo
from api.campaigns.service import today_for
from api.tallies.models import Tally, TallyChange, TallyImport
from api.types import Role
from tests.factories import (
    assert_problem,
    headers_for,
    make_campaign,
    make_service_point,
)
from tests.tallies.factories import make_device, post, post_csv, rows


async def _count(session, model, campaign_id) -> int:
    return await session.scalar(select(func.count()).select_from(model).where(model.campaign_id == campaign_id))


async def test_seed_figures_posted_twice_are_unchanged_the_second_time(client, session) -> None:
    campaign = await make_campaign(session)
    campaign_id, day = campaign.id, today_for(campaign) - timedelta(days=1)
    admin = await headers_for(session, role=Role.admin)
    first = await post(client, campaign_id, rows(demo.RECORDED_AS_OF_AUGUST, day), admin)
    assert first.status_code == 200, first.text
    assert first.json() | {"conflicts": [], "warnings": []} == first.json()
    assert (first.json()["status"], first.json()["imported"], first.json()["unchanged"]) == ("ok", 7, 0)
    second = (await post(client, campaign_id, rows(demo.RECORDED_AS_OF_AUGUST, day), admin)).json()
    assert (second["imported"], second["updated"], second["unchanged"]) == (0, 0, 7)
    changed = (await post(client, campaign_id, rows({"36.74.01": 60_000}, day), admin)).json()
    assert (changed["updated"], changed["unchanged"]) == (1, 0)
    everything = (await client.get(f"/api/v1/campaigns/{campaign_id}/tallies/history", headers=admin)).json()["items"]
    imports_actor = (await client.get(f"/api/v1/campaigns/{campaign_id}/imports", headers=admin)).json()["items"][0]["actor_name"]
    assert len(everything) == 8  # 7 new values, one correction, nothing for the unchanged
    # Stored: the corrected tally's creation (written when it changed) and the correction; the
    # other creations are read from the tallies and their import.
    assert await _count(session, TallyChange, campaign_id) == 2
    creations = sorted((h["area"], h["old_count"], h["new_count"], h["import_id"], h["actor_name"]) for h in everything[:7])
    assert creations == [(code, None, count, first.json()["import_id"], imports_actor) for code, count in sorted(demo.RECORDED_AS_OF_AUGUST.items())]
    assert len({h["id"] for h in everything}) == 8 and len({h["at"] for h in everything[:7]}) == 1
    assert everything[-1]["old_count"] == 56_458 and everything[-1]["import_id"] == changed["import_id"]
    history = (await client.get(f"/api/v1/campaigns/{campaign_id}/tallies/history", params={"area": "36.74.01", "date": day.isoformat()}, headers=admin)).json()
    assert [(h["old_count"], h["new_count"]) for h in history["items"]] == [(None, 56_458), (56_458, 60_000)]
    assert history["items"][1]["import_id"] == changed["import_id"]
    imports = (await client.get(f"/api/v1/campaigns/{campaign_id}/imports", headers=admin)).json()["items"]
    assert [i["summary"]["imported"] for i in imports] == [0, 0, 7] and imports[0]["actor_name"]  # newest first
    listed = (await client.get(f"/api/v1/campaigns/{campaign_id}/tallies", params={"area": "36.74.03"}, headers=admin)).json()["items"]
    assert [(t["area"], t["count"]) for t in listed] == [("36.74.03", 113_696)]
    progress = (await client.get(f"/api/v1/campaigns/{campaign_id}/progress", params={"depth": 1})).json()
    assert progress["recorded"] == sum(demo.RECORDED_AS_OF_AUGUST.values()) - 56_458 + 60_000


async def test_a_file_with_bad_rows_names_each_row_and_writes_nothing(client, session) -> None:
    campaign = await make_campaign(session)
    campaign_id, today = campaign.id, today_for(campaign)
    point_id = (await make_service_point(session, area="36.74.02")).id
    admin = await headers_for(session, role=Role.admin)
    ok = f"36.74.01,{today},10"
    body = "\r\n".join(
        [
            "area,date,count,service_point_id",
            ok,  # 2 fine
            f"36.74.99,{today},10,",  # 3 unknown area
            f"31.71.01,{today},10,",  # 4 outside the campaign
            f"36.74.02,{today + timedelta(days=1)},10,",  # 5 in the future
            f"36.74.02,{campaign.start_date - timedelta(days=1)},1,",  # 6 before the start
            f"36.74.03,{today},-4,",  # 7 negative
            f"36.74.04,{today},12.5,",  # 8 not an integer
            f"36.74.05,{today},999999999,",  # 9 absurd
            f"36.74.01,{today},10,",  # 10 same key as row 2
            f"36.74.01,{today},3,{point_id}",  # 11 service point of another kecamatan
            f"36.74.06,{today},3,424242",  # 12 unknown service point
            "36.74.07,yesterday,3,",  # 13 not a date
            "",
        ]
    )
    response = await post_csv(client, campaign_id, body, admin)
    problem = assert_problem(response, 422)
    summary = problem["summary"]
    by_code = {c["code"]: c["rows"] for c in summary["conflicts"]}
    assert by_code == {
        "unknown_area": [3],
        "outside_campaign": [4],
        "in_future": [5],
        "before_start": [6],
        "negative": [7],
        "not_integer": [8],
        "too_large": [9],
        "duplicate_key": [10],
        "not_in_area": [11],
        "unknown_service_point": [12],
        "invalid_date": [13],
    }
    assert summary["rejected"] == 11 and summary["imported"] == 0 and summary["status"] == "error"
    assert sorted(e["row"] for e in problem["errors"]) == list(range(3, 14))
    assert await _count(session, Tally, campaign_id) == 0 and await _count(session, TallyImport, campaign_id) == 0
    partial = await post_csv(client, campaign_id, body, admin, atomic="false")
    assert partial.status_code == 200
    assert (partial.json()["imported"], partial.json()["rejected"], partial.json()["status"]) == (1, 11, "partial")
    assert await _count(session, Tally, campaign_id) == 1


async def test_dry_run_reports_and_writes_nothing(client, session) -> None:
    campaign = await make_campaign(session)
    campaign_id, day = campaign.id, today_for(campaign)
    admin = await headers_for(session, role=Role.admin)
    dry = await post(client, campaign_id, rows(demo.RECORDED_AS_OF_AUGUST, day), admin, dry_run="true")
    assert dry.status_code == 200 and dry.json()["imported"] == 7 and dry.json()["import_id"] is None and dry.json()["dry_run"]
    assert await _count(session, Tally, campaign_id) == 0 and await _count(session, TallyChange, campaign_id) == 0
    assert (await client.get(f"/api/v1/campaigns/{campaign_id}/progress")).json()["recorded"] == 0


async def test_spreadsheet_csv_variants(client, session) -> None:
    campaign = await make_campaign(session)
    campaign_id, day = campaign.id, today_for(campaign)
    admin = await headers_for(session, role=Role.admin)
    semicolons = f'\ufeff"Area";Date;COUNT;source\r\n"36.74.01";{day};"1200";script\r\n36.74.02;{day};7;\r\n\r\n'.encode()
    response = await post_csv(client, campaign_id, semicolons, admin)
    assert response.status_code == 200, response.text
    assert response.json()["imported"] == 2
    quoted = f'area,date,count,source\n"36.74.03",{day},"5",manual\n'
    assert (await post_csv(client, campaign_id, quoted, admin)).json()["imported"] == 1
    sources = dict((await session.execute(select(Tally.area_code, Tally.source).where(Tally.campaign_id == campaign_id))).all())
    assert sources == {"36.74.01": "script", "36.74.02": "manual", "36.74.03": "manual"}
    assert_problem(await post_csv(client, campaign_id, "area,when,count\n36.74.01,x,1\n", admin), 422)
    assert_problem(await post_csv(client, campaign_id, b"area,date,count\n36.74.01,\xff,1\n", admin), 422)
    assert_problem(await client.post(f"/api/v1/campaigns/{campaign_id}/tallies", content=b"x", headers={**admin, "content-type": "application/xml"}), 415)
    assert_problem(await client.post(f"/api/v1/campaigns/{campaign_id}/tallies", content=b"{oops", headers={**admin, "content-type": "application/json"}), 422)
    assert_problem(await post(client, campaign_id, [], admin), 422)


async def test_idempotency_key_replays_the_first_answer(client, session) -> None:
    campaign = await make_campaign(session)
    campaign_id, day = campaign.id, today_for(campaign)
    admin = await headers_for(session, role=Role.admin)
    body = rows({"36.74.01": 5}, day)
    first = await post(client, campaign_id, body, {**admin, "Idempotency-Key": "chunk-1"})
    again = await post(client, campaign_id, body, {**admin, "Idempotency-Key": "chunk-1"})
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json() and again.json()["imported"] == 1
    assert await _count(session, TallyImport, campaign_id) == 1
    assert_problem(await post(client, campaign_id, rows({"36.74.01": 6}, day), {**admin, "Idempotency-Key": "chunk-1"}), 409)
    assert (await session.scalar(select(Tally.count).where(Tally.campaign_id == campaign_id))) == 5


async def test_replace_mode_deletes_what_the_script_no_longer_sends(client, session) -> None:
    campaign = await make_campaign(session)
    campaign_id, today = campaign.id, today_for(campaign)
    admin = await headers_for(session, role=Role.admin)
    days = [today - timedelta(days=2), today - timedelta(days=1)]
    full = [r for d in days for r in rows({"36.74.01": 10, "36.74.02": 20}, d, source="script")]
    assert (await post(client, campaign_id, full, admin)).json()["imported"] == 4
    manual = rows({"36.74.01": 99}, days[0] - timedelta(days=1))
    await post(client, campaign_id, manual, admin)
    resent = [r for r in full if not (r["area"] == "36.74.02" and r["date"] == days[1].isoformat())]
    summary = (await post(client, campaign_id, resent, admin, mode="replace")).json()
    assert (summary["unchanged"], summary["deleted"]) == (3, 1)
    left = (await session.execute(select(Tally.area_code, Tally.day).where(Tally.campaign_id == campaign_id))).all()
    assert len(left) == 4 and ("36.74.02", days[1]) not in left
    assert (await client.get(f"/api/v1/campaigns/{campaign_id}/progress")).json()["recorded"] == 10 + 10 + 20 + 99


async def test_warnings_are_accepted_and_reported(client, session) -> None:
    today = today_for(await make_campaign(session))
    campaign = await make_campaign(session, start=today - timedelta(days=30), deadline=today - timedelta(days=3))
    campaign_id = campaign.id
    device_id = (await make_device(session, daily_capacity=80)).id
    admin = await headers_for(session, role=Role.admin)
    tallies = [
        {"area": "36.74.01", "date": (today - timedelta(days=10)).isoformat(), "count": 50},
        {"area": "36.74.01", "date": (today - timedelta(days=7)).isoformat(), "count": 50},
        {"area": "36.74.02", "date": (today - timedelta(days=1)).isoformat(), "count": 120, "device_id": device_id},
    ]
    summary = (await post(client, campaign_id, tallies, admin)).json()
    assert summary["status"] == "warning" and summary["imported"] == 3
    codes = {w["code"]: w for w in summary["warnings"]}
    assert codes["above_capacity"]["rows"] == [3] and codes["after_deadline"]["rows"] == [3]
    assert "36.74.01" in codes["gap"]["message"] and (today - timedelta(days=8)).isoformat() in codes["gap"]["message"]


async def test_a_gap_filled_below_in_the_same_post_is_no_gap(client, session) -> None:
    # The post's own rows below an area count before its rollups are written (`Writer.finish`
    # may come after the check): only the day that nothing covers is a gap.
    today = today_for(await make_campaign(session))
    campaign = await make_campaign(session, start=today - timedelta(days=30), deadline=today + timedelta(days=3))
    admin = await headers_for(session, role=Role.admin)
    kelurahan = await session.scalar(select(Area.code).where(Area.parent_code == "36.74.01").order_by(Area.code).limit(1))
    day = [(today - timedelta(days=n)).isoformat() for n in range(11)]
    tallies = [
        {"area": "36.74.01", "date": day[10], "count": 50},
        {"area": kelurahan, "date": day[9], "count": 5},
        {"area": "36.74.01", "date": day[7], "count": 50},
    ]
    summary = (await post(client, campaign.id, tallies, admin)).json()
    assert summary["status"] == "warning" and summary["imported"] == 3
    (gap,) = [w for w in summary["warnings"] if w["code"] == "gap"]
    assert day[8] in gap["message"] and day[9] not in gap["message"]


async def test_supervisor_rows_outside_scope_are_rejected(client, session) -> None:
    campaign = await make_campaign(session)
    campaign_id, day = campaign.id, today_for(campaign)
    supervisor = await headers_for(session, role=Role.supervisor, area="36.74.01")
    response = await post(client, campaign_id, rows({"36.74.01": 3, "36.74.02": 4}, day), supervisor, atomic="false")
    assert response.json()["imported"] == 1
    assert response.json()["conflicts"] == [{"rows": [2], "field": "area", "code": "outside_scope", "message": "outside your scope"}]
    assert_problem(await client.get(f"/api/v1/campaigns/{campaign_id}/tallies", params={"area": "36.74.02"}, headers=supervisor), 403)
    own = (await client.get(f"/api/v1/campaigns/{campaign_id}/tallies", headers=supervisor)).json()["items"]
    assert [t["area"] for t in own] == ["36.74.01"]


async def test_daily_series_csv_and_template(client, session) -> None:
    campaign = await make_campaign(session)
    campaign_id, today = campaign.id, today_for(campaign)
    admin = await headers_for(session, role=Role.admin)
    await post(client, campaign_id, rows({"36.74.01": 10}, today - timedelta(days=2)) + rows({"36.74.01": 5}, today - timedelta(days=1)), admin)
    series = (
        await client.get(f"/api/v1/campaigns/{campaign_id}/progress/daily", params={"area": "36.74", "from": (today - timedelta(days=3)).isoformat()})
    ).json()
    assert [(d["recorded"], d["cumulative"]) for d in series["days"]] == [(0, 0), (10, 10), (5, 15), (0, 15)]
    assert_problem(
        await client.get(f"/api/v1/campaigns/{campaign_id}/progress/daily", params={"from": today.isoformat(), "to": (today - timedelta(days=1)).isoformat()}),
        422,
        field="to",
    )
    table = await client.get(f"/api/v1/campaigns/{campaign_id}/progress.csv")
    assert table.headers["content-type"].startswith("text/csv")
    lines = table.text.splitlines()
    assert lines[0].startswith("code,name,level,target,recorded") and lines[1].startswith("36.74,") and len(lines) == 9
    template = await client.get(f"/api/v1/campaigns/{campaign_id}/tallies/template.csv", headers=admin)
    assert template.text.splitlines()[0] == "area,date,count,service_point_id,device_id,source" and len(template.text.splitlines()) == 8


async def test_history_of_a_posted_tally_keeps_its_creation_through_corrections_and_deletion(client, session) -> None:
    from api.principal import SYSTEM
    from api.tallies import service

    campaign = await make_campaign(session)
    campaign_id, today = campaign.id, today_for(campaign)
    admin = await headers_for(session, role=Role.admin)
    days = [today - timedelta(days=2), today - timedelta(days=1)]
    created = (await post(client, campaign_id, [r for d in days for r in rows({"36.74.01": 10}, d, source="script")], admin)).json()
    # A recording made through Rekam is a tally of its own, never added to the posted figure.
    await service.add_recordings(session, area_code="36.74.01", day=days[0], source="queue", actor=SYSTEM)
    resent = rows({"36.74.01": 12}, days[0], source="script") + rows({"36.74.02": 7}, days[1], source="script")
    replaced = (await post(client, campaign_id, resent, admin, mode="replace")).json()
    assert (replaced["imported"], replaced["updated"], replaced["deleted"]) == (1, 1, 1)

    async def history(day):
        found = (
            await client.get(f"/api/v1/campaigns/{campaign_id}/tallies/history", params={"area": "36.74.01", "date": day.isoformat()}, headers=admin)
        ).json()
        return [(h["old_count"], h["new_count"], h["source"], h["import_id"]) for h in found["items"]]

    assert await history(days[0]) == [(None, 10, "script", created["import_id"]), (None, 1, "queue", None), (10, 12, "script", replaced["import_id"])]
    assert await history(days[1]) == [(None, 10, "script", created["import_id"]), (10, None, "script", replaced["import_id"])]
    # Every creation and change once, in order of time; pages follow each other without gaps.
    first = (await client.get(f"/api/v1/campaigns/{campaign_id}/tallies/history", params={"limit": 2}, headers=admin)).json()
    rest = (await client.get(f"/api/v1/campaigns/{campaign_id}/tallies/history", params={"cursor": first["next_cursor"]}, headers=admin)).json()
    entries = first["items"] + rest["items"]
    assert len(entries) == 6 and len({e["id"] for e in entries}) == 6
    assert [e["at"] for e in entries] == sorted(e["at"] for e in entries)
    progress = (await client.get(f"/api/v1/campaigns/{campaign_id}/progress")).json()
    assert progress["recorded"] == 12 + 7  # the official 12 supersedes the ticket counted the same day


async def test_history_entry_ids_are_stable_and_never_reused(client, session) -> None:
    """#24: an entry shown as a creation keeps its id once the tally changes; no id is given twice."""
    campaign = await make_campaign(session)
    campaign_id, day = campaign.id, today_for(campaign) - timedelta(days=1)
    admin = await headers_for(session, role=Role.admin)
    url = f"/api/v1/campaigns/{campaign_id}/tallies/history"

    async def entries() -> dict[str, tuple]:
        items = (await client.get(url, headers=admin)).json()["items"]
        assert len({h["id"] for h in items}) == len(items)
        return {h["id"]: (h["area"], h["old_count"], h["new_count"], h["import_id"]) for h in items}

    await post(client, campaign_id, rows({"36.74.01": 10, "36.74.02": 20}, day), admin)
    seen = await entries()
    assert all(isinstance(key, str) for key in seen)
    for counts in ({"36.74.01": 11}, {"36.74.02": 21}, {"36.74.01": 12, "36.74.03": 5}):
        await post(client, campaign_id, rows(counts, day), admin)
        now = await entries()
        # Every entry seen before is still there under the same id, with the same content.
        assert {key: now.get(key) for key in seen} == seen
        seen = now
    assert len(seen) == 6


async def test_a_post_without_rows_is_refused_and_leaves_no_import(client, session) -> None:
    campaign_id = (await make_campaign(session)).id
    admin = await headers_for(session, role=Role.admin)
    for dry_run in ("false", "true"):  # one step, without a savepoint; a dry run, with one
        assert assert_problem(await post(client, campaign_id, [], admin, dry_run=dry_run), 422)["code"] == "tallies.none"
    assert await _count(session, TallyImport, campaign_id) == 0
