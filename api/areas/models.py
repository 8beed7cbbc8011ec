from sqlalchemy import CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from api.db import AreaCode, Base


class Area(Base):
    """An administrative area under its official Kemendagri code, or an RW/RT added by staff."""

    __tablename__ = "areas"
    __table_args__ = (
        CheckConstraint("level IN ('negara','provinsi','kabkota','kecamatan','kelurahan','rw','rt')", name="level"),
        CheckConstraint("(parent_code IS NULL) = (level = 'negara')", name="parent_unless_country"),
        CheckConstraint("population IS NULL OR population >= 0", name="population_not_negative"),
    )

    code: Mapped[str] = mapped_column(AreaCode, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(12))
    parent_code: Mapped[str | None] = mapped_column(AreaCode, ForeignKey("areas.code"), index=True)
    # Residents, where known: weights for apportioning targets and for finding dense RT/RW.
    population: Mapped[int | None] = mapped_column(Integer)
