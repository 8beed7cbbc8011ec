"""The article's campaign, replayed in the present.

What the article gives (see the campaign's description): the target of 760,097 residents who must
hold an e-KTP, and the cumulative recordings "as of August" for each of the seven kecamatan and
for the city (554,702, which is 1,216 more than the kecamatan add up to: kept as reported, and
shown as a discrepancy). The article's deadline is "by October" (also "by September").

What the demo assumes: the article's figures are dated 30 days before the day the demo is
loaded, with the deadline 61 days after them (31 August to 31 October); the campaign started 180
days before the snapshots; and the kecamatan targets are the city target apportioned by each
kecamatan's population in the 2010 census (BPS, Sensus Penduduk 2010, published in "Kota
Tangerang Selatan Dalam Angka"), the census nearest to the article's time.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.campaigns import service
from api.campaigns.models import Campaign
from api.campaigns.schemas import ApportionMethod, ApportionRequest, CampaignCreate, SnapshotCreate
from api.principal import SYSTEM
from api.types import AreaLevel

CITY = "36.74"
CITY_TARGET = 760_097
CITY_REPORTED = 554_702
# Recorded "as of August", per kecamatan, as the article reports them.
RECORDED_AS_OF_AUGUST = {
    "36.74.01": 56_458,  # Serpong
    "36.74.02": 55_590,  # Serpong Utara
    "36.74.03": 113_696,  # Pondok Aren
    "36.74.04": 88_649,  # Ciputat
    "36.74.05": 83_059,  # Ciputat Timur
    "36.74.06": 120_268,  # Pamulang
    "36.74.07": 35_766,  # Setu
}
# Population by kecamatan, Sensus Penduduk 2010 (BPS); they sum to the city's 1,290,322.
CENSUS_2010_POPULATION = {
    "36.74.01": 137_212,
    "36.74.02": 126_499,
    "36.74.03": 303_093,
    "36.74.04": 192_205,
    "36.74.05": 178_818,
    "36.74.06": 286_270,
    "36.74.07": 66_225,
}
SNAPSHOT_DAYS_AGO = 30
DEADLINE_AFTER_SNAPSHOT = 61
START_BEFORE_SNAPSHOT = 180

DESCRIPTION = (
    "Kejar Target Tangsel Optimis Selesaikan Program E-KTP. Kota Tangerang Selatan menargetkan "
    "760.097 penduduk wajib e-KTP bisa tercapai hingga Oktober (juga disebut: per September). "
    "Layanan perekaman dibuka hingga Sabtu dan Minggu, sampai tingkat RT/RW yang padat penduduk. "
    "Penambahan alat melalui APBD: 19 alat (10 statis, 9 mobile enrollment) dan 4 alat pinjaman "
    "dari Kota Cilegon, sehingga terdapat 38 alat perekam di kecamatan; 27 operator tambahan. "
    "Hingga per Agustus, 554.702 warga telah melakukan perekaman. Perekaman gratis. "
    "(Demo: angka artikel per Agustus diberi tanggal 30 hari sebelum demo dimuat; tenggat 61 hari sesudahnya.)"
)


@dataclass
class DemoCampaign:
    campaign: Campaign
    snapshot_date: date
    created: bool


async def load(session: AsyncSession, *, today: date) -> DemoCampaign:
    existing = await session.scalar(select(Campaign).where(Campaign.is_demo.is_(True), Campaign.root_area_code == CITY))
    snapshot_date = today - timedelta(days=SNAPSHOT_DAYS_AGO)
    if existing is not None:
        return DemoCampaign(existing, existing.deadline - timedelta(days=DEADLINE_AFTER_SNAPSHOT), created=False)
    campaign = await service.create_campaign(
        session,
        data=CampaignCreate(
            name="Perekaman e-KTP Kota Tangerang Selatan",
            description=DESCRIPTION,
            root_area=CITY,
            start_date=snapshot_date - timedelta(days=START_BEFORE_SNAPSHOT),
            deadline=snapshot_date + timedelta(days=DEADLINE_AFTER_SNAPSHOT),
            target=CITY_TARGET,
            opens_weekends=True,
        ),
        actor=SYSTEM,
        is_demo=True,
    )
    await service.apportion(
        session,
        campaign=campaign,
        request=ApportionRequest(
            parent=CITY,
            level=AreaLevel.kecamatan,
            method=ApportionMethod.weights,
            weights={code: float(population) for code, population in CENSUS_2010_POPULATION.items()},
            basis="jumlah penduduk per kecamatan, BPS Sensus Penduduk 2010",
        ),
        actor=SYSTEM,
    )
    source = "Info Tangsel: perekaman per Agustus"
    for code, recorded in RECORDED_AS_OF_AUGUST.items():
        await service.record_snapshot(
            session, campaign=campaign, data=SnapshotCreate(area=code, as_of=snapshot_date, cumulative=recorded, source=source), actor=SYSTEM
        )
    await service.record_snapshot(
        session, campaign=campaign, data=SnapshotCreate(area=CITY, as_of=snapshot_date, cumulative=CITY_REPORTED, source=source), actor=SYSTEM
    )
    return DemoCampaign(campaign, snapshot_date, created=True)
