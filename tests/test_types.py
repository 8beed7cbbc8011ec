"""Issue 17, item 13: dates a person enters are bounded (0001-01-01 and 9999-12-31 were accepted)."""

from datetime import date, timedelta

import pytest
from pydantic import ValidationError

from api import calendar
from api.campaigns.schemas import CampaignCreate, SnapshotCreate
from api.complaints.schemas import ComplaintCreate
from api.devices.schemas import PlacementCreate
from api.services.schemas import ClosureCreate

ABSURD = [date(1, 1, 1), date(1999, 12, 31), date(2101, 1, 1), date(9999, 12, 31)]


@pytest.mark.parametrize("day", ABSURD)
def test_absurd_dates_are_refused(day: date) -> None:
    fine = date(2026, 6, 1)
    with pytest.raises(ValidationError):
        CampaignCreate(name="x", root_area="36.74", start_date=day, deadline=fine, target=1)
    with pytest.raises(ValidationError):
        CampaignCreate(name="x", root_area="36.74", start_date=fine, deadline=day, target=1)
    with pytest.raises(ValidationError):
        PlacementCreate.model_validate({"area": "36.74.01", "from": day.isoformat()})
    with pytest.raises(ValidationError):
        SnapshotCreate(area="36.74.01", as_of=day, cumulative=1)
    with pytest.raises(ValidationError):
        ClosureCreate(day=day, reason="x")
    with pytest.raises(ValidationError) as complaint:
        ComplaintCreate.model_validate({"area": "36.74.01", "place": "x", "occurred_on": day.isoformat()})
    assert any(error["loc"] == ("occurred_on",) for error in complaint.value.errors())


def test_sane_dates_pass() -> None:
    CampaignCreate(name="x", root_area="36.74", start_date=date(2000, 1, 1), deadline=date(2100, 12, 31), target=1)
    PlacementCreate.model_validate({"area": "36.74.01", "from": (calendar.today() + timedelta(days=30)).isoformat()})
