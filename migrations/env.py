"""Alembic environment: the URL comes from the app's settings (DATABASE_URL) unless given."""

from alembic import context
from sqlalchemy import create_engine, pool

import api.models  # noqa: F401 - registers every table on Base.metadata
from api.config import get_settings
from api.db import Base, configure_sqlite, ensure_sqlite_directory, sync_url

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    return config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url") or get_settings().database_url


def run_offline() -> None:
    context.configure(url=str(sync_url(_url())), target_metadata=target_metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = sync_url(_url())
    engine = create_engine(url, poolclass=pool.NullPool)
    if url.get_backend_name() == "sqlite":
        ensure_sqlite_directory(url)
        configure_sqlite(engine, get_settings().sqlite_busy_timeout_ms)
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _run(connection) -> None:  # noqa: ANN001
    # Batch mode lets ALTER TABLE work on SQLite (copy-and-move); PostgreSQL alters in place.
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
