"""Backups round-trip the demo plus a day of activity, on SQLite and PostgreSQL."""

from datetime import timedelta

from sqlalchemy import func, select

from api.audit.models import AuditEntry
from api.campaigns import service as campaigns
from api.campaigns.models import Campaign
from api.campaigns.schemas import SnapshotCreate
from api.cli import main
from api.db import get_engine, get_sessionmaker
from api.demo.service import load_demo
from api.principal import SYSTEM
from api.progress import service as progress_service


async def _state() -> tuple[int, int, int]:
    async with get_sessionmaker()() as session:
        campaign = await session.scalar(select(Campaign).where(Campaign.is_demo.is_(True)))
        node = await progress_service.progress(session, campaign=campaign, depth=1)
        audits = await session.scalar(select(func.count()).select_from(AuditEntry))
        return campaign.id, node.recorded, audits


async def _a_day_of_activity(cumulative: int) -> None:
    async with get_sessionmaker()() as session, session.begin():
        campaign = await session.scalar(select(Campaign).where(Campaign.is_demo.is_(True)))
        today = campaigns.today_for(campaign)
        await campaigns.record_snapshot(
            session, campaign=campaign, data=SnapshotCreate(area="36.74", as_of=today - timedelta(days=1), cumulative=cumulative), actor=SYSTEM
        )


async def test_backup_and_restore_round_trip(configured_database: str, tmp_path) -> None:
    await load_demo()
    await _a_day_of_activity(600_000)
    before = await _state()
    assert before[1] == 600_000
    backup_path = tmp_path / "rekam.backup"
    await get_engine().dispose()
    assert main(["backup", str(backup_path)]) == 0
    assert backup_path.stat().st_size > 0
    await _a_day_of_activity(650_000)
    assert (await _state())[1] == 650_000
    await get_engine().dispose()
    assert main(["restore", str(backup_path)]) == 0
    assert await _state() == before
    await get_engine().dispose()
