"""Devices, loans, operators, where they are, and where they should go: the domain's face.

The router, the demo and other domains (complaints' sanctions) call this module; the rules live
in the modules it gathers, each stating its own:
- `fleet`: devices, loans, the device state machine, allocating a device;
- `operators`: operators, their status, personal data, posting an operator;
- `placements`: one place at a time, ending places, what stands where on a day, the summary;
- `capacity`: each kecamatan's capacity, days left and projected finish;
- `planning`: the allocation plan and applying it.
- `availability`: where a device or an operator stands on a day by these records, whether it is
  usable and free, and the resource scope of booking it.
Whether it may be booked for a weekend service or at a service point, weighing the other domains'
bookings too, is api.commitments'.
"""

from api.devices.availability import (
    covering,
    device_usable,
    ensure_crew_in_scope,
    is_device_free,
    is_operator_free,
    operator_usable,
    posted_areas,
)
from api.devices.capacity import Remaining, capacity, projected_finish
from api.devices.fleet import (
    allocate_device,
    create_device,
    device_history,
    device_reads,
    get_device,
    get_device_row,
    list_devices,
    loan_overdue,
    update_device,
)
from api.devices.operators import (
    assign_operator,
    change_operator_status,
    create_operator,
    get_operator,
    get_operator_row,
    list_operators,
    mask_phone,
    operator_history,
    operator_reads,
    update_operator,
)
from api.devices.placements import kecamatan_of, placements_on, running_capacity, summary
from api.devices.planning import apply_plan, plan, plan_greedy

__all__ = [
    "allocate_device", "apply_plan", "covering", "device_usable", "ensure_crew_in_scope", "is_device_free", "is_operator_free",
    "operator_usable", "posted_areas", "assign_operator", "capacity", "change_operator_status", "create_device", "create_operator",
    "device_history", "device_reads", "get_device", "get_device_row", "get_operator", "get_operator_row", "kecamatan_of",
    "list_devices", "list_operators", "loan_overdue", "mask_phone", "operator_history", "operator_reads", "placements_on", "plan",
    "plan_greedy", "projected_finish", "Remaining", "running_capacity", "summary", "update_device", "update_operator",
]  # fmt: skip
