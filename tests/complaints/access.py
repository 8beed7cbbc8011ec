from api.auth.models import User
from api.complaints.models import ComplaintStatus
from tests.access import CALLERS, Case, Request, public_read
from tests.complaints.factories import REPORTER_CONTACT, REPORTER_NAME, complaint_body, make_complaint, make_operator
from tests.factories import make_service_point

COMPLAINTS = "/api/v1/complaints"
ONE = COMPLAINTS + "/{complaint_id}"
TRACK = COMPLAINTS + "/track/{receipt}"


def handlers(status: int) -> dict[str, int]:
    """Admins and handlers get `status`; anonymous 401; other staff 404, as if there were nothing."""
    return {**dict.fromkeys(CALLERS, 404), "anonymous": 401, "admin": status, "handler": status}


async def new_report(session) -> Request:
    point = await make_service_point(session, area="36.74.01")
    return Request(json=complaint_body(service_point_id=point.id, area=None, place=None), area="36.74.01", service_point_id=point.id)


async def a_complaint(session) -> Request:
    complaint = await make_complaint(session, reporter_name=REPORTER_NAME, reporter_contact=REPORTER_CONTACT)
    return Request(
        path_params={"complaint_id": complaint.id, "receipt": complaint.receipt}, area=complaint.area_code, service_point_id=complaint.service_point_id
    )


def with_body(body: dict, status: ComplaintStatus = ComplaintStatus.received, operator: bool = False):
    async def setup(session) -> Request:
        overrides = {"operator_id": (await make_operator(session)).id} if operator else {}
        complaint = await make_complaint(session, status=status, **overrides)
        return Request(path_params={"complaint_id": complaint.id}, json=body, area=complaint.area_code, service_point_id=complaint.service_point_id)

    return setup


async def assignment(session) -> Request:
    request = await with_body({})(session)
    handler = User(username="matrix.assignee", display_name="Assignee", password_hash="!", role="handler", active=True)
    session.add(handler)
    await session.flush()
    request.json = {"handler_id": handler.id}
    return request


async def disclosure(session) -> Request:
    request = await a_complaint(session)
    request.json = {"reason": "Pelapor perlu dihubungi untuk kesaksian."}
    return request


async def message(session) -> Request:
    request = await a_complaint(session)
    request.json = {"text": "Saya ingat petugasnya memakai rompi biru."}
    return request


CASES = [
    Case("POST", COMPLAINTS, expect=dict.fromkeys(CALLERS, 201), setup=new_report, note="public report"),
    public_read("GET", COMPLAINTS + "/stats"),
    public_read("GET", TRACK, a_complaint),
    Case("POST", TRACK + "/messages", expect=dict.fromkeys(CALLERS, 201), setup=message),
    Case("GET", COMPLAINTS, expect={"anonymous": 401, "admin": 200, "handler": 200}, default=403, note="the list: 403 for other staff"),
    Case("GET", ONE, expect=handlers(200), setup=a_complaint),
    Case("PATCH", ONE, expect=handlers(200), setup=assignment),
    Case("POST", ONE + "/transitions", expect=handlers(200), setup=with_body({"status": "investigating", "note": "Dimulai."})),
    Case("POST", ONE + "/replies", expect=handlers(201), setup=with_body({"text": "Sedang kami periksa."})),
    Case("POST", ONE + "/notes", expect=handlers(201), setup=with_body({"text": "Saksi sudah ditelepon."})),
    Case(
        "POST",
        ONE + "/sanction",
        expect=handlers(201),
        note="substantiated, operator named",
        setup=with_body({"kind": "suspension", "effective_from": "2099-01-01", "note": "Diskors."}, ComplaintStatus.substantiated, operator=True),
    ),
    Case("POST", ONE + "/reporter", expect={**handlers(200), "handler": 403}, note="admins only", setup=disclosure),
]
