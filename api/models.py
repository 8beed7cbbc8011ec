"""Every table, imported in one place so that Alembic and the tests see the whole schema."""

from api.areas.models import Area
from api.audit.models import AuditEntry
from api.auth.models import AccessToken, ApiKey, User
from api.campaigns.models import Campaign, Snapshot, Target
from api.complaints.models import Complaint, ComplaintEntry, ComplaintReporter, Sanction
from api.devices.models import Device, Operator
from api.ratelimit import RateCounter
from api.services.models import ServicePoint

__all__ = [
    "AccessToken",
    "ApiKey",
    "Area",
    "AuditEntry",
    "Campaign",
    "Complaint",
    "ComplaintEntry",
    "ComplaintReporter",
    "Device",
    "Operator",
    "RateCounter",
    "Sanction",
    "ServicePoint",
    "Snapshot",
    "Target",
    "User",
]
