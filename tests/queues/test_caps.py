"""Issue 23: one active remote number per point and day per phone; one booking per NIK per day.

The caps are the campaign's (both on by default); a kiosk or staff (signed in) are not capped.
"""

import asyncio
from datetime import timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from api import calendar
from api.campaigns import service as campaigns
from api.campaigns.schemas import CampaignCreate
from api.principal import SYSTEM
from api.queues.models import Appointment, Ticket
from api.types import Role
from tests.committing import committed_database, committing_client
from tests.factories import assert_problem, headers_for, make_campaign
from tests.services.factories import make_office

NIK = "3674014507850003"
OTHER_NIK = "3674015508900001"


def _client_at(app, address: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(address, 5000)), base_url="http://test")


async def test_one_active_remote_number_per_point_and_day_per_phone(app, session) -> None:
    await make_campaign(session)
    point_id = (await make_office(session)).id
    other_id = (await make_office(session)).id
    staff = await headers_for(session, role=Role.operator, service_point_id=point_id)
    await session.commit()
    url = f"/api/v1/service-points/{point_id}/tickets"
    async with _client_at(app, "203.0.113.7") as phone, _client_at(app, "203.0.113.8") as neighbour:
        first = await phone.post(url, json={})
        assert first.status_code == 201, first.text
        refused = assert_problem(await phone.post(url, json={"priority": "elderly"}), 409)
        assert refused["code"] == "queue.number_held"
        # Another phone, another point: their own numbers. A kiosk or staff issue on site uncapped.
        assert (await neighbour.post(url, json={})).status_code == 201
        assert (await phone.post(f"/api/v1/service-points/{other_id}/tickets", json={})).status_code == 201
        for _ in range(2):
            assert (await phone.post(url, json={}, headers=staff)).status_code == 201
        # Once the first number ends (here cancelled at the counter), the phone may take the next.
        assert (await phone.post(f"/api/v1/tickets/{first.json()['id']}/cancel", headers=staff)).status_code == 200
        assert (await phone.post(url, json={})).status_code == 201
    holders = list(await session.scalars(select(Ticket.holder_hash).where(Ticket.service_point_id == point_id)))
    assert all(h is None or (len(h) == 64 and "203.0.113" not in h) for h in holders)
    assert sum(h is not None for h in holders) == 2  # the phone's current number and the neighbour's


async def test_a_campaign_may_switch_the_caps_off(app, session) -> None:
    today = calendar.today()
    data = CampaignCreate(
        name="Tanpa batas",
        root_area="36.74",
        start_date=today - timedelta(days=1),
        deadline=today + timedelta(days=30),
        target=1,
        cap_remote_numbers=False,
        cap_bookings_per_nik=False,
    )
    await campaigns.create_campaign(session, data=data, actor=SYSTEM)
    point_id = (await make_office(session)).id
    await session.commit()
    tomorrow = (today + timedelta(days=1)).isoformat()
    async with _client_at(app, "203.0.113.9") as phone:
        for _ in range(2):
            assert (await phone.post(f"/api/v1/service-points/{point_id}/tickets", json={})).status_code == 201
        for start in ("08:00", "08:10"):
            assert (await phone.post(f"/api/v1/service-points/{point_id}/appointments", json={"date": tomorrow, "start": start})).status_code == 201


