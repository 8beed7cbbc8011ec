import re
from datetime import date, time, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from api import calendar, flows
from api.areas.models import Area
from api.audit.models import AuditEntry
from api.auth.models import User
from api.config import get_settings
from api.errors import Conflict, Forbidden, NotFound, RuleViolation
from api.pagination import PageParams
from api.principal import SYSTEM
from api.types import Role
from api.visits import demo, service
from api.visits.models import HomeVisit, HomeVisitMerge, VisitPriority, VisitStatus
from api.visits.schemas import HomeVisitCreate, StatusChange
from tests.factories import make_campaign, principal
from tests.visits.factories import CIATER, adult_nik, make_kit, make_operator, make_request, payload, schedule, triage

TODAY = calendar.today()


# --- pure rules ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("081234567890", "+6281234567890"),
        ("0812-3456-7890", "+6281234567890"),
        ("+62 812 3456 7890", "+6281234567890"),
        ("6281234567890", "+6281234567890"),
        ("(0812) 345.678", "+62812345678"),
        ("0812345678901", "+62812345678901"),
    ],
)
def test_phone_forms_are_stored_in_one_form(raw: str, stored: str) -> None:
    assert service.normalize_phone(raw) == stored


@pytest.mark.parametrize("raw", ["0215551234", "08123", "08123456789012", "+6581234567", "0812abc45678", "812345678", ""])
def test_other_phone_numbers_are_refused(raw: str) -> None:
    assert service.normalize_phone(raw) is None


def test_tracking_codes_are_readable_and_unambiguous() -> None:
    codes = {service.new_tracking_code() for _ in range(2000)}
    assert len(codes) == 2000
    for code in codes:
        prefix, first, second = code.split("-")
        assert prefix == "HV" and len(first) == len(second) == 4
        assert not set(first + second) & set("01OIL")
    sample = next(iter(codes))
    assert service.normalize_tracking_code(sample.lower().replace("-", " ")) == sample
    assert service.normalize_tracking_code(sample[3:].replace("-", "")) == sample
    assert service.normalize_tracking_code("HV-0000-0000") is None
    assert service.normalize_tracking_code("HV-ABCD") is None


def test_birth_date_women_add_forty_and_century_is_the_latest_not_in_the_future() -> None:
    on = date(2026, 6, 1)
    assert service.birth_date_of_nik("3674015705800001", on=on) == date(1980, 5, 17)  # 57 = 17 + 40
    assert service.birth_date_of_nik("3674011705800001", on=on) == date(1980, 5, 17)
    assert service.birth_date_of_nik("3674010101100001", on=on) == date(2010, 1, 1)
    assert service.birth_date_of_nik("3674010207260001", on=on) == date(1926, 7, 2)  # 2026-07-02 is still ahead
    assert service.birth_date_of_nik("3674012902000001", on=on) == date(2000, 2, 29)
    for impossible in ("3674013102800001", "3674010005800001", "3674013505800001", "3674017205800001", "3674011513800001"):
        assert service.birth_date_of_nik(impossible, on=on) is None, impossible


def test_age_counts_whole_years_including_leap_day_birthdays() -> None:
    born = date(2009, 6, 1)
    assert service.age_on(born, date(2026, 6, 1)) == 17
    assert service.age_on(born, date(2026, 5, 31)) == 16
    assert service.age_on(date(2008, 2, 29), date(2025, 2, 28)) == 16
    assert service.age_on(date(2008, 2, 29), date(2025, 3, 1)) == 17


@pytest.mark.parametrize(
    ("reason", "waited", "expected"),
    [
        ("sick", 0, VisitPriority.high),
        ("sick", 7, VisitPriority.urgent),
        ("disabled", 6, VisitPriority.normal),
        ("elderly", 7, VisitPriority.high),
        ("other", 0, VisitPriority.low),
        ("other", 14, VisitPriority.high),
        ("other", 100, VisitPriority.urgent),
    ],
)
def test_priority_from_reason_and_waiting(reason: str, waited: int, expected: VisitPriority) -> None:
    assert service.priority_for(reason, waited) == expected


