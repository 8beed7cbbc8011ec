"""Where to hold the next weekend service: the planner's ranking rule (issue #19).

The article's campaign took recording "down to the dense RT/RW" on Saturdays and Sundays. With
more RW than crews, staff need to know where a weekend service would record the most residents.

Rules
- Residents still to record at an RW (or RT), estimated: what its kelurahan still has to record
  (target minus recorded, never below 0) shared out by population (unit population / kelurahan
  population), never more than the unit's population. A kelurahan without a target counts its
  units' whole population as still to record (nothing says otherwise); without a population of
  its own, the sum of its units' populations stands for it.
- Time since the last service nearby: a weekend service in the same kelurahan on or before the
  planned day took the residents who could come to it. The weight grows with the whole weeks
  since that service, from 0 (the same weekend) to 1 after `FULL_WEIGHT_WEEKS` weeks; 1 when the
  kelurahan never had one.
- Expected yield = residents still to record × weight, rounded down. Ranked by expected yield,
  then residents still to record, then area code (a stable order for equal figures).
- An RW/RT that has its own weekend service on or after the planned day is planned already and
  is not ranked (the caller leaves it out).

The functions here are pure: `api.flows.weekend_plan` gathers the figures (areas and events from
this domain, progress from api.progress, free crew from api.commitments) and calls `rank`.
"""

from dataclasses import dataclass
from datetime import date

FULL_WEIGHT_WEEKS = 4
RULE = (
    "expected yield = residents still to record (the kelurahan's target minus recorded, shared out by population) "
    f"x weight (whole weeks since the last weekend service in the kelurahan / {FULL_WEIGHT_WEEKS}, at most 1; 1 if none)"
)


@dataclass(frozen=True)
class Unit:
    """An RW or RT that could host a weekend service, with its kelurahan's figures."""

    code: str
    name: str
    population: int
    kelurahan: str
    kelurahan_population: int
    kelurahan_remaining: int | None  # None: the kelurahan has no target
    last_service_nearby: date | None


@dataclass(frozen=True)
class Ranked:
    unit: Unit
    still_to_record: int
    weight: float
    expected_yield: int


def still_to_record(unit: Unit) -> int:
    """The unit's share of its kelurahan's remaining residents, by population."""
    if unit.kelurahan_remaining is None:
        return unit.population
    if unit.kelurahan_population <= 0:
        return 0
    share = max(unit.kelurahan_remaining, 0) * unit.population // unit.kelurahan_population
    return min(share, unit.population)


def weight(last_service_nearby: date | None, day: date) -> float:
    """0 for a service nearby the same weekend, rising by a quarter a week to 1; 1 without one."""
    if last_service_nearby is None:
        return 1.0
    weeks = max((day - last_service_nearby).days, 0) // 7
    return min(weeks / FULL_WEIGHT_WEEKS, 1.0)


def rank(units: list[Unit], *, day: date) -> list[Ranked]:
    """The units by expected yield, highest first (then still to record, then code)."""
    ranked = []
    for unit in units:
        remaining = still_to_record(unit)
        w = weight(unit.last_service_nearby, day)
        ranked.append(Ranked(unit=unit, still_to_record=remaining, weight=w, expected_yield=int(remaining * w)))
    return sorted(ranked, key=lambda r: (-r.expected_yield, -r.still_to_record, r.unit.code))
