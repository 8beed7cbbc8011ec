"""Issue 17, item 2: the migration gives existing API keys an owner and an expiry."""

from datetime import UTC, datetime, timedelta

from alembic import command
from sqlalchemy import text

from api.cli import alembic_config
from tests.conftest import sync_engine_for


def test_existing_keys_get_their_creator_or_the_first_admin_as_owner_and_a_year(fresh_database_url: str) -> None:
    config = alembic_config(fresh_database_url)
    command.upgrade(config, "a9_complaint_notes")
    engine = sync_engine_for(fresh_database_url)
    now = datetime.now(UTC)
    try:
        with engine.begin() as connection:
            for user_id, name, role, area in ((7, "first.admin", "admin", None), (9, "later.admin", "admin", None), (5, "a.viewer", "viewer", None)):
                connection.execute(
                    text(
                        "INSERT INTO users (id, username, display_name, password_hash, role, scope_area_code, active) VALUES (:id, :u, :u, '!', :r, :a, true)"
                    ),
                    {"id": user_id, "u": name, "r": role, "a": area},
                )
            for key_id, creator in ((1, 9), (2, None)):
                connection.execute(
                    text(
                        "INSERT INTO api_keys (id, name, prefix, key_hash, role, created_by_user_id, created_at) VALUES (:id, :n, 'rkk_x', :h, 'admin', :c, :t)"
                    ),
                    {"id": key_id, "n": f"key {key_id}", "h": f"{key_id:064d}", "c": creator, "t": now},
                )
        command.upgrade(config, "head")
        with engine.connect() as connection:
            rows = {row.id: row for row in connection.execute(text("SELECT id, owner_id, expires_at, revoked_at FROM api_keys"))}
            secret = connection.execute(text("SELECT value FROM server_secrets WHERE name = 'hash-key'")).scalar()
        assert (rows[1].owner_id, rows[2].owner_id) == (9, 7)  # the creator; else the first admin
        for row in rows.values():
            expires = row.expires_at if isinstance(row.expires_at, datetime) else datetime.fromisoformat(str(row.expires_at))
            expires = expires if expires.tzinfo else expires.replace(tzinfo=UTC)
            assert abs(expires - (now + timedelta(days=365))) < timedelta(minutes=5) and row.revoked_at is None
        assert secret and len(secret) == 64
        command.downgrade(config, "a9_complaint_notes")
    finally:
        engine.dispose()