def test_nearest_rank_percentile() -> None:
    assert service.nearest_rank([], 0.9) is None
    assert service.nearest_rank([4], 0.9) == 4
    assert service.nearest_rank(list(range(1, 11)), 0.9) == 9
    assert service.nearest_rank(list(range(1, 12)), 0.9) == 10


def test_masking_keeps_the_last_four_digits() -> None:
    assert service.mask_digits("3674015705800001") == "************0001"
    assert service.mask_digits("+6281234567890") == "**********7890"


# --- intake --------------------------------------------------------------------------------


async def _nik_message(session, nik: str, **changes) -> str:
    with pytest.raises(RuleViolation) as raised:
        await make_request(session, nik=nik, **changes)
    errors = raised.value.errors or []
    assert [e["field"] for e in errors] == ["nik"]
    assert nik not in str(raised.value.detail) and nik not in str(errors)
    return errors[0]["message"]


async def test_each_invalid_nik_gets_its_own_message(session) -> None:
    await make_campaign(session)
    sixteen_ago = TODAY.replace(year=TODAY.year - 16) if not (TODAY.month == 2 and TODAY.day == 29) else date(TODAY.year - 16, 2, 28)
    messages = {
        "length": await _nik_message(session, "36740117058000"),
        "letters": await _nik_message(session, "36740117058000AB"),
        "unknown kecamatan": await _nik_message(session, "3674991705800001"),
        # Neither in this city nor on the official list at all: the same answer, not "another city".
        "unknown anywhere": await _nik_message(session, "9999991705800001"),
        "another city": await _nik_message(session, "3671011705800001"),
        "impossible date": await _nik_message(session, "3674013102800001"),
        "under 17": await _nik_message(session, demo.nik("367401", sixteen_ago, woman=True, serial=1)),
    }
    assert messages["length"] == messages["letters"] and "16 digits" in messages["length"]
    assert messages["unknown kecamatan"] == messages["unknown anywhere"] == "The first six digits of the NIK are not the code of a known kecamatan."
    assert "Kota Tangerang," in messages["another city"] and "another city" in messages["another city"]
    assert "birth date" in messages["impossible date"]
    assert "17 or older" in messages["under 17"]
    assert len(set(messages.values())) == 5


async def test_a_resident_turning_17_today_may_ask(session) -> None:
    await make_campaign(session)
    born = date(TODAY.year - 17, TODAY.month, TODAY.day) if (TODAY.month, TODAY.day) != (2, 29) else date(TODAY.year - 17, 3, 1)
    visit = await make_request(session, nik=demo.nik("367406", born, woman=False, serial=7), today=TODAY)
    assert visit.status == VisitStatus.submitted and visit.requested_on == TODAY


async def test_nik_of_another_kecamatan_of_the_same_city_outside_a_kecamatan_campaign(session) -> None:
    await make_campaign(session, root="36.74.01")
    message = await _nik_message(session, adult_nik("367406"))
    assert "Pamulang" in message and "Serpong" in message


async def test_stores_normalized_phone_and_nik_and_sorted_dates(session) -> None:
    await make_campaign(session)
    later, sooner = TODAY + timedelta(days=5), TODAY + timedelta(days=2)
    visit = await make_request(session, nik="3674 0117 0580 0042", phone="+62 812-3456-7890", preferred_dates=[later, sooner, later])
    assert visit.nik == "3674011705800042" and visit.phone == "+6281234567890"
    assert visit.preferred_dates == [sooner.isoformat(), later.isoformat()]
    assert visit.tracking_code.startswith("HV-") and visit.campaign_id is not None


async def test_several_problems_are_reported_together_by_field(session) -> None:
    await make_campaign(session)
    with pytest.raises(RuleViolation) as raised:
        await make_request(session, phone="12345", consent=False, preferred_dates=[TODAY - timedelta(days=1), TODAY + timedelta(days=400)])
    assert [e["field"] for e in raised.value.errors] == ["phone", "consent", "preferred_dates.0", "preferred_dates.1"]


