"""Progress milestones on a real PostgreSQL server, committed: the worker's job in several
processes at once tells each milestone once (api/flows.py `tell_milestones`)."""

import asyncio

from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from api import calendar, flows
from api.notifications.models import NotificationEvent
from api.types import Role
from tests.committing import committed_database, committing_client
from tests.factories import headers_for, make_campaign

race_engine = committed_database("milestone_race")


async def test_workers_running_the_job_at_once_tell_each_milestone_once(race_engine) -> None:
    maker = async_sessionmaker(race_engine, expire_on_commit=False, autoflush=False)
    async with maker() as session, session.begin():
        campaign = await make_campaign(session, target=100)
        admin = await headers_for(session, role=Role.admin)
    async with committing_client(race_engine) as client:
        answer = await client.post(
            f"/api/v1/campaigns/{campaign.id}/tallies",
            json={"tallies": [{"area": "36.74.01", "date": calendar.today().isoformat(), "count": 23, "source": "manual"}]},
            headers=admin,
        )
        assert answer.status_code == 200, answer.text

    async def worker() -> int:
        async with maker() as session, session.begin():
            return await flows.tell_milestones(session)

    told = await asyncio.gather(*(worker() for _ in range(4)))
    assert sorted(told) == [0, 0, 0, 2]
    async with maker() as session:
        payloads = (await session.scalars(select(NotificationEvent.payload).where(NotificationEvent.type == "progress.milestone"))).all()
    assert sorted(p["milestone"] for p in payloads if p["campaign_id"] == campaign.id) == [10, 20]
