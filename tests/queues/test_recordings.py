"""A completed queue ticket is a recording: it shows up in the campaign's progress."""

from api.types import Role
from tests.factories import headers_for, make_campaign
from tests.services.factories import make_office


async def _recorded(client, campaign_id: int, area: str) -> int:
    return (await client.get(f"/api/v1/campaigns/{campaign_id}/progress", params={"area": area, "depth": 0})).json()["recorded"]


async def test_a_completed_ticket_adds_one_recording_to_progress(client, session) -> None:
    campaign_id = (await make_campaign(session)).id
    point_id = (await make_office(session, area="36.74.01")).id
    operator = await headers_for(session, role=Role.operator, service_point_id=point_id)
    before = await _recorded(client, campaign_id, "36.74.01")
    city_before = await _recorded(client, campaign_id, "36.74")

    issued = await client.post(f"/api/v1/service-points/{point_id}/tickets", json={})
    assert issued.status_code == 201, issued.text
    called = await client.post(f"/api/v1/service-points/{point_id}/call-next", json={"counter": 1}, headers=operator)
    ticket_id = called.json()["id"]
    assert (await client.post(f"/api/v1/tickets/{ticket_id}/start", headers=operator)).status_code == 200
    assert await _recorded(client, campaign_id, "36.74.01") == before  # serving is not yet recorded
    done = await client.post(f"/api/v1/tickets/{ticket_id}/complete", headers=operator)
    assert done.status_code == 200, done.text

    assert await _recorded(client, campaign_id, "36.74.01") == before + 1
    assert await _recorded(client, campaign_id, "36.74") == city_before + 1
    tallies = (
        await client.get(f"/api/v1/campaigns/{campaign_id}/tallies", params={"area": "36.74.01"}, headers=await headers_for(session, role=Role.admin))
    ).json()["items"]
    assert [(t["count"], t["source"], t["service_point"]) for t in tallies] == [(1, "queue", point_id)]