async def test_area_must_be_a_kelurahan_or_below_with_a_running_campaign(session) -> None:
    for area in ("36.74.01", "36.74.01.9999", "nope"):
        with pytest.raises(RuleViolation) as raised:
            await make_request(session, area=area)
        assert raised.value.errors[0]["field"] == "area"
    with pytest.raises(RuleViolation, match="No recording campaign"):
        await make_request(session)
    await make_campaign(session, start=TODAY + timedelta(days=1), deadline=TODAY + timedelta(days=30))
    with pytest.raises(RuleViolation, match="No recording campaign"):
        await make_request(session)


async def test_the_deepest_active_campaign_takes_the_request(session) -> None:
    await make_campaign(session, root="36.74")
    serpong = await make_campaign(session, root="36.74.01")
    assert (await make_request(session)).campaign_id == serpong.id


async def test_one_open_request_per_nik_also_in_the_database(session) -> None:
    await make_campaign(session)
    nik = adult_nik()
    first = await make_request(session, nik=nik)
    # Issue 17, item 11: a second request is merged into the open one, not a second open request.
    merged = await service.submit(session, data=HomeVisitCreate(**payload(nik=nik, phone="0813 1111 2222")), actor=SYSTEM)
    assert isinstance(merged, HomeVisitMerge) and merged.home_visit_id == first.id and merged.tracking_code != first.tracking_code
    assert await session.scalar(select(func.count()).select_from(HomeVisit).where(HomeVisit.nik == nik)) == 1
    first_id = first.id
    await service.change_status(session, visit_id=first_id, data=StatusChange(status="cancelled"), actor=SYSTEM)
    second = await make_request(session, nik=nik)
    assert second.id != first_id
    # The partial unique index holds even when the service's check is bypassed.
    row = {c.key: getattr(second, c.key) for c in HomeVisit.__table__.columns if c.key not in ("id", "created_at", "updated_at")}
    with pytest.raises(IntegrityError):
        async with session.begin_nested():
            await session.execute(HomeVisit.__table__.insert().values(**{**row, "tracking_code": "HV-2222-2222"}))


# --- dispatch ------------------------------------------------------------------------------


async def test_triage_sets_priority_from_reason_and_waiting(session) -> None:
    await make_campaign(session)
    visit = await make_request(session, reason="elderly", today=TODAY - timedelta(days=8))
    triaged = await triage(session, visit.id, today=TODAY)
    assert triaged.status == VisitStatus.triaged and triaged.priority == VisitPriority.high


async def test_priority_is_set_at_intake_and_scheduling_needs_no_triage(session) -> None:
    """Issue 19: a bedridden resident's request sorted last until someone triaged it."""
    await make_campaign(session)
    kit, operator = await make_kit(session), await make_operator(session)
    sick = await make_request(session, reason="sick", today=TODAY - timedelta(days=8))
    assert sick.priority == VisitPriority.high and (await make_request(session, reason="other")).priority == VisitPriority.low
    scheduled = await schedule(session, sick.id, device_id=kit.id, operator_id=operator.id, day=TODAY)
    # Straight from submitted: the priority triage would have given (8 days waited: one more point).
    assert scheduled.status == VisitStatus.scheduled and scheduled.priority == VisitPriority.urgent


async def test_state_machine_refuses_illegal_moves(session) -> None:
    await make_campaign(session)
    visit = await make_request(session)
    for illegal in ("visited", "unreachable", "submitted"):
        with pytest.raises(Conflict):
            await service.change_status(session, visit_id=visit.id, data=StatusChange(status=illegal), actor=SYSTEM)
    with pytest.raises(RuleViolation) as raised:
        await service.change_status(session, visit_id=visit.id, data=StatusChange(status="scheduled"), actor=SYSTEM)
    assert raised.value.errors[0]["field"] == "status"
    await triage(session, visit.id)
    await service.change_status(session, visit_id=visit.id, data=StatusChange(status="cancelled", note="moved away"), actor=SYSTEM)
    with pytest.raises(Conflict, match="closed"):
        await triage(session, visit.id)