async def test_one_booking_per_nik_per_day_kept_as_a_keyed_hash(app, session) -> None:
    await make_campaign(session)
    point_id = (await make_office(session, counters=2, service_minutes=20)).id
    other_id = (await make_office(session, counters=2, service_minutes=20)).id
    staff = await headers_for(session, role=Role.operator, service_point_id=point_id)
    await session.commit()
    today = calendar.today()
    tomorrow, later = (today + timedelta(days=1)).isoformat(), (today + timedelta(days=2)).isoformat()
    url = f"/api/v1/service-points/{point_id}/appointments"
    async with _client_at(app, "198.51.100.1") as resident, _client_at(app, "198.51.100.2") as calo:
        assert_problem(await resident.post(url, json={"date": tomorrow, "start": "08:00"}), 422, field="nik")
        assert_problem(await resident.post(url, json={"date": tomorrow, "start": "08:00", "nik": "12345"}), 422, field="nik")
        booked = await resident.post(url, json={"date": tomorrow, "start": "08:00", "nik": NIK})
        assert booked.status_code == 201, booked.text
        assert "nik" not in booked.json() and "nik_hash" not in booked.json()
        # The same NIK from another address, at another point, the same day: refused.
        refused = assert_problem(await calo.post(f"/api/v1/service-points/{other_id}/appointments", json={"date": tomorrow, "start": "09:00", "nik": NIK}), 409)
        assert refused["code"] == "appointment.nik_booked" and refused["errors"][0]["field"] == "nik"
        # Another day, another NIK: fine. Staff book for a resident without a NIK.
        assert (await calo.post(url, json={"date": later, "start": "09:00", "nik": NIK})).status_code == 201
        assert (await calo.post(url, json={"date": tomorrow, "start": "09:00", "nik": OTHER_NIK})).status_code == 201
        assert (await resident.post(url, json={"date": tomorrow, "start": "10:00"}, headers=staff)).status_code == 201
        # Cancelling gives the NIK its day back.
        assert (await resident.post(f"/api/v1/appointments/{booked.json()['code']}/cancel")).json()["status"] == "cancelled"
        assert (await resident.post(url, json={"date": tomorrow, "start": "10:20", "nik": NIK})).status_code == 201
    hashes = list(await session.scalars(select(Appointment.nik_hash).where(Appointment.nik_hash.is_not(None))))
    assert len(hashes) == 3 and all(len(h) == 64 and NIK not in h for h in hashes)


# --- PostgreSQL: the same phone or NIK six times at once ----------------------------------

COPIES = 6


race_engine = committed_database("queue_caps")


async def test_six_numbers_or_bookings_at_once_give_one_and_409s_never_a_500(race_engine) -> None:
    maker = async_sessionmaker(race_engine, expire_on_commit=False, autoflush=False)
    async with maker() as session, session.begin():
        await make_campaign(session)
        point_id = (await make_office(session, counters=COPIES, service_minutes=20)).id
    tomorrow = (calendar.today() + timedelta(days=1)).isoformat()
    async with committing_client(race_engine) as client:
        tickets = await asyncio.gather(*(client.post(f"/api/v1/service-points/{point_id}/tickets", json={}) for _ in range(COPIES)))
        bookings = await asyncio.gather(
            *(
                client.post(f"/api/v1/service-points/{point_id}/appointments", json={"date": tomorrow, "start": f"{8 + n}:00".zfill(5), "nik": NIK})
                for n in range(COPIES)
            )
        )
    for responses, code in ((tickets, "queue.number_held"), (bookings, "appointment.nik_booked")):
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [201] + [409] * (COPIES - 1), [r.text for r in responses]
        assert all(r.json()["code"] == code for r in responses if r.status_code == 409)


async def test_a_cap_switched_off_while_the_campaign_runs_applies_to_the_next_number(app, session) -> None:
    campaign = await make_campaign(session)
    point_id = (await make_office(session)).id
    admin = await headers_for(session, role=Role.admin)
    await session.commit()
    url = f"/api/v1/service-points/{point_id}/tickets"
    async with _client_at(app, "203.0.113.21") as phone:
        assert (await phone.post(url, json={})).status_code == 201
        assert_problem(await phone.post(url, json={}), 409)
        switched = await phone.patch(f"/api/v1/campaigns/{campaign.id}", json={"cap_remote_numbers": False}, headers=admin)
        assert switched.status_code == 200, switched.text
        assert (await phone.post(url, json={})).status_code == 201
        assert (await phone.patch(f"/api/v1/campaigns/{campaign.id}", json={"cap_remote_numbers": True}, headers=admin)).status_code == 200
        assert_problem(await phone.post(url, json={}), 409)
