"""Which areas a campaign covers.

Rules
- An area named in a campaign's data (a target, a snapshot, a progress or series query) must exist
  and lie inside the campaign's root area; otherwise 422 naming the field (and the CSV row).
"""

from sqlalchemy.ext.asyncio import AsyncSession

from api.areas import service as areas
from api.areas.models import Area
from api.campaigns.models import Campaign
from api.errors import RuleViolation, field_problem


async def require_area_in_campaign(
    session: AsyncSession, campaign: Campaign, code: str, *, field: str = "area", location: str = "body", row: int | None = None
) -> Area:
    """The area, which must exist and lie inside the campaign's root area."""
    area = await areas.get(session, code=code, field=field, location=location)
    if not areas.is_within(code, campaign.root_area_code):
        params = {"code": code, "root": campaign.root_area_code}
        item = field_problem(field, location=location, row=row, code="area.outside_campaign", params=params)
        raise RuleViolation(code="area.outside_campaign", params=params, errors=[item])
    return area
