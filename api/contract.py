"""The API's contract with generated clients: what the OpenAPI document declares beyond FastAPI's defaults.

- `schema_ref(Model)`: a `$ref` into `#/components/schemas` for hand-written request bodies
  (`openapi_extra`), with the model registered there (no dangling `#/$defs/...`).
- `CSV_FILE`: a CSV request body as file content (`format: binary`), which generators map to a file.
- `reject_unknown_query`: a dependency on every API route; a query parameter the route does not
  declare is a 422 problem (`?dryRun=true` must not write an import, `?areaa=` must not return
  everything).
- `install_contract(app)`: operation ids from route function names, `servers`, the registered
  schemas in the document, and what every operation shares: the response headers it sends
  (`X-Request-ID` on every answer, `Retry-After` on 429/503, `RateLimit-Policy` and `RateLimit` on
  every answer of a rate-limited operation (one that may answer 429), `Deprecation` and `Sunset`
  where a deprecated parameter or field may be used, `ETag` where a 304 is possible) and
  descriptions for fields that mean the same everywhere (`FIELD_DESCRIPTIONS`), for pages
  (`Page_*`) and enums, where a model does not give its own.
- `response_headers(status, *names)`: a `responses=` entry documenting headers from `HEADERS`.
"""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel

from api.errors import RuleViolation, field_problem

REF_TEMPLATE = "#/components/schemas/{model}"
_REGISTERED: dict[str, type[BaseModel]] = {}

CSV_FILE: dict[str, Any] = {"type": "string", "format": "binary", "description": "A CSV file (UTF-8, comma or semicolon separated, header row first)."}


def schema_ref(model: type[BaseModel]) -> dict[str, str]:
    """`{"$ref": "#/components/schemas/<Model>"}`, with the model added to the document's components."""
    _REGISTERED[model.__name__] = model
    return {"$ref": REF_TEMPLATE.format(model=model.__name__)}


def _query_names(dependant: Dependant) -> set[str]:
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def _declared_query(route: APIRoute) -> frozenset[str]:
    cached = getattr(route, "_rekam_query_names", None)
    if cached is None:
        cached = frozenset(_query_names(route.dependant))
        route._rekam_query_names = cached  # type: ignore[attr-defined]  # memo per route
    return cached


