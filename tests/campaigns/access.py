from datetime import timedelta

from api import calendar
from api.campaigns import service
from api.campaigns.schemas import TargetIn
from api.principal import SYSTEM
from tests.access import Request, admin_only, any_staff, area_writer, public_read
from tests.factories import make_campaign

CAMPAIGNS = "/api/v1/campaigns"
ONE = CAMPAIGNS + "/{campaign_id}"


async def campaign(session) -> Request:
    return Request(path_params={"campaign_id": (await make_campaign(session)).id})


async def new_campaign(_session) -> Request:
    today = calendar.today()
    body = {
        "name": "Tangsel",
        "root_area": "36.74",
        "start_date": str(today - timedelta(days=30)),
        "deadline": str(today + timedelta(days=60)),
        "target": 760_097,
    }
    return Request(json=body, area="36.74")


def snapshot_of(area: str):
    async def setup(session) -> Request:
        request = await campaign(session)
        request.json = {"area": area, "as_of": str(calendar.today() - timedelta(days=2)), "cumulative": 1_000}
        request.area = area
        return request

    return setup


async def serpong_targets(session) -> Request:
    request = await campaign(session)
    request.json = {"targets": [{"area": "36.74.01", "target": 80_828}]}
    return request


async def serpong_apportion(session) -> Request:
    c = await make_campaign(session)
    await service.put_targets(session, campaign=c, items=[TargetIn(area="36.74.01", target=80_828)], actor=SYSTEM)
    return Request(path_params={"campaign_id": c.id}, json={"parent": "36.74.01", "level": "kelurahan", "method": "equal"})


async def campaign_caps(session) -> Request:
    made = await make_campaign(session)
    return Request(path_params={"campaign_id": made.id}, json={"cap_remote_numbers": False, "what_to_bring": "KK asli"}, area=made.root_area_code)


CASES = [
    public_read("GET", "/api/v1/health"),
    # The whole campaign's area: an admin, or a supervisor of its root (issue #23's caps and text).
    area_writer("PATCH", ONE, 200, campaign_caps, note="campaign root"),
    admin_only("POST", CAMPAIGNS, 201, new_campaign),
    public_read("GET", CAMPAIGNS),
    public_read("GET", ONE, campaign),
    area_writer("PUT", ONE + "/targets", 200, serpong_targets, note="Serpong"),
    public_read("GET", ONE + "/targets", campaign),
    area_writer("POST", ONE + "/targets/apportion", 200, serpong_apportion, note="Serpong"),
    # The example: a supervisor of Serpong posts for Serpong (201), not for Setu (403).
    area_writer("POST", ONE + "/snapshots", 201, snapshot_of("36.74.01"), note="Serpong"),
    area_writer("POST", ONE + "/snapshots", 201, snapshot_of("36.74.07"), note="Setu"),
    public_read("GET", ONE + "/snapshots", campaign),
    public_read("GET", ONE + "/progress", campaign),
    public_read("GET", ONE + "/discrepancies", campaign),
    any_staff("GET", ONE + "/discrepancies/all", 200, campaign),
]