async def test_schedule_checks_kit_operator_date_and_collisions(session) -> None:
    await make_campaign(session)
    kit, operator, other_operator = await make_kit(session, capacity=2), await make_operator(session), await make_operator(session)
    static, broken, idle = await make_kit(session, kind="static"), await make_kit(session, status="faulty"), await make_operator(session, status="suspended")
    loaned = await make_kit(session, owner="loan", lender="Kota Cilegon", return_due=TODAY + timedelta(days=1))
    tomorrow = TODAY + timedelta(days=1)
    ids = []
    for _ in range(4):
        ids.append((await make_request(session)).id)
        await triage(session, ids[-1])
    first, second, third, fourth = ids

    async def refused(error: type, field: str, **kwargs) -> None:
        arguments = {"device_id": kit.id, "operator_id": operator.id, "day": tomorrow, **kwargs}
        with pytest.raises(error) as raised:
            await schedule(session, first, **arguments)
        assert raised.value.errors[0]["field"] == field, raised.value.errors

    await refused(NotFound, "device_id", device_id=999_999)
    await refused(RuleViolation, "device_id", device_id=static.id)
    await refused(RuleViolation, "device_id", device_id=broken.id)
    await refused(RuleViolation, "device_id", device_id=loaned.id, day=TODAY + timedelta(days=2))
    await refused(NotFound, "operator_id", operator_id=999_999)
    await refused(RuleViolation, "operator_id", operator_id=idle.id)
    await refused(RuleViolation, "date", day=TODAY - timedelta(days=1))
    await refused(RuleViolation, "date", day=TODAY + timedelta(days=365))

    await schedule(session, first, device_id=kit.id, operator_id=operator.id, day=tomorrow, start="09:00", end="10:00")
    with pytest.raises(Conflict) as raised:
        await schedule(session, second, device_id=kit.id, operator_id=other_operator.id, day=tomorrow, start="09:30", end="10:30")
    assert raised.value.errors[0]["field"] == "device_id"
    with pytest.raises(Conflict) as raised:
        await schedule(session, second, device_id=(await make_kit(session)).id, operator_id=operator.id, day=tomorrow, start="09:59", end="11:00")
    assert raised.value.errors[0]["field"] == "operator_id"
    # Back to back is no overlap; then the kit's day (capacity 2) is full.
    await schedule(session, second, device_id=kit.id, operator_id=operator.id, day=tomorrow, start="10:00", end="11:00")
    with pytest.raises(Conflict, match="full") as raised:
        await schedule(session, third, device_id=kit.id, operator_id=other_operator.id, day=tomorrow, start="13:00", end="14:00")
    # Rescheduling does not collide with itself, and frees the old slot.
    moved = await schedule(session, second, device_id=kit.id, operator_id=operator.id, day=tomorrow, start="10:30", end="11:30")
    assert moved.window_start == time(10, 30)
    await service.change_status(session, visit_id=first, data=StatusChange(status="cancelled"), actor=SYSTEM)
    await schedule(session, third, device_id=kit.id, operator_id=other_operator.id, day=tomorrow, start="09:00", end="10:00")
    assert (await schedule(session, fourth, device_id=loaned.id, operator_id=operator.id, day=tomorrow, start="13:00", end="14:00")).device_id == loaned.id


async def test_visited_not_before_the_day_and_adds_a_recording(session, monkeypatch) -> None:
    calls = []

    async def add_recordings(_session, **kwargs) -> None:
        calls.append(kwargs)

    monkeypatch.setattr(flows.tallies, "add_recordings", add_recordings)
    await make_campaign(session)
    kit, operator = await make_kit(session), await make_operator(session)
    visit = await make_request(session, area=CIATER)
    visit_id = visit.id
    await triage(session, visit_id)
    tomorrow = TODAY + timedelta(days=1)
    await schedule(session, visit_id, device_id=kit.id, operator_id=operator.id, day=tomorrow)
    with pytest.raises(Conflict, match="planned for"):
        await flows.change_visit_status(session, visit_id=visit_id, data=StatusChange(status="visited"), actor=SYSTEM, today=TODAY)
    assert calls == []
    done = await flows.change_visit_status(session, visit_id=visit_id, data=StatusChange(status="visited", note="recorded"), actor=SYSTEM, today=tomorrow)
    assert done.status == VisitStatus.visited
    assert calls == [{"area_code": CIATER, "day": tomorrow, "source": "home_visit", "device_id": kit.id, "actor": SYSTEM}]
    record = await service.get_personal(session, visit_id=visit_id, actor=SYSTEM)
    assert [(e.from_status, e.to_status) for e in record.history] == [
        (None, "submitted"), ("submitted", "triaged"), ("triaged", "scheduled"), ("scheduled", "visited")
    ]  # fmt: skip
    assert record.history[-1].note == "recorded"