async def reject_unknown_query(request: Request) -> None:
    """422 when the request carries a query parameter its route does not declare."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    unknown = sorted(set(request.query_params.keys()) - _declared_query(route))
    if unknown:
        errors = [field_problem(name, location="query", code="unknown_parameter") for name in unknown]
        raise RuleViolation(errors=errors, code="validation.unknown_parameter", params={"names": ", ".join(unknown)})


HEADERS: dict[str, dict[str, Any]] = {
    "X-Request-ID": {
        "description": "The request's id (yours, when you sent a valid `X-Request-ID`); the `instance` of a problem. Quote it when reporting one.",
        "schema": {"type": "string"},
    },
    "Retry-After": {"description": "Seconds to wait before trying again.", "schema": {"type": "integer"}},
    "ETag": {"description": "The answer's version; send it as `If-None-Match` to get a 304 while it has not changed.", "schema": {"type": "string"}},
    "Location": {"description": "The address of what the request created.", "schema": {"type": "string"}},
    "RateLimit-Policy": {
        "description": "The rate limits this request was counted against (draft-ietf-httpapi-ratelimit-headers, a structured-field list): "
        'each a policy named by its bucket with its quota `q` and window `w` in seconds, e.g. `"public-write";q=10;w=60`. '
        "Not sent when no limit applies (signed-in staff and API keys are exempt from the public ones).",
        "schema": {"type": "string"},
    },
    "RateLimit": {
        "description": 'For each policy in `RateLimit-Policy`, the quota left `r` and the seconds `t` until the window resets, e.g. `"public-write";r=9;t=42`.',
        "schema": {"type": "string"},
    },
    "Deprecation": {
        "description": "Sent when the request used, or the answer still carries, a renamed field or parameter (RFC 9745, `@<epoch seconds>`: "
        'deprecated since then); with `Sunset` (when the old names go) and `Link: <...>; rel="deprecation"` (docs/api.md, Deprecations).',
        "schema": {"type": "string"},
    },
    "Sunset": {"description": "When the deprecated names stop being accepted and sent (RFC 8594, an HTTP date).", "schema": {"type": "string"}},
}


def response_headers(status: int, *names: str) -> dict[int | str, dict[str, Any]]:
    """`responses=` entry documenting that the `status` answer carries the `HEADERS` named."""
    return {status: {"headers": {name: HEADERS[name] for name in names}}}


# Fields that mean the same in every schema (docs/api.md's naming rule); a model's own description wins.
FIELD_DESCRIPTIONS: dict[str, str] = {
    "id": "The resource's id.",
    "area": "An area's code (BPS/Kemendagri: province, kota, kecamatan, kelurahan, RW, RT).",
    "area_code": "An area's code.",
    "code": "The code identifying this item.",
    "name": "Its name, as shown to people.",
    "status": "The current status.",
    "service_point_id": "The service point's id.",
    "service_point": "The service point's id (to be renamed `service_point_id`).",
    "device_id": "The device's (recording kit's) id.",
    "device": "The device's id (to be renamed `device_id`).",
    "device_ids": "Ids of devices.",
    "operator_id": "The operator's (petugas') id.",
    "operator_ids": "Ids of operators (petugas).",
    "handler_id": "The id of the staff user handling it.",
    "owner_id": "The id of the user who owns it.",
    "campaign_id": "The campaign's id.",
    "import_id": "The import of tallies that wrote it, if any.",
    "ticket_id": "The queue ticket's id.",
    "kind": "What kind it is.",
    "reason": "Why, in a few words.",
    "note": "A free-text note.",
    "notes": "Free-text notes.",
    "text": "The message's text.",
    "description": "A free-text description.",
    "date": "A calendar day (YYYY-MM-DD, Asia/Jakarta).",
    "day": "A calendar day (YYYY-MM-DD, Asia/Jakarta; to be renamed `date`).",
    "from": "The first day (inclusive).",
    "to": "The last day (inclusive); null for open-ended.",
    "start": "Start time (HH:MM, local).",
    "end": "End time (HH:MM, local).",
    "slot_start": "The slot's start (HH:MM, local).",
    "slot_end": "The slot's end (HH:MM, local).",
    "window_start": "Start of the visit window (HH:MM, local).",
    "window_end": "End of the visit window (HH:MM, local).",
    "event_start": "A one-day event's opening time (HH:MM, local).",
    "event_end": "A one-day event's closing time (HH:MM, local).",
    "event_date": "A one-day event's date.",
    "at": "When it happened (UTC).",
    "as_of": "The day the figure is for.",
    "created_at": "When it was created (UTC).",
    "updated_at": "When it last changed (UTC).",
    "received_at": "When it was received (UTC).",
    "closed_at": "When it was closed (UTC); null while open.",
    "revoked_at": "When it was revoked (UTC); null while valid.",
    "expires_at": "When it expires (UTC); null for never.",
    "last_used_at": "When it was last used (UTC); null if never.",
    "first_response_at": "When the city first answered (UTC).",
    "booked_at": "When it was booked (UTC).",
    "arrived_at": "When the resident checked in (UTC).",
    "called_at": "When it was called to a counter (UTC).",
    "started_at": "When service started (UTC).",
    "ended_at": "When it ended (UTC).",
    "due_at": "When the resident is expected (UTC).",
    "due_on": "The day it is due.",
    "requested_on": "The day it was requested.",
    "occurred_on": "The day it happened.",
    "visit_date": "The day of the home visit.",
    "effective_from": "The first day it applies.",
    "return_due": "When a borrowed device must be returned.",
    "start_date": "The campaign's first day.",
    "deadline": "The campaign's last day.",
    "role": "The role: what the account may do.",
    "active": "false: switched off (kept for history).",
    "target": "The number of residents to record.",
    "population": "Residents (BPS figure); null if unknown.",
    "level": "The area's level.",
    "parent_code": "The parent area's code; null for the top.",
    "address": "The street address.",
    "phone": "A phone number.",
    "latitude": "Latitude (WGS 84).",
    "longitude": "Longitude (WGS 84).",
    "counters": "How many counters serve at once.",
    "counter": "The counter number.",
    "number": "The number on the ticket.",
    "priority": "How urgent it is; see the enum.",
    "opening_hours": "Opening hours per weekday: lists of [start, end] (HH:MM).",
    "hours": "Opening windows of the day: lists of [start, end] (HH:MM).",
    "service_minutes": "Minutes one recording takes at this point.",
    "daily_capacity": "Recordings a device can do in a day.",
    "serial": "The device's serial number.",
    "staff_number": "The operator's staff number (NIP).",
    "username": "The sign-in name.",
    "display_name": "The name shown for the user.",
    "password": "The password (at least 10 characters; never returned).",
    "owner": "Who owns it (for a device: who paid for it; for an API key: the user responsible).",
    "source": "Where the figure came from.",
    "count": "How many.",
    "remaining": "Still to record (target minus recorded, at least 0).",
    "recorded": "Recorded so far.",
    "actor_kind": "Who did it: a user, an API key, the system.",
    "actor_name": "The user's name, `key:<name>` or `system`.",
    "actor_id": "The id of the user or API key who did it.",
    "tracking_code": "The code a resident uses to follow the request.",
    "nik": "The resident's NIK (16 digits).",
    "nik_masked": "The NIK with most digits hidden.",
    "phone_masked": "The phone number with most digits hidden.",
    "place": "Where it happened, in words.",
    "amount": "Rupiah asked or paid.",
    "finding": "The handler's finding.",
    "from_status": "The status before.",
    "to_status": "The status after.",
    "old_count": "The count before; null for a creation.",
    "new_count": "The count after; null for a deletion.",
    "cancelled_appointments": "Appointments cancelled by this change (their residents are told).",
    "closed": "true: closed all day; false: open only in `hours`.",
    "booked": "How many are booked.",
    "recalls": "How many times it was called again.",
    "prefix": "The key's first characters, to recognise it (the key itself is shown once).",
    "lender": "Who lent the device.",
    "added_for_campaign": "true: taken on for this campaign.",
    "opens_weekends": "Whether service points open on weekends by default.",
    "root_area": "The code of the campaign's area (its root).",
    "timezone": "The campaign's time zone (IANA).",
    "is_demo": "true: a demo campaign with made-up figures.",
    "preferred_dates": "Days the resident prefers.",
    "operator_description": "How the resident describes the operator, when no id is known.",
    "children_sum": "The sum over the area's children.",
    "cumulative": "Recorded in total up to `as_of`.",
    "method": "How it was computed.",
    "active_devices": "Devices in service.",
    "service_days_left": "Service days left until the deadline.",
    "kecamatan": "Per kecamatan.",
    "items": "This page's items.",
    "next_cursor": "Pass as `cursor` for the next page; null on the last page.",
    "client": "The client address it came from.",
    "request_id": "The request's id (`X-Request-ID`).",
}


# Fields whose meaning is particular to one schema, and schemas without a docstring of their own.
SCHEMA_FIELD_DESCRIPTIONS: dict[str, str] = {
    "CampaignRead.what_to_bring": "What residents should bring to be recorded, shown on every service point.",
    "ComplaintCreate.notify_by": "How replies are sent to `notify_phone`: `whatsapp` or `sms`.",
    "ContactCreate.channel": "How messages are sent: `whatsapp` or `sms`.",
    "DeliveryRead.event_id": "The event's id in the outbox.",
    "DeliveryRead.event_uid": "The event's public id (the `webhook-id` header).",
    "DeliveryRead.event_type": "The event type, e.g. `ticket.called`.",
    "DeliveryRead.subscription_id": "The webhook subscription it is sent to.",
    "DeliveryRead.attempts": "How many times it was sent.",
    "DeliveryRead.next_attempt_at": "When it is sent again; null once finished.",
    "DeliveryRead.last_attempt_at": "When it was last sent.",
    "DeliveryRead.last_status_code": "The receiver's last HTTP status; null if it did not answer.",
    "DeliveryRead.last_error": "Why the last attempt failed, if it did.",
    "DeliveryRead.delivered_at": "When the receiver accepted it (2xx); null until then.",
    "HomeVisitRead.merged": "Later submissions for the same resident, kept with this request (staff only).",
    "MergedRequestRead.consented_at": "When that requester consented to the processing of their data.",
    "NextOpening.time": "Local opening time, HH:MM.",
    "PolicyUpdate.operational_counts_official": "True: queue and home-visit counts are official figures (a city without a recording-system export).",
    "PushKeys.p256dh": "The subscription's public key (base64url).",
    "PushKeys.auth": "The subscription's authentication secret (base64url).",
    "PushSubscriptionIn.endpoint": "The push service URL the browser gave.",
    "PushSubscriptionIn.keys": "The subscription's keys.",
    "PushSubscriptionIn.expirationTime": "When the browser's subscription expires (milliseconds since the epoch), if it says.",
    "TicketContactCreate.channel": "How messages are sent: `whatsapp` or `sms`.",
    "TicketPushIn.endpoint": "The push service URL the browser gave.",
    "TicketPushIn.keys": "The subscription's keys.",
    "TicketPushIn.expirationTime": "When the browser's subscription expires (milliseconds since the epoch), if it says.",
    "ResendAnswer.detail": "A sentence for the resident.",
    "TicketStatusRead.point_name": "The service point's name.",
    "TicketStatusRead.estimated_wait_minutes": "Estimated minutes until the ticket is called; 0 when nobody is before it.",
    "WebhookCreated.url": "Where deliveries are POSTed (https).",
    "WebhookCreated.events": "The event types it receives.",
    "WebhookCreated.disabled_reason": "Why it was disabled after persistent failures; null while active.",
    "WebhookCreated.disabled_at": "When it was disabled; null while active.",
    "WebhookCreated.consecutive_failures": "Deliveries that failed in a row (reset by a success).",
    "WebhookRead.url": "Where deliveries are POSTed (https).",
    "WebhookRead.events": "The event types it receives.",
    "WebhookRead.disabled_reason": "Why it was disabled after persistent failures; null while active.",
    "WebhookRead.disabled_at": "When it was disabled; null while active.",
    "WebhookRead.consecutive_failures": "Deliveries that failed in a row (reset by a success).",
    "AppointmentRead.cancel_reason": "Why it was cancelled; null unless cancelled.",
    "ApportionRequest.parent": "The area whose target is split over its children.",
    "AuditEntryRead.action": "What was done (`create`, `update`, `delete`, ...).",
    "AuditEntryRead.entity": "What kind of record it was done to.",
    "AuditEntryRead.entity_id": "The record's id.",
    "AuditEntryRead.before": "The record's fields before (null for a creation).",
    "AuditEntryRead.after": "The record's fields after (null for a deletion).",
    "Board.open_now": "Whether the point is open at this moment.",
    "Board.waiting": "Tickets waiting to be called.",
    "Board.now_serving": "What each counter is doing now.",
    "Board.served": "Residents served today.",
    "Board.no_shows": "Tickets called today whose resident did not come.",
    "Board.median_wait_minutes": "Median wait today, in minutes; null before anyone was called.",
    "Board.p90_wait_minutes": "90th percentile of today's waits, in minutes.",
    "Board.median_service_minutes": "Median time at the counter today, in minutes.",
    "Board.active_counters": "Counters serving today.",
    "Body_token.grant_type": "`password` (OAuth2 password flow).",
    "Body_token.scope": "Not used.",
    "Body_token.client_id": "Not used.",
    "Body_token.client_secret": "Not used.",
    "ComplaintDetail.entries": "The complaint's conversation, notes and status changes, oldest first.",
    "ComplaintDetail.sanction": "The sanction recorded, if any.",
    "ComplaintTracking.received_on": "The day it was received.",
    "ComplaintTracking.conversation": "The messages between the reporter and the city, oldest first.",
    "ConversationLine.author": "Who wrote it: the city or the reporter.",
    "CountByMonth.month": "The month (YYYY-MM).",
    "DailySeries.days": "One point per day.",
    "DayPlan.stops": "The visits of the day, in order.",
    "DayPlanStop.order": "The stop's place in the day (1 first).",
    "DayPlanStop.kelurahan": "The kelurahan's code.",
    "DayPlanStop.kelurahan_name": "The kelurahan's name.",
    "DayPlanStop.rw": "The RW's code, if known.",
    "DayPlanStop.rt": "The RT's code, if known.",
    "Discrepancy.reported": "The figure reported for the area.",
    "Discrepancy.children_reporting": "Children of the area with a figure.",
    "Discrepancy.children_total": "Children of the area.",
    "Health.status": "`ok` when the database answers.",
    "Health.database": "The database backend (`sqlite`, `postgresql`).",
    "Health.revision": "The database schema's migration revision.",
    "Health.version": "Rekam's version.",
    "HomeVisitRead.consented_at": "When the resident consented to the use of their data (UTC).",
    "HomeVisitRead.history": "Every status change, oldest first.",
    "HomeVisitStats.counts": "Requests per status.",
    "HomeVisitStats.visited": "Requests visited.",
    "HomeVisitStats.median_days_to_visit": "Median days from request to visit; null before any visit.",
    "HomeVisitStats.overdue_after_days": "A request not visited after this many days is overdue.",
    "HomeVisitStats.overdue_count": "Requests overdue now.",
    "HomeVisitSummary.overdue": "Not visited within the allowed days.",
    "KecamatanCapacity.operators": "Operators assigned.",
    "KecamatanCapacity.capacity_per_day": "Recordings a day the devices and operators allow.",
    "KecamatanCapacity.feasible": "Whether the remaining target fits before the deadline.",
    "KecamatanSummary.by_kind": "Devices per kind.",
    "KecamatanSummary.by_owner": "Devices per owner.",
    "PlanApplied.plan": "The plan that was applied.",
    "PlanApplied.allocations": "Device allocations written.",
    "PlanApplied.assignments": "Operator assignments written.",
    "PlanKecamatan.capacity_before": "Recordings a day before the plan.",
    "PlanKecamatan.capacity_after": "Recordings a day after the plan.",
    "PlanKecamatan.finish_before": "The day the target would be reached before the plan; null if never.",
    "PlanKecamatan.finish_after": "The day the target would be reached after the plan; null if never.",
    "PlanKecamatan.feasible_before": "Whether the target is reached by the deadline before the plan.",
    "PlanKecamatan.feasible_after": "Whether the target is reached by the deadline after the plan.",
    "PlanMove.label": "The device's serial or the operator's name.",
    "PlanRead.moves": "The moves proposed.",
    "PlanRead.latest_finish_before": "The last kecamatan's finish before the plan; null if one never finishes.",
    "PlanRead.latest_finish_after": "The last kecamatan's finish after the plan; null if one never finishes.",
    "ProgressNode.target_source": "Where the target came from.",
    "ProgressNode.children": "The area's children (to the depth asked).",
    "ReporterRead.reporter_name": "The reporter's name (disclosed under audit).",
    "ReporterRead.reporter_contact": "The reporter's contact (disclosed under audit).",
    "SanctionRead.complaint_id": "The complaint it follows from.",
    "SanctionRead.recorded_by_id": "The user who recorded it.",
    "SanctionRead.recorded_at": "When it was recorded (UTC).",
    "ScheduleDay.points": "The points open that day.",
    "ScheduleRequest.operator": "The operator (petugas) who will visit.",
    "ScheduleRequest.window": "The time window given to the resident.",
    "Slot.capacity": "Appointments the slot takes.",
    "Slot.available": "Appointments still free.",
    "TargetRead.basis": "What the target is based on (e.g. a census), if stated.",
    "TargetsRead.inconsistencies": "Areas whose target differs from the sum of their children's.",
    "TicketDetail.name_on_ticket": "The name given when the ticket was taken (staff only).",
    "TicketIssued.estimated_wait_minutes": "Estimated wait, in minutes.",
    "TokenRead.access_token": "The bearer token: `Authorization: Bearer <token>`.",
    "TokenRead.token_type": "`bearer`.",
    "TargetsPut.targets": "One target per area.",
    "TalliesRejected.title": "A short summary of the problem.",
    "TalliesRejected.detail": "What went wrong.",
}
SCHEMA_DESCRIPTIONS: dict[str, str] = {
    "DeliveryRead": "One delivery of an event to a webhook subscription: its state, attempts and the receiver's last answer.",
    "NextOpening": "When a closed service point opens next (local date and time).",
    "PolicyRead": "How a campaign counts its sources of recordings (api/tallies/precedence.py).",
    "PolicyUpdate": "A change to how a campaign counts its sources of recordings.",
    "PushKey": "The server's public VAPID key, for a browser's push subscription.",
    "PushKeys": "The keys of a browser's push subscription (Web Push).",
    "ReconciliationRead": "Official figures next to what the queues and home visits counted, per area and day.",
    "ReconciliationRow": "One area and day: the official figure, the operational counts under it, and the difference.",
    "ResendAnswer": 'The answer to "kirim ulang kode": the same whether or not the number is known.',
    "ResendRequest": "A phone number whose open requests' codes are sent to it again.",
    "WebhookCreate": "A new webhook subscription: an https URL and the event types it receives.",
    "WebhookCreated": "A new webhook subscription; `secret` (for verifying signatures) is shown only in this answer.",
    "AllocationRead": "A device placed at a service point or area for a period.",
    "AllocationSummary": "Devices per kecamatan on a day.",
    "ApiKeyCreate": "A new API key for a script.",
    "ApiKeyCreated": "A new API key; `key` is shown only in this answer.",
    "ApiKeyRead": "An API key (never the key itself).",
    "ApportionRequest": "Split an area's target over its children.",
    "AreaDetail": "An area with its details.",
    "AreaRead": "An area (province, kota, kecamatan, kelurahan, RW, RT).",
    "AreaUpdate": "Changes to an area.",
    "AssignmentRead": "An operator assigned to a service point or area for a period.",
    "AssignmentsPut": "The devices and operators of a service point.",
    "AssignmentsRead": "The devices and operators of a service point.",
    "AuditEntryRead": "One audited change: who did what to which record, before and after.",
    "Body_token": "Sign-in form (OAuth2 password flow).",
    "BookingCreate": "An appointment to book: a day and a slot.",
    "CallNext": "Call the next ticket to a counter.",
    "CampaignCreate": "A new recording campaign.",
    "CampaignRead": "A recording campaign: its area, dates and target.",
    "CapacityRead": "Whether each kecamatan can reach its target by the deadline.",
    "ClosureCreated": "A closure of a service point, and the appointments it cancelled.",
    "ClosureRead": "A day a service point is closed or has shorter hours.",
    "ComplaintDetail": "A complaint as its handler sees it, with its conversation.",
    "ComplaintReceipt": "The answer to a new complaint: keep the receipt.",
    "ConversationLine": "One message between the reporter and the city.",
    "CountByArea": "A count for one area.",
    "CountByMonth": "A count for one month.",
    "CountByStatus": "A count for one status.",
    "CounterNow": "What one counter is doing now.",
    "DailyPoint": "Recordings on one day.",
    "DailySeries": "Recordings per day in an area.",
    "DayPlan": "A device's home visits of one day.",
    "DeviceCreate": "A new recording device (kit).",
    "DeviceRead": "A recording device (kit).",
    "DeviceUpdate": "Changes to a device.",
    "Discrepancy": "An area whose reported figure differs from the sum of its children's.",
    "EntryRead": "One entry of a complaint: a message, a note or a status change.",
    "ExtraDevice": "Devices that could be added, for a plan.",
    "FailedSignIn": "A failed sign-in to an account.",
    "Health": "Whether the service and its database answer.",
    "HomeVisitEventRead": "A status change of a home visit.",
    "HomeVisitReceipt": "The answer to a new home-visit request: keep the tracking code.",
    "HomeVisitStats": "Home-visit requests in an area, by status and speed.",
    "KecamatanCapacity": "A kecamatan's recording capacity against its remaining target.",
    "KecamatanSummary": "A kecamatan's devices.",
    "Me": "Who the caller is.",
    "MessageCreate": "A message from the reporter.",
    "NoteCreate": "An internal note on a complaint (staff only).",
    "OperatorCreate": "A new operator (petugas).",
    "OperatorRead": "An operator (petugas).",
    "OperatorUpdate": "Changes to an operator.",
    "PlanApplied": "A plan of moves, applied.",
    "PlanKecamatan": "One kecamatan before and after a plan.",
    "PlanMove": "One proposed move of a device or an operator.",
    "PlanPlace": "Where a device or operator is: an area or a service point.",
    "PlanRead": "A plan of moves of devices and operators to reach targets by the deadline.",
    "PlanRequest": "What a plan may move.",
    "ProgressNode": "An area's target and recordings so far, with its children.",
    "ReplyCreate": "A reply from the city to the reporter.",
    "ReporterDisclosure": "Why the reporter's identity is opened (audited).",
    "ReporterRead": "The reporter's identity (audited).",
    "SanctionCreate": "A sanction on an operator after a complaint.",
    "SanctionRead": "A sanction recorded on an operator.",
    "ScheduleDay": "The service points open on a day.",
    "SchedulePoint": "A service point's hours on a day.",
    "ScheduleRequest": "Schedule a home visit: a day, an operator and a window.",
    "ServicePointRead": "A place where residents are recorded.",
    "ServicePointUpdate": "Changes to a service point.",
    "ServicePointUpdated": "A service point after a change, and the appointments it cancelled.",
    "Slot": "An appointment slot on a day.",
    "SnapshotCreate": "A cumulative figure reported for an area on a day.",
    "SnapshotRead": "A cumulative figure reported for an area on a day.",
    "StatusCount": "A count for one status.",
    "TallyRead": "One tally: recordings in an area on a day (at a point, by a device).",
    "TargetRead": "An area's target.",
    "TargetsRead": "The campaign's targets, and where they disagree.",
    "TicketDetail": "A queue ticket as staff see it.",
    "TicketIssued": "A new queue ticket: its number and the expected wait.",
    "TokenRead": "A bearer token.",
    "TransitionCreate": "Move a complaint to another status.",
    "UserCreate": "A new staff account.",
    "UserRead": "A staff account.",
    "VisitWindow": "A time window on a day.",
    "TargetIn": "One area's target.",
    "TargetsPut": "The campaign's targets, replacing those sent.",
}


def operation_id(route: APIRoute) -> str:
    """The operation id of a route: its function's name (`post_tallies`), unique across the app."""
    return route.name


