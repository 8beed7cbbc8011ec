"""Every table, imported in one place so that Alembic and the tests see the whole schema."""

from api.areas.models import Area
from api.audit.models import AuditEntry
from api.auth.models import AccessToken, ApiKey, User
from api.campaigns.models import Campaign, Snapshot, Target
from api.complaints.models import Complaint, ComplaintEntry, ComplaintReporter, Sanction
from api.devices.models import Allocation, Device, Operator, OperatorAssignment
from api.idempotency import IdempotencyRecord
from api.notifications.models import NotificationEvent, NotificationKey, ResidentContact, ResidentMessage, WebhookDelivery, WebhookSubscription
from api.queues.models import Appointment, QueueDay, Ticket
from api.ratelimit import RateCounter
from api.services.models import Closure, EventAssignment, ServicePoint
from api.tallies.models import Tally, TallyChange, TallyImport, TallyPolicy, TallyRollup, TallyTotal
from api.visits.models import HomeVisit, HomeVisitEvent, HomeVisitMerge

__all__ = [
    "AccessToken",
    "Allocation",
    "ApiKey",
    "Appointment",
    "Area",
    "AuditEntry",
    "Campaign",
    "Closure",
    "Complaint",
    "ComplaintEntry",
    "ComplaintReporter",
    "Device",
    "EventAssignment",
    "HomeVisit",
    "HomeVisitEvent",
    "HomeVisitMerge",
    "IdempotencyRecord",
    "NotificationEvent",
    "NotificationKey",
    "Operator",
    "OperatorAssignment",
    "QueueDay",
    "RateCounter",
    "ResidentContact",
    "ResidentMessage",
    "Sanction",
    "ServicePoint",
    "Snapshot",
    "Tally",
    "TallyChange",
    "TallyImport",
    "TallyPolicy",
    "TallyRollup",
    "TallyTotal",
    "Target",
    "Ticket",
    "User",
    "WebhookDelivery",
    "WebhookSubscription",
]
