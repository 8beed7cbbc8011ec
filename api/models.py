"""Every table, imported in one place so that Alembic and the tests see the whole schema."""

from api.areas.models import Area
from api.audit.models import AuditEntry
from api.auth.models import AccessToken, ApiKey, User
from api.campaigns.models import Campaign, Snapshot, Target
from api.devices.models import Device, Operator
from api.queues.models import Appointment, QueueDay, Ticket
from api.services.models import Closure, EventAssignment, ServicePoint

__all__ = [
    "AccessToken", "ApiKey", "Appointment", "Area", "AuditEntry", "Campaign", "Closure", "Device", "EventAssignment",
    "Operator", "QueueDay", "ServicePoint", "Snapshot", "Target", "Ticket", "User",
]