def install_contract(app: FastAPI) -> None:
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = generate()
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        for name, model in _REGISTERED.items():
            definition = model.model_json_schema(ref_template=REF_TEMPLATE)
            for defname, sub in definition.pop("$defs", {}).items():
                schemas.setdefault(defname, sub)
            schemas.setdefault(name, definition)
        schema.setdefault("servers", [{"url": "/", "description": "This server (paths carry the /api/v1 prefix)."}])
        _document_headers(schema)
        _mark_optional_credentials(app, schema)
        _describe(schemas)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend the OpenAPI document


def _requires_a_role(dependant: Dependant) -> bool:
    return any(getattr(d.call, "__name__", "").startswith("require_") or _requires_a_role(d) for d in dependant.dependencies)


def _mark_optional_credentials(app: FastAPI, schema: dict[str, Any]) -> None:
    """Operations anyone may call list `{}` first among their security requirements: credentials
    are optional there (checked when sent), so a generated client may call them anonymously."""
    paths = schema.get("paths", {})
    for context in iter_route_contexts(app.routes):  # the routes of included routers, with their full paths
        route = context.original_route
        if not isinstance(route, APIRoute) or _requires_a_role(route.dependant):
            continue
        for method in route.methods or ():
            operation = paths.get(context.path_format, {}).get(method.lower())
            if operation is not None and operation.get("security") and {} not in operation["security"]:
                operation["security"] = [{}, *operation["security"]]


