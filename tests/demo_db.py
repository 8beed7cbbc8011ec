"""A database with the demo and an admin, prepared in a separate process as an operator would."""

import os
import subprocess
import sys

from tests.conftest import migrate


def prepare_demo_and_admin(url: str) -> str:
    """Migrate, load the demo and return an admin's bearer token."""
    script = (
        "import asyncio\n"
        "from api.demo.service import load_demo\n"
        "from api.db import get_sessionmaker, get_engine\n"
        "from api.auth import service\n"
        "from api.types import Role\n"
        "from api.principal import SYSTEM\n"
        "from api.auth.schemas import UserCreate\n"
        "async def main():\n"
        "    await load_demo()\n"
        "    async with get_sessionmaker()() as s, s.begin():\n"
        "        await service.create_user(s, data=UserCreate(username='fuzz-admin', display_name='Fuzz', password='fuzz-password-1', role=Role.admin), actor=SYSTEM)\n"
        "        token, _ = await service.sign_in(s, username='fuzz-admin', password='fuzz-password-1')\n"
        "    await get_engine().dispose()\n"
        "    print(token)\n"
        "asyncio.run(main())\n"
    )
    migrate(url)
    done = subprocess.run([sys.executable, "-c", script], env={**os.environ, "DATABASE_URL": url}, capture_output=True, text=True, check=True)
    return done.stdout.strip().splitlines()[-1]
