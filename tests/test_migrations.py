"""The migrations build exactly the models' schema, and every revision can be undone."""

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

import api.models  # noqa: F401
from api.cli import alembic_config
from api.db import Base, configure_sqlite, sync_url


def _diff(url: str) -> list:
    engine = create_engine(sync_url(url))
    if engine.dialect.name == "sqlite":
        configure_sqlite(engine, 1000)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()


def _tables(url: str) -> set[str]:
    engine = create_engine(sync_url(url))
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_matches_models_and_round_trips(fresh_database_url: str) -> None:
    fresh_url = fresh_database_url
    config = alembic_config(fresh_url)
    command.upgrade(config, "head")
    assert _diff(fresh_url) == []
    command.downgrade(config, "base")
    assert _tables(fresh_url) <= {"alembic_version"}
    command.upgrade(config, "head")
    assert _diff(fresh_url) == []