def _mentions_deprecated(node: Any, schemas: dict[str, Any], seen: set[str]) -> bool:
    """Whether a piece of the document has `deprecated: true`, following `$ref`s into the components."""
    if isinstance(node, dict):
        if node.get("deprecated") is True:
            return True
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            name = ref.rsplit("/", 1)[1]
            if name not in seen:
                seen.add(name)
                if _mentions_deprecated(schemas.get(name), schemas, seen):
                    return True
        return any(_mentions_deprecated(value, schemas, seen) for key, value in node.items() if key != "$ref")
    if isinstance(node, list):
        return any(_mentions_deprecated(value, schemas, seen) for value in node)
    return False


def _document_headers(schema: dict[str, Any]) -> None:
    schemas = schema.get("components", {}).get("schemas", {})
    for item in schema.get("paths", {}).values():
        for operation in item.values():
            responses = operation.get("responses", {})
            deprecated = _mentions_deprecated({k: v for k, v in operation.items() if k != "responses"}, schemas, set()) or any(
                _mentions_deprecated(r.get("content"), schemas, set()) for s, r in responses.items() if s.startswith("2")
            )
            for status, response in responses.items():
                headers = response.setdefault("headers", {})
                headers.setdefault("X-Request-ID", HEADERS["X-Request-ID"])
                if status in ("429", "503"):
                    headers.setdefault("Retry-After", HEADERS["Retry-After"])
                if deprecated:  # old names still accepted or sent (api/deprecation.py)
                    headers.setdefault("Deprecation", HEADERS["Deprecation"])
                    headers.setdefault("Sunset", HEADERS["Sunset"])
                if "429" in responses:  # a rate-limited operation (api/ratelimit.py)
                    headers.setdefault("RateLimit-Policy", HEADERS["RateLimit-Policy"])
                    headers.setdefault("RateLimit", HEADERS["RateLimit"])
                if "304" in responses and status in ("200", "304"):
                    headers.setdefault("ETag", HEADERS["ETag"])


def _describe(schemas: dict[str, Any]) -> None:
    for name, definition in schemas.items():
        if "enum" in definition and not definition.get("description"):
            definition["description"] = "One of: " + ", ".join(f"`{value}`" for value in definition["enum"]) + "."
        if not definition.get("description") and name in SCHEMA_DESCRIPTIONS:
            definition["description"] = SCHEMA_DESCRIPTIONS[name]
        if name.startswith("Page_") and not definition.get("description"):
            definition["description"] = f"A page of {name.removeprefix('Page_').rstrip('_')}: `items`, and `next_cursor` for the next page."
        for field, prop in definition.get("properties", {}).items():
            if not prop.get("description"):
                text = SCHEMA_FIELD_DESCRIPTIONS.get(f"{name}.{field}") or FIELD_DESCRIPTIONS.get(field)
                if text:
                    prop["description"] = text
