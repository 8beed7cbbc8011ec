from typing import Annotated

from fastapi import APIRouter, Query, Response

from api import flows
from api.auth.dependencies import AdminDep, PublicWriteLimit
from api.db import WRITES, IdPath, SessionDep
from api.errors import problem_responses
from api.idempotency import CreatingRoute
from api.notifications import service
from api.notifications.models import DeliveryStatus
from api.notifications.schemas import DeliveryRead, PushKey, ResendAnswer, ResendRequest, WebhookCreate, WebhookCreated, WebhookRead
from api.notifications.webpush import vapid_key
from api.pagination import Page, PageDep

router = APIRouter(prefix="/webhooks", tags=["webhooks"], route_class=CreatingRoute)
push_router = APIRouter(prefix="/notifications", tags=["notifications"], route_class=CreatingRoute)


# A GET that may write: the key is made by the first request that asks for it.
@push_router.post("/resend-code", response_model=ResendAnswer, status_code=202, responses=problem_responses(422, 429))
async def resend_code(data: ResendRequest, caller: PublicWriteLimit, session: SessionDep) -> ResendAnswer:
    """ "Kirim ulang kode": the codes of the open requests this number was given for are sent to it again."""
    await flows.resend_codes(session, phone=data.phone)
    return ResendAnswer()


@push_router.get("/push-key", response_model=PushKey, dependencies=[WRITES])
async def push_key(session: SessionDep) -> PushKey:
    """The server's Web Push key (applicationServerKey), made on first use; public."""
    return PushKey(public_key=(await vapid_key(session)).public_key)


@router.post("", response_model=WebhookCreated, status_code=201, responses=problem_responses(401, 403, 422))
async def create_webhook(data: WebhookCreate, principal: AdminDep, session: SessionDep) -> WebhookCreated:
    """Subscribe an https endpoint to events; the signing secret is shown only in this answer."""
    subscription, secret = await service.create_subscription(session, data=data, actor=principal)
    return WebhookCreated(**WebhookRead.model_validate(subscription).model_dump(), secret=secret)


@router.get("", response_model=Page[WebhookRead], responses=problem_responses(401, 403, 422))
async def list_webhooks(principal: AdminDep, session: SessionDep, page: PageDep) -> Page[WebhookRead]:
    """Webhook subscriptions, with whether each is active and why not; never their secrets."""
    items, cursor = await service.list_subscriptions(session, page=page)
    return Page(items=[WebhookRead.model_validate(s) for s in items], next_cursor=cursor)


@router.get("/{subscription_id}", response_model=WebhookRead, responses=problem_responses(401, 403, 404, 422))
async def get_webhook(subscription_id: IdPath, principal: AdminDep, session: SessionDep) -> WebhookRead:
    """One webhook subscription."""
    return WebhookRead.model_validate(await service.get_subscription(session, subscription_id=subscription_id))


@router.delete("/{subscription_id}", status_code=204, responses=problem_responses(401, 403, 404, 422))
async def delete_webhook(subscription_id: IdPath, principal: AdminDep, session: SessionDep) -> Response:
    """Remove a subscription and its delivery log; nothing more is sent to it."""
    await service.delete_subscription(session, subscription_id=subscription_id, actor=principal)
    return Response(status_code=204)


@router.post("/{subscription_id}/enable", response_model=WebhookRead, responses=problem_responses(401, 403, 404, 422))
async def enable_webhook(subscription_id: IdPath, principal: AdminDep, session: SessionDep) -> WebhookRead:
    """Turn on a subscription that was disabled after persistent failures."""
    return WebhookRead.model_validate(await service.enable_subscription(session, subscription_id=subscription_id, actor=principal))


@router.get("/{subscription_id}/deliveries", response_model=Page[DeliveryRead], responses=problem_responses(401, 403, 404, 422))
async def list_webhook_deliveries(
    subscription_id: IdPath,
    principal: AdminDep,
    session: SessionDep,
    page: PageDep,
    status: Annotated[DeliveryStatus | None, Query(description="Only deliveries in this state.")] = None,
) -> Page[DeliveryRead]:
    """A subscription's delivery log, newest first: status, tries, last response code and error."""
    items, cursor = await service.list_deliveries(session, subscription_id=subscription_id, page=page, status=status)
    return Page(items=items, next_cursor=cursor)


@router.post("/deliveries/{delivery_id}/redeliver", response_model=DeliveryRead, responses=problem_responses(401, 403, 404, 409, 422))
async def redeliver_webhook(delivery_id: IdPath, principal: AdminDep, session: SessionDep) -> DeliveryRead:
    """Send a delivery again now, with the same webhook-id and a fresh round of retries."""
    return await service.redeliver(session, delivery_id=delivery_id, actor=principal)
