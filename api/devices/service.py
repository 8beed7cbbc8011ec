"""Devices, loans, operators, where they are, and where they should go: the domain's face.

The router, the demo and other domains (complaints' sanctions) call this module; the rules live
in the modules it gathers, each stating its own:
- `fleet`: devices, loans, the device state machine, allocating a device;
- `operators`: operators, their status, personal data, posting an operator;
- `placements`: one place at a time, ending places, what stands where on a day, the summary;
- `capacity`: each kecamatan's capacity, days left and projected finish;
- `planning`: the allocation plan and applying it.
Whether a device or an operator is free on a day (allocations, weekend services, home visits)
and whether a device is usable are api.commitments', which every domain asks.
"""

from api.devices.capacity import capacity, projected_finish
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
    "allocate_device", "apply_plan", "assign_operator", "capacity", "change_operator_status", "create_device", "create_operator",
    "device_history", "device_reads", "get_device", "get_device_row", "get_operator", "get_operator_row", "kecamatan_of",
    "list_devices", "list_operators", "loan_overdue", "mask_phone", "operator_history", "operator_reads", "placements_on", "plan",
    "plan_greedy", "projected_finish", "running_capacity", "summary", "update_device", "update_operator",
]  # fmt: skip
