"""Every table, imported in one place so that Alembic and the tests see the whole schema."""

from api.areas.models import Area
from api.audit.models import AuditEntry
from api.auth.models import AccessToken, ApiKey, User
from api.campaigns.models import Campaign, Snapshot, Target
from api.devices.models import Device, Operator
from api.idempotency import IdempotencyRecord
from api.services.models import ServicePoint
from api.tallies.models import Tally, TallyChange, TallyImport, TallyRollup

__all__ = [
    "AccessToken", "ApiKey", "Area", "AuditEntry", "Campaign", "Device", "IdempotencyRecord", "Operator", "ServicePoint", "Snapshot",
    "Tally", "TallyChange", "TallyImport", "TallyRollup", "Target", "User",
]
