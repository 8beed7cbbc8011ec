"""`rekam demo`: Kota Tangerang Selatan's campaign from the article, ready to explore.

Idempotent: each domain's demo step creates its data only when it is not there yet, so running it
again changes nothing. Everything is written in one transaction.
"""

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from api import calendar, flows
from api.auth import demo as auth_demo
from api.campaigns import demo as campaigns_demo
from api.complaints import demo as complaints_demo
from api.db import get_engine, get_sessionmaker
from api.devices import demo as devices_demo
from api.queues import demo as queues_demo
from api.services import demo as services_demo
from api.tallies import demo as tallies_demo
from api.visits import demo as visits_demo

CITY = campaigns_demo.CITY


async def load_demo() -> list[str]:
    today = calendar.today()
    engine = get_engine()
    lines = []
    try:
        async with engine.begin() as connection:
            count = await flows.load_official_areas(connection, prefix=CITY)
            lines.append(f"areas: {count} official areas of Kota Tangerang Selatan and above")
        async with get_sessionmaker()() as session, session.begin():
            demo = await campaigns_demo.load(session, today=today)
            state = "created" if demo.created else "already there"
            lines.append(f"campaign {demo.campaign.id}: {demo.campaign.name} ({state}); figures as of {demo.snapshot_date}, deadline {demo.campaign.deadline}")
            added = await tallies_demo.load(
                session,
                campaign=demo.campaign,
                snapshot_date=demo.snapshot_date,
                today=today,
                recorded_at_snapshot=campaigns_demo.RECORDED_AS_OF_AUGUST,
            )
            lines.append(f"tallies: {added} new daily tallies since {demo.snapshot_date}")
            await flows.tell_milestones(session, tell=False)  # the replayed figures' milestones are history, not news
            lines.extend(await auth_demo.load(session))
            points = await load_points(session, today=today)
            lines.append(
                f"service points: {len(points.offices)} kecamatan offices, {len(points.events)} weekend services, "
                f"a day of queue history; created: {', '.join(points.created) or 'nothing new'}"
            )
            lines.append(await devices_demo.load(session, campaign=demo.campaign))
            # After the devices demo: it schedules requests on the mobile kits it finds.
            lines.append(await visits_demo.load(session, today=today))
            lines.append(await visits_demo.load_crew_account(session))
            # After the staff (the handler) and the devices demo (its operators).
            lines.extend(await complaints_demo.load(session, today=today))
    finally:
        await engine.dispose()
    return lines


async def load_points(session: AsyncSession, *, today: date) -> services_demo.DemoServices:
    """The offices and weekend services, an operator account at each office, and queue history."""
    # One counter per static set the devices demo stands at an office (Kemendagri, APBD, Cilegon's
    # loans); the mobile kits travel: 29 in all, the 38 devices minus the 9 mobile kits.
    counters = {code: sets[0] + sets[1] + sets[3] for code, sets in devices_demo.FLEET.items()}
    points = await services_demo.load(session, today=today, counters_by_kecamatan=counters)
    points.created.extend(await auth_demo.load_office_operators(session, offices=points.offices))
    await queues_demo.load(session, offices=list(points.offices.values()), today=today)
    return points
