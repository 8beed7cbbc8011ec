from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from api import flows
from api.auth.dependencies import CurrentPrincipal, PublicWriteLimit, require
from api.complaints import service, stats
from api.complaints.models import ComplaintStatus
from api.complaints.schemas import (
    ComplaintCreate,
    ComplaintDetail,
    ComplaintRead,
    ComplaintReceipt,
    ComplaintStats,
    ComplaintTracking,
    ComplaintUpdate,
    MessageCreate,
    NoteCreate,
    ReplyCreate,
    ReporterDisclosure,
    ReporterRead,
    SanctionCreate,
    SanctionRead,
    TransitionCreate,
)
from api.db import WRITES, IdPath, SessionDep
from api.errors import problem_responses
from api.idempotency import CreatingRoute
from api.pagination import Page, PageDep
from api.principal import Principal
from api.types import BoundedDate, Role

router = APIRouter(prefix="/complaints", tags=["complaints"], route_class=CreatingRoute)

AreaQuery = Annotated[str | None, Query(max_length=40, description="An area code: this area and its subtree.")]
Receipt = Annotated[str, Path(max_length=40, description="The receipt the reporter was given.")]
# The list: 401 anonymous, 403 for staff who do not handle complaints.
HandlerDep = Annotated[Principal, Depends(require(Role.admin, Role.handler))]


async def complaint_handler(principal: CurrentPrincipal) -> Principal:
    """One complaint: 401 anonymous, 404 for staff who do not handle complaints."""
    service.ensure_handles_complaints(principal)
    return principal


ComplaintHandlerDep = Annotated[Principal, Depends(complaint_handler)]


@router.post("", response_model=ComplaintReceipt, status_code=201, responses=problem_responses(422, 429))
async def submit_complaint(data: ComplaintCreate, caller: PublicWriteLimit, session: SessionDep) -> ComplaintReceipt:
    """Report an illegal fee; no sign-in. Keep the receipt: it is shown only now."""
    complaint = await flows.submit_complaint(session, data=data, actor=caller)
    return ComplaintReceipt(receipt=complaint.receipt, status=ComplaintStatus(complaint.status))


@router.get("/stats", response_model=ComplaintStats, responses=problem_responses(401, 404, 422))
async def complaint_stats(
    principal: CurrentPrincipal,
    session: SessionDep,
    area: AreaQuery = None,
    period_from: Annotated[BoundedDate | None, Query(alias="from", description="First day of receipt (YYYY-MM-DD, Asia/Jakarta).")] = None,
    period_to: Annotated[BoundedDate | None, Query(alias="to", description="Last day of receipt, included.")] = None,
) -> ComplaintStats:
    """Public figures: complaints by kecamatan, status and month; small counts shown as "<3".

    The public asks for a kecamatan or a larger area, and gets whole calendar months (the answer's
    `from` and `to` say which); complaint handlers and admins get any area and any days.
    """
    return await stats.stats(session, area=area, period_from=period_from, period_to=period_to, detailed=stats.sees_detailed_stats(principal))


@router.get("/track/{receipt}", response_model=ComplaintTracking, responses=problem_responses(404, 422, 429), dependencies=[WRITES])
async def track_complaint(receipt: Receipt, session: SessionDep) -> ComplaintTracking:
    """The status of a complaint and the city's replies, for whoever holds the receipt."""
    return await service.track(session, receipt=receipt)


@router.post("/track/{receipt}/messages", response_model=ComplaintTracking, status_code=201, responses=problem_responses(404, 409, 422, 429))
async def add_message(receipt: Receipt, data: MessageCreate, caller: PublicWriteLimit, session: SessionDep) -> ComplaintTracking:
    """The reporter adds information to their complaint."""
    return await service.add_message(session, receipt=receipt, data=data, actor=caller)


@router.get("", response_model=Page[ComplaintRead], responses=problem_responses(401, 403, 422))
async def list_complaints(
    principal: HandlerDep,
    session: SessionDep,
    page: PageDep,
    status: ComplaintStatus | None = None,
    area: AreaQuery = None,
    overdue: Annotated[bool | None, Query(description="true: the overdue list (no reply, past the deadline).")] = None,
    handler_id: int | None = None,
) -> Page[ComplaintRead]:
    """Complaints for handlers, filtered by status, area, handler or overdue; never who reported them."""
    items, next_cursor = await service.list_complaints(
        session, principal=principal, page=page, status=status, area=area, overdue=overdue, handler_id=handler_id
    )
    return Page(items=items, next_cursor=next_cursor)


@router.get("/{complaint_id}", response_model=ComplaintDetail, responses=problem_responses(401, 404, 422))
async def get_complaint(complaint_id: IdPath, principal: ComplaintHandlerDep, session: SessionDep) -> ComplaintDetail:
    """One complaint with its log and sanction."""
    return await service.get_complaint(session, complaint_id=complaint_id, principal=principal)


@router.patch("/{complaint_id}", response_model=ComplaintDetail, responses=problem_responses(401, 404, 422))
async def update_complaint(complaint_id: IdPath, data: ComplaintUpdate, principal: ComplaintHandlerDep, session: SessionDep) -> ComplaintDetail:
    """Assign a handler, or name the operator the complaint is about."""
    return await service.update_complaint(session, complaint_id=complaint_id, data=data, actor=principal)


@router.post("/{complaint_id}/transitions", response_model=ComplaintDetail, responses=problem_responses(401, 404, 409, 422))
async def transition_complaint(complaint_id: IdPath, data: TransitionCreate, principal: ComplaintHandlerDep, session: SessionDep) -> ComplaintDetail:
    """Move the complaint one step along its workflow, with a note."""
    return await flows.transition_complaint(session, complaint_id=complaint_id, data=data, actor=principal)


@router.post("/{complaint_id}/replies", response_model=ComplaintDetail, status_code=201, responses=problem_responses(401, 404, 422))
async def reply_to_complaint(complaint_id: IdPath, data: ReplyCreate, principal: ComplaintHandlerDep, session: SessionDep) -> ComplaintDetail:
    """A public reply, shown to the reporter on the tracking page."""
    return await flows.reply_to_complaint(session, complaint_id=complaint_id, data=data, actor=principal)


@router.post("/{complaint_id}/notes", response_model=ComplaintDetail, status_code=201, responses=problem_responses(401, 404, 422))
async def note_on_complaint(complaint_id: IdPath, data: NoteCreate, principal: ComplaintHandlerDep, session: SessionDep) -> ComplaintDetail:
    """An internal note for the handlers, without a workflow step; never shown to the reporter."""
    return await service.add_note(session, complaint_id=complaint_id, data=data, actor=principal)


@router.post("/{complaint_id}/sanction", response_model=SanctionRead, status_code=201, responses=problem_responses(401, 404, 409, 422))
async def record_sanction(complaint_id: IdPath, data: SanctionCreate, principal: ComplaintHandlerDep, session: SessionDep) -> SanctionRead:
    """Record the sanction of a substantiated complaint; suspension and removal change the operator's status."""
    return await service.record_sanction(session, complaint_id=complaint_id, data=data, actor=principal)


@router.post("/{complaint_id}/reporter", response_model=ReporterRead, responses=problem_responses(401, 403, 404, 422))
async def open_reporter(complaint_id: IdPath, data: ReporterDisclosure, principal: ComplaintHandlerDep, session: SessionDep) -> ReporterRead:
    """Admins only: open the reporter's name and contact, giving a reason (audited)."""
    return await service.open_reporter(session, complaint_id=complaint_id, reason=data.reason, actor=principal)