async def test_scope_personal_out_of_scope_is_404_and_reads_are_audited(session) -> None:
    await make_campaign(session)
    visit = await make_request(session)
    outside = principal(Role.supervisor, area="36.74.07")
    with pytest.raises(NotFound):
        await service.get_personal(session, visit_id=visit.id, actor=outside)
    with pytest.raises(NotFound):
        await service.change_status(session, visit_id=visit.id, data=StatusChange(status="triaged"), actor=outside)
    inside = principal(Role.supervisor, area="36.74.01")
    record = await service.get_personal(session, visit_id=visit.id, actor=inside)
    assert record.nik == visit.nik
    audited = await session.scalar(
        select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "home_visit.read_personal", AuditEntry.entity_id == str(visit.id))
    )
    assert audited == 1
    created = await session.scalar(select(AuditEntry).where(AuditEntry.action == "home_visit.create", AuditEntry.entity_id == str(visit.id)))
    assert created.after["nik"] == "***" and created.after["phone"] == "***" and "name" not in created.after
    with pytest.raises(Forbidden):
        await service.list_visits(session, principal=inside, page=PageParams(), area="36.74")


async def test_day_plan_in_route_order_for_the_supervisor_scope(session) -> None:
    await make_campaign(session)
    for code in ("36.74.01.1001.002", "36.74.01.1001.001"):
        session.add(Area(code=code, name=f"RW {code[-3:]}", level="rw", parent_code="36.74.01.1001"))
    await session.flush()
    kit, operator = await make_kit(session), await make_operator(session)
    tomorrow = TODAY + timedelta(days=1)
    plan = [("36.74.06.1001", "08:00"), ("36.74.01.1002", "09:00"), ("36.74.01.1001.002", "10:00"), ("36.74.01.1001.001", "11:00"), ("36.74.01.1001", "12:00")]
    for area, start in plan:
        visit = await make_request(session, area=area)
        await triage(session, visit.id)
        await schedule(session, visit.id, device_id=kit.id, operator_id=operator.id, day=tomorrow, start=start, end=start.replace(":00", ":45"))
    whole = await service.day_plan(session, device_id=kit.id, day=tomorrow, actor=SYSTEM)
    assert [s.area for s in whole.stops] == ["36.74.01.1001", "36.74.01.1001.001", "36.74.01.1001.002", "36.74.01.1002", "36.74.06.1001"]
    assert whole.booked == 5 and whole.stops[1].rw == "001" and whole.stops[0].kelurahan_name == "Ciater"
    assert whole.stops[0].phone == "+6281234567890" and whole.stops[0].nik_masked.startswith("************")
    serpong = await service.day_plan(session, device_id=kit.id, day=tomorrow, actor=principal(Role.supervisor, area="36.74.01"))
    assert len(serpong.stops) == 4 and serpong.booked == 5
    static = await make_kit(session, kind="static")
    with pytest.raises(NotFound):
        await service.day_plan(session, device_id=static.id, day=tomorrow, actor=SYSTEM)


