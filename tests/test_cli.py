"""The operators' commands on a fresh machine."""

import os
import subprocess
import sys


def test_migrate_creates_the_database_folder(tmp_path) -> None:
    database = tmp_path / "not-yet" / "rekam.db"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}"}
    done = subprocess.run([sys.executable, "-m", "api.cli", "migrate"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert database.is_file()
