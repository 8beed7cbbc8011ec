"""Capacity: can each kecamatan finish by the deadline with what stands there?

Rules
- Capacity view per kecamatan: remaining = target - recorded (campaign progress, which the caller
  reads: api.flows, since progress is above the devices); service days
  left = days after `as_of` up to the deadline, Saturdays and Sundays included when the campaign
  opens on weekends (public holidays are not modelled; api.calendar counts them); required per
  day = remaining / days left, rounded up; feasible when capacity × days left covers the
  remaining. `as_of` picks the day whose placements count and from which days are counted; the
  remaining is the latest progress.
- Capacity per day is the running capacity of `placements` (one operator per active device,
  largest first). A campaign root below kecamatan level is one unit.
- Projected finish: the last service day after `as_of` needed to record the remaining at that
  capacity; never (null) without capacity, and beyond a century.
"""

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from api import calendar
from api.areas import service as areas
from api.campaigns.models import Campaign
from api.devices.placements import KECAMATAN_DEPTH, PlacedDevice, Placements, active_capacities, kecamatan_of, placements_on, running_capacity
from api.devices.schemas import CapacityRead, KecamatanCapacity


def projected_finish(after: date, remaining: int, capacity: int, *, weekends: bool) -> date | None:
    """The last service day needed to record `remaining` at `capacity` a day; None if never."""
    if remaining <= 0:
        return after
    if capacity <= 0:
        return None
    return calendar.nth_service_day(after + timedelta(days=1), math.ceil(remaining / capacity), weekends=weekends)


@dataclass(frozen=True)
class Remaining:
    """What a campaign unit (a kecamatan, or the root below one) still has to record."""

    code: str
    name: str
    remaining: int


def _unit_of(code: str, root: str) -> str | None:
    """The campaign unit (kecamatan) a placement counts for; a root below kecamatan is one unit."""
    if not areas.is_within(code, root):
        return root if areas.is_within(root, code) and areas.depth_of(root) > KECAMATAN_DEPTH else None
    return root if areas.depth_of(root) > KECAMATAN_DEPTH else kecamatan_of(code)


async def capacity(session: AsyncSession, *, campaign: Campaign, remaining: list[Remaining], as_of: date | None = None) -> CapacityRead:
    as_of = as_of or calendar.today(campaign.timezone)
    state = await capacity_state(session, campaign=campaign, remaining=remaining, as_of=as_of)
    rows = []
    for unit in state.units:
        cap = running_capacity(unit.active_capacities, len(unit.operator_ids))
        days = state.days_left
        required = math.ceil(unit.remaining / days) if days > 0 else None
        feasible = unit.remaining == 0 or cap * days >= unit.remaining
        if required is None:
            shortfall, slack = (0 if unit.remaining == 0 else unit.remaining), (cap if unit.remaining == 0 else 0)
        else:
            shortfall, slack = max(required - cap, 0), max(cap - required, 0)
        rows.append(
            KecamatanCapacity(
                code=unit.code,
                name=unit.name,
                remaining=unit.remaining,
                service_days_left=days,
                active_devices=len(unit.active_capacities),
                operators=len(unit.operator_ids),
                capacity_per_day=cap,
                required_per_day=required,
                feasible=feasible,
                shortfall_per_day=shortfall,
                slack_per_day=slack,
                projected_finish=projected_finish(as_of, unit.remaining, cap, weekends=campaign.opens_weekends),
            )
        )
    return CapacityRead(campaign_id=campaign.id, as_of=as_of, deadline=campaign.deadline, service_days_left=state.days_left, kecamatan=rows)


@dataclass
class UnitState:
    code: str
    name: str
    remaining: int
    devices: list[PlacedDevice]
    operator_ids: list[int]

    @property
    def active_capacities(self) -> list[int]:
        return active_capacities(self.devices)


@dataclass
class CapacityState:
    as_of: date
    days_left: int
    units: list[UnitState]
    placements: Placements


async def capacity_state(session: AsyncSession, *, campaign: Campaign, remaining: list[Remaining], as_of: date) -> CapacityState:
    placements = await placements_on(session, day=as_of)
    root = campaign.root_area_code
    devices: dict[str, list[PlacedDevice]] = defaultdict(list)
    operators: dict[str, list[int]] = defaultdict(list)
    for kecamatan, placed in placements.devices.items():
        for device in placed:
            unit = _unit_of(device.area_code or kecamatan, root)
            if unit:
                devices[unit].append(device)
    for kecamatan, ids in placements.operators.items():
        unit = _unit_of(kecamatan, root)
        if unit:
            operators[unit].extend(ids)
    units = [UnitState(u.code, u.name, u.remaining, devices.get(u.code, []), operators.get(u.code, [])) for u in remaining]
    return CapacityState(as_of, calendar.service_days(as_of + timedelta(days=1), campaign.deadline, weekends=campaign.opens_weekends), units, placements)