async def test_stats_median_p90_and_overdue(session, monkeypatch) -> None:
    await make_campaign(session)
    kit, operator = await make_kit(session, capacity=50), await make_operator(session)
    waits = [1, 2, 3, 4, 10]
    for index, waited in enumerate(waits):
        visit = await make_request(session, area="36.74.06.1001", today=TODAY - timedelta(days=waited + 1))
        await triage(session, visit.id, today=TODAY - timedelta(days=waited + 1))
        day = TODAY - timedelta(days=1)
        await schedule(session, visit.id, device_id=kit.id, operator_id=operator.id, day=day, start=f"{8 + index:02d}:00", end=f"{8 + index:02d}:30", today=day)
        await service.change_status(session, visit_id=visit.id, data=StatusChange(status="visited"), actor=SYSTEM, today=TODAY)
    late = await make_request(session, area="36.74.06.1002", today=TODAY - timedelta(days=9))
    await make_request(session, area="36.74.06.1002", today=TODAY - timedelta(days=2))
    await make_request(session, area="36.74.01.1001", today=TODAY - timedelta(days=30))
    pamulang = await service.stats(session, principal=principal(Role.supervisor, area="36.74.06"))
    assert pamulang.area == "36.74.06"
    assert {c.status: c.count for c in pamulang.counts} == {"submitted": 2, "triaged": 0, "scheduled": 0, "visited": 5, "unreachable": 0, "cancelled": 0}
    assert pamulang.median_days_to_visit == 3.0 and pamulang.p90_days_to_visit == 10
    assert pamulang.overdue_after_days == get_settings().home_visit_overdue_days == 7
    assert [o.id for o in pamulang.overdue] == [late.id] and pamulang.overdue[0].overdue and pamulang.overdue[0].waiting_days == 9
    city = await service.stats(session, principal=SYSTEM)
    assert city.overdue_count == 2 and city.overdue[0].waiting_days == 30
    monkeypatch.setenv("REKAM_HOME_VISIT_OVERDUE_DAYS", "10")
    get_settings.cache_clear()
    try:
        relaxed = await service.stats(session, principal=SYSTEM)
        assert relaxed.overdue_after_days == 10 and relaxed.overdue_count == 1
        listed, _ = await service.list_visits(session, principal=SYSTEM, page=PageParams(), overdue=True)
        assert len(listed) == 1
    finally:
        monkeypatch.delenv("REKAM_HOME_VISIT_OVERDUE_DAYS")
        get_settings.cache_clear()


async def test_demo_is_idempotent_and_schedules_on_a_mobile_kit(session) -> None:
    from api.campaigns import demo as campaigns_demo

    await campaigns_demo.load(session, today=TODAY)
    first = await demo.load(session, today=TODAY)
    assert "6 requests created" in first and "none scheduled" in first
    kit = await make_kit(session)
    await make_operator(session)
    second = await demo.load(session, today=TODAY)
    assert "0 requests created, 4 moves made" in second and kit.serial in second
    assert "0 requests created, 0 moves made" in await demo.load(session, today=TODAY)
    statuses = sorted((await session.scalars(select(HomeVisit.status).where(HomeVisit.nik.in_([s.nik for s in demo.STORIES])))).all())
    assert statuses == ["cancelled", "scheduled", "scheduled", "submitted", "triaged", "visited"]


async def test_demo_crew_account_is_the_scheduled_petugas_and_sees_a_stop_today(client, session) -> None:
    from api.campaigns import demo as campaigns_demo

    await campaigns_demo.load(session, today=TODAY)
    await demo.load(session, today=TODAY)
    assert "not created" in await demo.load_crew_account(session)  # nothing scheduled yet
    kit_id, petugas_id = (await make_kit(session)).id, (await make_operator(session)).id
    await demo.load(session, today=TODAY)
    line = await demo.load_crew_account(session)
    password = re.search(r"password (\S+)", line)
    assert password is not None and f"device {kit_id}" in line
    user = await session.scalar(select(User).where(User.username == demo.CREW_USERNAME))
    assert user is not None and (user.role, user.operator_id, user.scope_service_point_id) == ("operator", petugas_id, None)
    assert "unchanged" in await demo.load_crew_account(session)
    await session.commit()
    token = (await client.post("/api/v1/auth/token", data={"username": demo.CREW_USERNAME, "password": password.group(1)})).json()["access_token"]
    plan = await client.get(f"/api/v1/mobile-kits/{kit_id}/day-plan", params={"date": TODAY.isoformat()}, headers={"Authorization": f"Bearer {token}"})
    assert plan.status_code == 200 and len(plan.json()["stops"]) == 1


