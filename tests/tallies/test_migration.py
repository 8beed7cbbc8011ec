"""Migrating an existing database (b3_tally_precedence) keeps every figure except double counts.

Before it, a posted official figure and the queue tickets of the same office and day were added up;
after it, the official figure supersedes them. Figures without a double count stay as they were.
Hand-computed, on the backend under test."""

from datetime import date, datetime

from alembic import command
from sqlalchemy import create_engine, text

from api.cli import alembic_config
from api.db import configure_sqlite, sync_url

D1, D2 = date(2026, 8, 1), date(2026, 8, 2)
AREAS = [
    ("0", "Indonesia", "negara", None),
    ("36", "Banten", "provinsi", "0"),
    ("36.74", "Kota Tangerang Selatan", "kabkota", "36"),
    ("36.74.01", "Serpong", "kecamatan", "36.74"),
    ("36.74.01.1001", "Lengkong Gudang", "kelurahan", "36.74.01"),
    ("36.74.02", "Serpong Utara", "kecamatan", "36.74"),
    ("36.74.02.1001", "Pakualam", "kelurahan", "36.74.02"),
]
# (area, day, point, count, source): the old natural key had no origin, so the queue tally has a point.
TALLIES = [
    ("36.74.01", D1, None, 100, "script"),
    ("36.74.01", D1, 1, 4, "queue"),  # the double count: 104 before
    ("36.74.02.1001", D1, None, 3, "queue"),  # no official figure: provisional
    ("36.74.01", D2, None, 50, "manual"),
    ("36.74.01.1001", D2, None, 2, "home_visit"),  # superseded, never added
]
# The old rule's rollups (own tallies stand for the subtree; every source alike): (area, day) -> (own, own_rows, below, total).
OLD = {
    ("36.74.01", D1): (104, 2, 0, 104),
    ("36.74.02.1001", D1): (3, 1, 0, 3),
    ("36.74.02", D1): (0, 0, 3, 3),
    ("36.74", D1): (0, 0, 107, 107),
    ("36.74.01.1001", D2): (2, 1, 0, 2),
    ("36.74.01", D2): (50, 1, 2, 50),
    ("36.74", D2): (0, 0, 50, 50),
}


def _engine(url: str):
    engine = create_engine(sync_url(url))
    if engine.dialect.name == "sqlite":
        configure_sqlite(engine, 1000)
    return engine


def test_upgrade_removes_double_counts_and_keeps_every_other_figure(fresh_database_url: str) -> None:
    config = alembic_config(fresh_database_url)
    command.upgrade(config, "b2_notifications")
    engine = _engine(fresh_database_url)
    now = datetime(2026, 8, 3, 1, 0)
    try:
        with engine.begin() as db:
            for code, name, level, parent in AREAS:
                db.execute(text("INSERT INTO areas (code, name, level, parent_code) VALUES (:c, :n, :l, :p)"), {"c": code, "n": name, "l": level, "p": parent})
            db.execute(
                text("INSERT INTO campaigns (id, name, root_area_code, start_date, deadline, target, timezone, opens_weekends, is_demo, data_version, history_version) "
                     "VALUES (1, 'Tangsel', '36.74', :s, :e, 760097, 'Asia/Jakarta', true, false, 0, 0)"),
                {"s": date(2026, 7, 1), "e": date(2026, 10, 31)},
            )  # fmt: skip
            db.execute(
                text(
                    "INSERT INTO service_points (id, kind, name, area_code, counters, opening_hours, active) VALUES (1, 'kecamatan_office', 'Kantor', '36.74.01', 2, '{}', true)"
                )
            )
            for area, day, point, count, source in TALLIES:
                db.execute(
                    text("INSERT INTO tallies (campaign_id, area_code, day, service_point_id, point_key, device_key, count, source, updated_at) "
                         "VALUES (1, :a, :d, :p, :pk, 0, :n, :s, :at)"),
                    {"a": area, "d": day, "p": point, "pk": point or 0, "n": count, "s": source, "at": now},
                )  # fmt: skip
            for (area, day), (own, rows, below, total) in OLD.items():
                db.execute(
                    text("INSERT INTO tally_rollups (campaign_id, area_code, day, own, own_rows, below, total) VALUES (1, :a, :d, :o, :r, :b, :t)"),
                    {"a": area, "d": day, "o": own, "r": rows, "b": below, "t": total},
                )
        command.upgrade(config, "head")
        with engine.connect() as db:
            rollups = {
                (area, date.fromisoformat(str(day)[:10])): (total, provisional)
                for area, day, total, provisional in db.execute(text("SELECT area_code, day, total, provisional FROM tally_rollups"))
            }
            totals = {area: (total, provisional) for area, total, provisional in db.execute(text("SELECT area_code, total, provisional FROM tally_totals"))}
            origins = sorted(db.execute(text("SELECT source, origin_key FROM tallies")).all())
        figure = {key: official + provisional for key, (official, provisional) in rollups.items()}
        # Serpong on D1 was 104 (100 + its own 4 tickets): now 100; the city drops by those 4 only.
        assert figure[("36.74.01", D1)] == 100 and rollups[("36.74.01", D1)] == (100, 0)
        assert figure[("36.74", D1)] == 103 and rollups[("36.74", D1)] == (100, 3)
        # Every other figure stays: Serpong Utara's 3 (now provisional), D2's 50 (the visit superseded, as it was).
        assert figure[("36.74.02", D1)] == 3 and figure[("36.74.02.1001", D1)] == 3
        assert figure[("36.74.01", D2)] == 50 and figure[("36.74", D2)] == 50 and figure[("36.74.01.1001", D2)] == 2
        changed = {key for key, (_, _, _, old) in OLD.items() if figure.get(key) != old}
        assert changed == {("36.74.01", D1), ("36.74", D1)}
        assert totals["36.74"] == (153, 3) and totals["36.74.01"] == (150, 0)  # `total` is the figure, `provisional` its part
        assert origins == [("home_visit", 2), ("manual", 0), ("queue", 1), ("queue", 1), ("script", 0)]
        command.downgrade(config, "b2_notifications")  # and back: the old rule's rollups again
        with engine.connect() as db:
            back = {
                (a, date.fromisoformat(str(d)[:10])): (o, r, b, t)
                for a, d, o, r, b, t in db.execute(text("SELECT area_code, day, own, own_rows, below, total FROM tally_rollups"))
            }
        assert back == OLD
    finally:
        engine.dispose()
