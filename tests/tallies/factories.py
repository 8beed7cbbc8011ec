"""Data for the tallies tests."""

from datetime import date
from itertools import count
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from api.devices.models import Device

_serial = count(1)


async def make_device(session: AsyncSession, *, daily_capacity: int = 80) -> Device:
    device = Device(serial=f"TEST-{next(_serial):05d}", kind="static", owner="apbd", daily_capacity=daily_capacity)
    session.add(device)
    await session.flush()
    return device


def rows(figures: dict[str, int], day: date, **extra: Any) -> list[dict[str, Any]]:
    return [{"area": area, "date": day.isoformat(), "count": value, **extra} for area, value in figures.items()]


async def post(client: httpx.AsyncClient, campaign_id: int, tallies: list[dict[str, Any]], headers: dict[str, str], **params: Any) -> httpx.Response:
    return await client.post(f"/api/v1/campaigns/{campaign_id}/tallies", json={"tallies": tallies}, headers=headers, params=params)


async def post_csv(client: httpx.AsyncClient, campaign_id: int, body: str | bytes, headers: dict[str, str], **params: Any) -> httpx.Response:
    content = body.encode() if isinstance(body, str) else body
    return await client.post(f"/api/v1/campaigns/{campaign_id}/tallies", content=content, headers={**headers, "content-type": "text/csv"}, params=params)