async def test_weekend_services_and_home_visits_never_share_a_kit_or_operator_on_a_day(session) -> None:
    from api.services.schemas import AssignmentsPut
    from tests.services.factories import make_event, next_saturday

    await make_campaign(session)
    saturday = next_saturday()
    event_id = (await make_event(session, day=saturday)).id
    kit, busy_kit = await make_kit(session), await make_kit(session)
    petugas, busy_petugas = await make_operator(session), await make_operator(session)
    await flows.set_event_crew(session, point_id=event_id, data=AssignmentsPut(device_ids=[busy_kit.id], operator_ids=[busy_petugas.id]), actor=SYSTEM)
    visit_id = (await make_request(session)).id
    await triage(session, visit_id)
    for device_id, operator_id, field in ((busy_kit.id, petugas.id, "device_id"), (kit.id, busy_petugas.id, "operator_id")):
        with pytest.raises(Conflict) as conflict:
            await schedule(session, visit_id, device_id=device_id, operator_id=operator_id, day=saturday)
        assert conflict.value.errors[0]["field"] == field and "weekend service" in conflict.value.detail
    # Sunday the event is over: the kit and its operator may visit.
    await schedule(session, visit_id, device_id=busy_kit.id, operator_id=busy_petugas.id, day=saturday + timedelta(days=1))
    # The other way round: a kit and an operator with a visit that day are not free for an event.
    sunday_event_id = (await make_event(session, day=saturday + timedelta(days=1))).id
    with pytest.raises(Conflict) as conflict:
        await flows.set_event_crew(
            session, point_id=sunday_event_id, data=AssignmentsPut(device_ids=[kit.id, busy_kit.id], operator_ids=[busy_petugas.id]), actor=SYSTEM
        )
    assert [(e["field"], e["message"]) for e in conflict.value.errors] == [
        ("device_ids.1", "on home visits that day"),
        ("operator_ids.0", "on home visits that day"),
    ]
    assert (await flows.set_event_crew(session, point_id=sunday_event_id, data=AssignmentsPut(device_ids=[kit.id]), actor=SYSTEM))["device_ids"] == [kit.id]


async def test_a_kit_or_operator_booked_on_a_day_is_not_placed_at_a_service_point_over_it(session) -> None:
    from api.devices.schemas import PlacementCreate
    from api.services.schemas import AssignmentsPut
    from tests.services.factories import make_event, make_office, next_saturday

    await make_campaign(session)
    saturday = next_saturday()
    office = await make_office(session)
    event_id = (await make_event(session, day=saturday)).id
    kit, petugas = await make_kit(session), await make_operator(session)
    await flows.set_event_crew(session, point_id=event_id, data=AssignmentsPut(device_ids=[kit.id]), actor=SYSTEM)
    visit_id = (await make_request(session)).id
    await triage(session, visit_id)
    await schedule(session, visit_id, device_id=(await make_kit(session)).id, operator_id=petugas.id, day=saturday + timedelta(days=1))

    over_the_weekend = PlacementCreate(service_point_id=office.id, starts_on=saturday - timedelta(days=1), ends_on=saturday + timedelta(days=1))
    with pytest.raises(Conflict) as conflict:
        await flows.allocate_device(session, device_id=kit.id, data=over_the_weekend, actor=SYSTEM)
    booked = {
        "location": "body",
        "field": "from",
        "code": "commitment.booked_on",
        "message": f"booked elsewhere on {saturday}",
        "params": {"day": saturday.isoformat()},
    }
    assert conflict.value.errors == [booked]
    with pytest.raises(Conflict) as conflict:
        await flows.assign_operator(session, operator_id=petugas.id, data=over_the_weekend, actor=SYSTEM)
    assert conflict.value.errors[0]["message"] == f"booked elsewhere on {saturday + timedelta(days=1)}"
    # From the Monday on both are free to stand at the office.
    monday = PlacementCreate(service_point_id=office.id, starts_on=saturday + timedelta(days=2))
    assert (await flows.allocate_device(session, device_id=kit.id, data=monday, actor=SYSTEM)).service_point_id == office.id
    assert (await flows.assign_operator(session, operator_id=petugas.id, data=monday, actor=SYSTEM)).service_point_id == office.id
