import math
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from api import calendar
from api.complaints import demo, service
from api.complaints import stats as complaint_stats
from api.complaints.models import Complaint, ComplaintStatus, Sanction
from api.complaints.schemas import ComplaintCreate, ReplyCreate, SanctionCreate, TransitionCreate
from api.devices.models import Operator
from api.errors import Conflict, RuleViolation
from api.pagination import PageParams
from api.principal import SYSTEM
from tests.complaints.factories import complaint_body, make_complaint, make_operator
from tests.factories import make_service_point


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        (date(2025, 8, 1), 5, date(2025, 8, 8)),  # Friday -> next Friday
        (date(2025, 8, 2), 5, date(2025, 8, 8)),  # received on Saturday: the week starts Monday
        (date(2025, 8, 6), 1, date(2025, 8, 7)),  # Wednesday -> Thursday
        (date(2025, 8, 8), 1, date(2025, 8, 11)),  # Friday -> Monday
    ],
)
def test_deadline_counts_working_days(start: date, days: int, due: date) -> None:
    assert service.working_days_after(start, days) == due


def test_receipts_are_long_random_readable_and_forgiving() -> None:
    receipts = {service.new_receipt() for _ in range(500)}
    assert len(receipts) == 500
    pattern = re.compile(r"^PGL-[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$")
    assert all(pattern.match(r) for r in receipts)
    assert service.RECEIPT_LENGTH * math.log2(len(service.RECEIPT_ALPHABET)) >= 80
    receipt = "PGL-0A1B-2C3D-4E5F-6G7H"
    assert service.normalise_receipt(receipt) == receipt
    assert service.normalise_receipt(" pgl 0a1b 2c3d-4e5f 6g7h ") == receipt
    assert service.normalise_receipt("oAiB2C3D4E5F6G7H") == receipt  # O for 0, I for 1, no prefix
    for wrong in ("", "PGL-0A1B", "PGL-0A1B-2C3D-4E5F-6G7U", "x" * 40, "PGL-0A1B-2C3D-4E5F-6G7H-1"):
        assert service.normalise_receipt(wrong) is None


async def test_workflow_has_exactly_its_steps(session) -> None:
    allowed = {(a, b) for a, nexts in service.NEXT_STATUSES.items() for b in nexts}
    assert allowed == {
        ("received", "investigating"),
        ("investigating", "substantiated"),
        ("investigating", "unsubstantiated"),
        ("substantiated", "action_taken"),
        ("unsubstantiated", "closed"),
        ("action_taken", "closed"),
    }
    for current in ComplaintStatus:
        complaint_id = (await make_complaint(session, status=current)).id
        for target in ComplaintStatus:
            if (current, target) in allowed:
                continue
            with pytest.raises(Conflict):
                await service.transition(session, complaint_id=complaint_id, data=TransitionCreate(status=target, note="x"), actor=SYSTEM)
        assert (await session.get(Complaint, complaint_id)).status == current


async def test_findings_stay_and_closing_is_dated(session) -> None:
    cleared = await make_complaint(session, status=ComplaintStatus.closed)
    assert (cleared.finding, cleared.status) == ("unsubstantiated", "closed") and cleared.closed_at is not None
    upheld = await make_complaint(session, status=ComplaintStatus.action_taken)
    assert (upheld.finding, upheld.closed_at) == ("substantiated", None)
    detail = await service.get_complaint(session, complaint_id=upheld.id, principal=SYSTEM)
    assert [(e.from_status, e.to_status, e.text) for e in detail.entries] == [
        ("received", "investigating", "to investigating"),
        ("investigating", "substantiated", "to substantiated"),
        ("substantiated", "action_taken", "to action_taken"),
    ]


async def test_where_when_and_who_are_checked(session) -> None:
    point_id = (await make_service_point(session)).id
    cases = [
        ({"area": None, "place": None}, "service_point_id"),
        ({"service_point_id": point_id}, "service_point_id"),
        ({"service_point_id": 999_999, "area": None}, "service_point_id"),
        ({"area": "36.74"}, "area"),  # the city: too vague to act on
        ({"area": "36.74.01.9999"}, "area"),
        ({"area": "36.74.01", "place": None}, "place"),
        ({"occurred_on": str(calendar.today() + timedelta(days=2))}, "occurred_on"),
        ({"operator_id": 999_999}, "operator_id"),
    ]
    for overrides, field in cases:
        with pytest.raises(RuleViolation) as refused:
            await service.submit(session, data=ComplaintCreate.model_validate(complaint_body(**overrides)), actor=SYSTEM)
        assert refused.value.errors[0]["field"] == field, overrides
    assert await session.scalar(select(func.count()).select_from(Complaint)) == 0


async def test_deadline_and_overdue_list(session) -> None:
    complaint = await make_complaint(session)
    assert complaint.due_on == service.working_days_after(service.today(), 5)
    late = await make_complaint(session)
    late.due_on = service.today() - timedelta(days=1)
    closed = await make_complaint(session, status=ComplaintStatus.closed)
    closed.due_on = late.due_on
    await session.flush()
    page = PageParams(limit=50)
    overdue, _ = await service.list_complaints(session, principal=SYSTEM, page=page, overdue=True)
    assert [c.id for c in overdue] == [late.id] and overdue[0].overdue
    on_time, _ = await service.list_complaints(session, principal=SYSTEM, page=page, overdue=False)
    assert {c.id for c in on_time} == {complaint.id, closed.id}
    await service.reply(session, complaint_id=late.id, data=ReplyCreate(text="Kami periksa."), actor=SYSTEM)
    assert (await service.list_complaints(session, principal=SYSTEM, page=page, overdue=True))[0] == []


