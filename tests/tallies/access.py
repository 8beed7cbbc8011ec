"""Who may post and read tallies, and read the progress series and table."""

from datetime import timedelta

from api.campaigns.service import today_for
from tests.access import Case, Request, public_read
from tests.factories import make_campaign

ONE = "/api/v1/campaigns/{campaign_id}"
# Posting: admins and supervisors; a supervisor's row outside their area is a rejected row (422).
WRITERS = {"anonymous": 401, "admin": 200, "supervisor_in": 200, "supervisor_out": 422}
# Reading tallies of an area: admins, viewers and the area's supervisors.
READERS = {"anonymous": 401, "admin": 200, "viewer": 200, "supervisor_in": 200, "supervisor_out": 403}
# Lists without an area show the caller's own part, so every supervisor gets an answer.
OWN_PART = {"anonymous": 401, "admin": 200, "viewer": 200, "supervisor_in": 200, "supervisor_out": 200}


async def campaign(session) -> Request:
    made = await make_campaign(session)
    return Request(path_params={"campaign_id": made.id}, params={"area": "36.74.01"})


async def tallies(session) -> Request:
    made = await make_campaign(session)
    day = (today_for(made) - timedelta(days=1)).isoformat()
    return Request(path_params={"campaign_id": made.id}, json={"tallies": [{"area": "36.74.01", "date": day, "count": 120}]})


async def campaign_only(session) -> Request:
    return Request(path_params={"campaign_id": (await make_campaign(session)).id})


async def policy(session) -> Request:
    return Request(path_params={"campaign_id": (await make_campaign(session)).id}, json={"operational_counts_official": True})


async def an_import(session) -> Request:
    from datetime import UTC, datetime

    from api.tallies.models import TallyImport

    made = await make_campaign(session)
    summary = {
        "import_id": None,
        "status": "ok",
        "dry_run": False,
        "mode": "upsert",
        "atomic": True,
        "rows": 1,
        "imported": 1,
        "updated": 0,
        "unchanged": 0,
        "deleted": 0,
        "rejected": 0,
        "conflicts": [],
        "warnings": [],
    }
    record = TallyImport(
        campaign_id=made.id,
        at=datetime.now(UTC),
        actor_kind="system",
        actor_id=None,
        actor_name="system",
        format="json",
        mode="upsert",
        atomic=True,
        rows=1,
        summary=summary,
    )
    session.add(record)
    await session.flush()
    return Request(path_params={"campaign_id": made.id, "import_id": record.id})


# One import: whoever sees the whole campaign, or its own poster (a supervisor's own imports: 404 for others').
ONE_IMPORT = {"anonymous": 401, "admin": 200, "viewer": 200, "supervisor_in": 404, "supervisor_out": 404}

CASES = [
    Case("POST", ONE + "/tallies", expect=WRITERS, setup=tallies),
    Case("GET", ONE + "/tallies", expect=READERS, setup=campaign),
    Case("GET", ONE + "/tallies/history", expect=READERS, setup=campaign),
    Case("GET", ONE + "/tallies/template.csv", expect=OWN_PART, setup=campaign_only),
    Case("GET", ONE + "/imports", expect=OWN_PART, setup=campaign_only),
    Case("GET", ONE + "/reconciliation", expect=READERS, setup=campaign),
    Case("GET", ONE + "/tallies/policy", expect=OWN_PART, setup=campaign_only),
    Case("PUT", ONE + "/tallies/policy", expect={"anonymous": 401, "admin": 200}, setup=policy),
    Case("GET", ONE + "/imports/{import_id}", expect=ONE_IMPORT, setup=an_import),
    public_read("GET", ONE + "/progress/daily", setup=campaign),
    public_read("GET", ONE + "/progress.csv", setup=campaign),
]
