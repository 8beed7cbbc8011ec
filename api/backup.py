"""`rekam backup PATH` and `rekam restore PATH`.

SQLite: the online backup API copies a consistent image while the server keeps running.
PostgreSQL: pg_dump's custom format, restored with pg_restore --clean (the server tools must be on
PATH or under /usr/lib/postgresql/*/bin, of a version at least the server's).
"""

import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import URL

from api.db import sync_url


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0)
    if not candidates:
        raise RuntimeError(f"{name} not found; install the PostgreSQL client tools")
    return str(candidates[-1])


def _libpq_url(url: URL) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def backup(database_url: str, path: Path) -> Path:
    url = sync_url(database_url)
    path.parent.mkdir(parents=True, exist_ok=True)
    if url.get_backend_name() == "sqlite":
        source = sqlite3.connect(url.database or "")
        target = sqlite3.connect(path)
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
    else:
        subprocess.run([_pg_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={path}", f"--dbname={_libpq_url(url)}"], check=True)
    return path


def restore(database_url: str, path: Path) -> None:
    """Replace the database's contents with the backup's. Stop the API first."""
    if not path.is_file():
        raise FileNotFoundError(path)
    url = sync_url(database_url)
    if url.get_backend_name() == "sqlite":
        source = sqlite3.connect(path)
        target = sqlite3.connect(url.database or "")
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
    else:
        subprocess.run(
            [_pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction", f"--dbname={_libpq_url(url)}", str(path)],
            check=True,
        )