async def test_sanctions_need_a_substantiated_complaint_about_a_named_operator(session) -> None:
    operator = await make_operator(session)
    today = service.today()
    suspension = SanctionCreate(kind="suspension", effective_from=today, note="Diskors sebulan.")
    investigating = await make_complaint(session, status=ComplaintStatus.investigating, operator_id=operator.id)
    with pytest.raises(Conflict):
        await service.record_sanction(session, complaint_id=investigating.id, data=suspension, actor=SYSTEM)
    unnamed = await make_complaint(session, status=ComplaintStatus.substantiated)
    with pytest.raises(RuleViolation) as refused:
        await service.record_sanction(session, complaint_id=unnamed.id, data=suspension, actor=SYSTEM)
    assert refused.value.errors[0]["field"] == "operator_id"
    named = await make_complaint(session, status=ComplaintStatus.substantiated, operator_id=operator.id)
    with pytest.raises(RuleViolation):
        early = SanctionCreate(kind="suspension", effective_from=today - timedelta(days=30), note="x")
        await service.record_sanction(session, complaint_id=named.id, data=early, actor=SYSTEM)
    assert operator.status == "active"
    sanction = await service.record_sanction(session, complaint_id=named.id, data=suspension, actor=SYSTEM)
    assert (sanction.kind, sanction.operator_id) == ("suspension", operator.id)
    assert (await session.get(Operator, operator.id)).status == "suspended"
    with pytest.raises(Conflict):
        await service.record_sanction(session, complaint_id=named.id, data=suspension, actor=SYSTEM)
    removal_case = await make_complaint(session, status=ComplaintStatus.action_taken, operator_id=operator.id)
    await service.record_sanction(
        session, complaint_id=removal_case.id, data=SanctionCreate(kind="removal", effective_from=today, note="Diberhentikan."), actor=SYSTEM
    )
    assert (await session.get(Operator, operator.id)).status == "left"


async def test_a_warning_leaves_the_operator_active(session) -> None:
    operator = await make_operator(session)
    complaint = await make_complaint(session, status=ComplaintStatus.substantiated, operator_id=operator.id)
    await service.record_sanction(
        session, complaint_id=complaint.id, data=SanctionCreate(kind="warning", effective_from=service.today(), note="Teguran."), actor=SYSTEM
    )
    assert (await session.get(Operator, operator.id)).status == "active"
    assert await session.scalar(select(func.count()).select_from(Sanction)) == 1


async def test_stats_hide_small_counts(session) -> None:
    serpong = [await make_complaint(session, area="36.74.01") for _ in range(3)]
    await make_complaint(session, area="36.74.07.1001", status=ComplaintStatus.substantiated)  # Setu
    for status in (ComplaintStatus.unsubstantiated, ComplaintStatus.substantiated):
        await make_complaint(session, area="36.74.03", status=status)
    stats = await complaint_stats.stats(session, area=None, period_from=None, period_to=None)
    assert stats.total == 6
    assert [(k.area, k.count) for k in stats.by_kecamatan] == [("36.74.01", 3), ("36.74.03", "<3"), ("36.74.07", "<3")]
    assert stats.by_kecamatan[0].name == "Serpong"
    assert {s.status: s.count for s in stats.by_status} == {
        "received": 3,
        "investigating": 0,
        "substantiated": "<3",
        "unsubstantiated": "<3",
        "action_taken": 0,
        "closed": 0,
    }
    assert [(m.month, m.count) for m in stats.by_month] == [(service.today().strftime("%Y-%m"), 6)]
    assert stats.share_substantiated == round(2 / 3, 3)
    assert stats.median_days_to_first_response is None  # nobody has replied yet
    for complaint, days in zip(serpong, (1, 2, 6), strict=True):
        complaint.first_response_at = complaint.received_at + timedelta(days=days)
    await session.flush()
    serpong_only = await complaint_stats.stats(session, area="36.74.01", period_from=None, period_to=None)
    assert (serpong_only.total, serpong_only.median_days_to_first_response, serpong_only.share_substantiated) == (3, 2.0, None)
    tomorrow = service.today() + timedelta(days=1)
    assert (await complaint_stats.stats(session, area=None, period_from=tomorrow, period_to=None, detailed=True)).total == 0
    # The public's days are widened to whole months: "from tomorrow" means from the 1st of its month.
    public = await complaint_stats.stats(session, area=None, period_from=tomorrow, period_to=None)
    assert public.period_from == tomorrow.replace(day=1)
    assert public.total == (6 if tomorrow.month == service.today().month else 0)


async def test_demo_is_idempotent_and_warns_an_operator(session) -> None:
    operator = await make_operator(session)
    today = service.today()
    lines = await demo.load(session, today=today)
    assert "with a warning" in lines[0] and "PGL-" in lines[0]
    assert await demo.load(session, today=today) == ["complaints: already there"]
    statuses = sorted((await session.scalars(select(Complaint.status))).all())
    assert statuses == ["closed", "investigating", "received", "substantiated"]
    sanction = await session.scalar(select(Sanction))
    assert (sanction.kind, sanction.operator_id) == ("warning", operator.id)
    assert (await session.get(Operator, operator.id)).status == "active"
    overdue, _ = await service.list_complaints(session, principal=SYSTEM, page=PageParams(limit=10), overdue=True)
    assert len(overdue) == 1 and overdue[0].area == "36.74.03"
    assert datetime.now(UTC) - overdue[0].received_at > timedelta(days=8)
