"""Posted dates: ISO or day first (dd/mm/yyyy, d/m/yyyy) as Indonesian spreadsheets write them; one
form per file; an impossible date or a month above 12 is refused per row, clearly."""

from datetime import date, timedelta

import pytest

from api.campaigns.service import today_for
from api.tallies.parsing import DAY_FIRST_DATE, ISO_DATE, read_date
from api.types import Role
from tests.factories import headers_for, make_campaign
from tests.tallies.factories import post_csv


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2027-01-31", (ISO_DATE, date(2027, 1, 31))),
        ("31/01/2027", (DAY_FIRST_DATE, date(2027, 1, 31))),
        ("3/4/2027", (DAY_FIRST_DATE, date(2027, 4, 3))),  # 3 April: Indonesia writes the day first
        (" 03/04/2027 ", (DAY_FIRST_DATE, date(2027, 4, 3))),
        ("04/13/2027", (DAY_FIRST_DATE, "impossible_date")),  # month 13: never read as 13 April
        ("31/02/2027", (DAY_FIRST_DATE, "impossible_date")),
        ("2027-02-30", (ISO_DATE, "impossible_date")),
        ("31-01-2027", (None, "invalid_date")),
        ("2027/01/31", (None, "invalid_date")),
        ("31/1/27", (None, "invalid_date")),
        ("", (None, "invalid_date")),
    ],
)
def test_read_date(text: str, expected: tuple) -> None:
    assert read_date(text) == expected


def _slashed(day: date, *, pad: bool = True) -> str:
    return f"{day.day:02d}/{day.month:02d}/{day.year}" if pad else f"{day.day}/{day.month}/{day.year}"


async def test_a_day_first_csv_is_imported(client, session) -> None:
    campaign = await make_campaign(session)
    today = today_for(campaign)
    admin = await headers_for(session, role=Role.admin)
    days = [today - timedelta(days=n) for n in (1, 2)]
    csv = f"area,date,count\n36.74.01,{_slashed(days[0])},12\n36.74.02,{_slashed(days[1], pad=False)},7\n"
    response = await post_csv(client, campaign.id, csv, admin)
    assert response.status_code == 200, response.text
    assert response.json()["imported"] == 2


async def test_mixed_forms_and_impossible_dates_are_refused_per_row(client, session) -> None:
    campaign = await make_campaign(session)
    today = today_for(campaign)
    admin = await headers_for(session, role=Role.admin)
    yesterday = today - timedelta(days=1)
    csv = (
        "area,date,count\n"
        f"36.74.01,{_slashed(yesterday)},12\n"  # row 2 sets the file's form: day first
        f"36.74.02,{yesterday.isoformat()},7\n"  # row 3: ISO in a day-first file
        f"36.74.03,{yesterday.month:02d}/13/{yesterday.year},5\n"  # row 4: month 13 (written month first)
        f"36.74.04,31/02/{yesterday.year},5\n"  # row 5: no 31 February
    )
    response = await post_csv(client, campaign.id, csv, admin)
    problem = response.json()
    assert response.status_code == 422 and problem["code"] == "tallies.rejected"
    by_code = {c["code"]: c for c in problem["summary"]["conflicts"]}
    assert by_code["mixed_date_format"]["rows"] == [3]
    assert by_code["mixed_date_format"]["params"] == {"form": "yyyy-mm-dd", "first": "dd/mm/yyyy"}
    assert by_code["impossible_date"]["rows"] == [4, 5]
    rows = {item["row"]: item for item in problem["errors"]}
    assert rows[4]["code"] == "import.impossible_date" and "bulan paling besar 12" in rows[4]["message"]
    assert "satu berkas memakai satu bentuk" in rows[3]["message"]
    english = (await post_csv(client, campaign.id, csv, {**admin, "Accept-Language": "en"})).json()
    assert "the month is at most 12" in {item["row"]: item for item in english["errors"]}[4]["message"]
