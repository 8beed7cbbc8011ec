"""Progress in parts (official, provisional, per source), the reconciliation view and the public
note, through the API: the issue's Serpong day, and a kelurahan that has not reported."""

from datetime import timedelta

from api.campaigns.service import today_for
from api.principal import SYSTEM
from api.tallies import service
from api.types import Role
from tests.factories import headers_for, make_campaign, make_service_point
from tests.tallies.factories import post, rows

SERPONG, LENGKONG, SETU = "36.74.01", "36.74.01.1001", "36.74.07"


async def _serpong_day(client, session):
    campaign = await make_campaign(session)
    point = await make_service_point(session, area=SERPONG)
    admin = await headers_for(session, role=Role.admin)
    today = today_for(campaign)
    for _ in range(4):
        await service.add_recordings(session, area_code=SERPONG, day=today, source="queue", service_point_id=point.id, actor=SYSTEM)
    await service.add_recordings(session, area_code=LENGKONG, day=today, source="home_visit", actor=SYSTEM)
    return campaign, admin, today


async def test_progress_gives_the_official_figure_and_apart_the_provisional_part(client, session) -> None:
    campaign, admin, today = await _serpong_day(client, session)
    url = f"/api/v1/campaigns/{campaign.id}/progress"
    before = (await client.get(url)).json()
    serpong = next(c for c in before["children"] if c["code"] == SERPONG)
    assert (before["recorded"], before["official"], before["provisional"]) == (5, 0, 5)
    assert (serpong["recorded"], serpong["provisional"], serpong["reported"]) == (5, 5, True)
    assert serpong["by_source"] == {"official": 0, "queue": 4, "home_visit": 1}
    setu = next(c for c in before["children"] if c["code"] == SETU)
    assert (setu["recorded"], setu["reported"], setu["as_of"]) == (0, False, None)  # belum melapor, not "most behind"
    assert (await post(client, campaign.id, rows({SERPONG: 100}, today, source="script"), admin)).status_code == 200
    after = (await client.get(url)).json()
    serpong = next(c for c in after["children"] if c["code"] == SERPONG)
    assert (after["recorded"], after["official"], after["provisional"]) == (100, 100, 0)  # not 104 nor 105
    assert serpong["by_source"] == {"official": 100, "queue": 4, "home_visit": 1}
    daily = (await client.get(url + "/daily", params={"area": SERPONG, "from": today.isoformat()})).json()
    assert daily["days"] == [{"date": today.isoformat(), "recorded": 100, "official": 100, "provisional": 0, "cumulative": 100}]
    table = (await client.get(url.replace("/progress", "/progress.csv"))).text.splitlines()
    header = table[0].split(",")
    city = dict(zip(header, table[1].split(","), strict=True))
    assert (city["recorded"], city["official"], city["provisional"], city["counted_queue"], city["counted_home_visit"]) == ("100", "100", "0", "4", "1")


async def test_reconciliation_lists_the_largest_differences_first(client, session) -> None:
    campaign, admin, today = await _serpong_day(client, session)
    yesterday = today - timedelta(days=1)
    await post(client, campaign.id, rows({SERPONG: 100}, today, source="script") + rows({"36.74.02": 30}, yesterday, source="script"), admin)
    await service.add_recordings(session, area_code="36.74.02", day=yesterday, count=31, source="queue", actor=SYSTEM)  # the export missed one
    await service.add_recordings(session, area_code=SETU, day=today, count=2, source="queue", actor=SYSTEM)  # no official figure yet
    found = (await client.get(f"/api/v1/campaigns/{campaign.id}/reconciliation", headers=admin)).json()
    assert [(r["area"], r["date"], r["official"], r["queue"], r["home_visit"], r["difference"]) for r in found["rows"]] == [
        (SERPONG, today.isoformat(), 100, 4, 1, 95),
        ("36.74.02", yesterday.isoformat(), 30, 31, 0, -1),
        (SETU, today.isoformat(), None, 2, 0, None),
    ]
    supervisor = await headers_for(session, role=Role.supervisor, area="36.74.02")
    own = (await client.get(f"/api/v1/campaigns/{campaign.id}/reconciliation", headers=supervisor)).json()
    assert own["area"] == "36.74.02" and [r["area"] for r in own["rows"]] == ["36.74.02"]
    assert (await client.get(f"/api/v1/campaigns/{campaign.id}/reconciliation")).status_code == 401


async def test_operational_counts_are_never_a_public_or_staff_discrepancy(client, session) -> None:
    campaign, admin, today = await _serpong_day(client, session)
    await post(client, campaign.id, rows({SERPONG: 100}, today, source="script"), admin)
    assert (await client.get(f"/api/v1/campaigns/{campaign.id}/discrepancies/all", headers=admin)).json()["items"] == []
    await post(client, campaign.id, rows({LENGKONG: 60}, today, source="manual"), admin)
    detailed = (await client.get(f"/api/v1/campaigns/{campaign.id}/discrepancies/all", headers=admin)).json()["items"]
    assert [(d["area"], d["kind"], d["difference"]) for d in detailed] == [(SERPONG, "tally", 40)]
    assert (await client.get(f"/api/v1/campaigns/{campaign.id}/discrepancies")).json()["items"] == []  # staff notes stay with staff


async def test_the_policy_makes_queue_and_home_visit_counts_official(client, session) -> None:
    campaign, admin, _today = await _serpong_day(client, session)
    url = f"/api/v1/campaigns/{campaign.id}/tallies/policy"
    assert (await client.get(url, headers=admin)).json() == {"operational_counts_official": False}
    assert (await client.put(url, json={"operational_counts_official": True}, headers=admin)).json() == {"operational_counts_official": True}
    progress = (await client.get(f"/api/v1/campaigns/{campaign.id}/progress")).json()
    assert (progress["recorded"], progress["official"], progress["provisional"]) == (4, 4, 0)  # the office's own count stands for its subtree
