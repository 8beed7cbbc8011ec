"""Who may call the notifications endpoints: webhooks are the admins'; opting in and resending are public."""

from api.notifications import service
from api.notifications.schemas import WebhookCreate
from api.pagination import PageParams
from api.principal import ANONYMOUS, SYSTEM
from api.queues import service as queues
from api.queues.schemas import WalkIn
from tests.access import CALLERS, Case, Request, admin_only, public_read
from tests.services.factories import make_office

WEBHOOKS = "/api/v1/webhooks"
ONE = WEBHOOKS + "/{subscription_id}"
PUBLIC_URL = "https://93.184.216.34/hook"  # a literal public address: no DNS needed


async def new_webhook(_) -> Request:
    return Request(json={"url": PUBLIC_URL, "events": ["ticket.called"], "description": "matrix"})


async def a_webhook(session) -> Request:
    subscription, _ = await service.create_subscription(session, data=WebhookCreate(url=PUBLIC_URL, events=["ticket.called"]), actor=SYSTEM)
    return Request(path_params={"subscription_id": subscription.id})


async def a_delivery(session) -> Request:
    request = await a_webhook(session)
    event = await service.emit(session, type="ticket.called", payload={"ticket_id": 1})
    deliveries, _ = await service.list_deliveries(session, subscription_id=request.path_params["subscription_id"], page=PageParams())
    assert deliveries and deliveries[0].event_id == event.id
    return Request(path_params={"delivery_id": deliveries[0].id})


async def a_ticket(session) -> Request:
    point = await make_office(session, area="36.74.01")
    issued = await queues.take_ticket(session, point_id=point.id, data=WalkIn(), actor=ANONYMOUS)
    return Request(path_params={"ticket_id": issued["id"]}, json={"phone": "081277778888", "consent": True, "code": issued["code"]}, service_point_id=point.id)


async def a_ticket_push(session) -> Request:
    request = await a_ticket(session)
    code = request.json["code"]
    request.json = {"endpoint": "https://push.example.com/send/abc", "keys": {"p256dh": "B" + "A" * 86, "auth": "AAAAAAAAAAAAAAAAAAAAAA"}, "code": code}
    return request


async def resend(_) -> Request:
    return Request(json={"phone": "081277778888"})


CASES = [
    admin_only("POST", WEBHOOKS, 201, new_webhook),
    admin_only("GET", WEBHOOKS, 200),
    admin_only("GET", ONE, 200, a_webhook),
    admin_only("DELETE", ONE, 204, a_webhook),
    admin_only("POST", ONE + "/enable", 200, a_webhook),
    admin_only("GET", ONE + "/deliveries", 200, a_webhook),
    admin_only("POST", WEBHOOKS + "/deliveries/{delivery_id}/redeliver", 200, a_delivery),
    Case("POST", "/api/v1/notifications/resend-code", expect=dict.fromkeys(CALLERS, 202), setup=resend, note="public; same answer for any number"),
    public_read("GET", "/api/v1/notifications/push-key"),
    Case("POST", "/api/v1/tickets/{ticket_id}/notify", expect=dict.fromkeys(CALLERS, 204), setup=a_ticket, note="public: the ticket page"),
    Case("POST", "/api/v1/tickets/{ticket_id}/push", expect=dict.fromkeys(CALLERS, 204), setup=a_ticket_push, note="public: the ticket page"),
]
