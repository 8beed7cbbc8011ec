"""`rekam`: the command line for the people who run the system."""

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from api.config import PROJECT_ROOT, get_settings


def alembic_config(database_url: str | None = None) -> Any:
    from alembic.config import Config

    for candidate in (PROJECT_ROOT / "migrations", Path.cwd() / "migrations"):
        if (candidate / "env.py").is_file():
            break
    else:
        raise SystemExit("rekam: cannot find the migrations folder")
    config = Config()
    config.set_main_option("script_location", str(candidate))
    config.attributes["database_url"] = database_url or get_settings().database_url
    return config


def cmd_migrate(args: argparse.Namespace) -> int:
    from alembic import command

    command.upgrade(alembic_config(), args.revision)
    print(f"rekam: database at revision {args.revision}")
    return 0


async def _with_connection(work: Any) -> Any:
    from api.db import get_engine

    engine = get_engine()
    try:
        async with engine.begin() as connection:
            return await work(connection)
    finally:
        await engine.dispose()


def cmd_areas_load(args: argparse.Namespace) -> int:
    from api.areas import service

    async def work(connection: Any) -> int:
        return await service.load_official(connection, prefix=args.prefix)

    count = asyncio.run(_with_connection(work))
    print(f"rekam: {count} areas loaded{' under ' + args.prefix if args.prefix else ''}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from api.demo.service import load_demo

    for line in asyncio.run(load_demo()):
        print(line)
    return 0


def cmd_tallies_post(args: argparse.Namespace) -> int:
    import os

    from api.tallies.client import post_file

    api_key = os.environ.get("REKAM_API_KEY")
    if not api_key:
        print("rekam: set REKAM_API_KEY to an API key of a supervisor or admin", file=sys.stderr)
        return 2
    path = Path(args.file)
    if not path.is_file():
        print(f"rekam: no such file: {path}", file=sys.stderr)
        return 2
    return post_file(
        path, campaign_id=args.campaign, url=args.url, api_key=api_key, chunk_rows=args.chunk_rows,
        mode=args.mode, atomic=not args.partial, dry_run=args.dry_run,
    )


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    uvicorn.run(
        "api.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        reload=args.reload,
        proxy_headers=True,
        access_log=False,
        log_level="warning",
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rekam", description="Run Rekam, the e-KTP recording campaign system.")
    commands = parser.add_subparsers(dest="command", required=True)

    migrate = commands.add_parser("migrate", help="bring the database schema up to date")
    migrate.add_argument("revision", nargs="?", default="head")
    migrate.set_defaults(func=cmd_migrate)

    areas = commands.add_parser("areas", help="official area codes").add_subparsers(dest="areas_command", required=True)
    load = areas.add_parser("load", help="load the official Kemendagri area list (idempotent)")
    load.add_argument("--prefix", help="only this code's subtree and its ancestors, e.g. 36.74")
    load.set_defaults(func=cmd_areas_load)

    demo = commands.add_parser("demo", help="load the Kota Tangerang Selatan demo (idempotent)")
    demo.set_defaults(func=cmd_demo)

    tallies = commands.add_parser("tallies", help="daily tallies").add_subparsers(dest="tallies_command", required=True)
    post = tallies.add_parser("post", help="send a tally file (CSV or .json) in chunks; API key from REKAM_API_KEY")
    post.add_argument("file")
    post.add_argument("--campaign", type=int, required=True)
    post.add_argument("--url", default="http://127.0.0.1:8000")
    post.add_argument("--chunk-rows", type=int, default=50_000)
    post.add_argument("--mode", choices=["upsert", "replace"], default="upsert")
    post.add_argument("--partial", action="store_true", help="apply valid rows even when some are rejected (atomic=false)")
    post.add_argument("--dry-run", action="store_true")
    post.set_defaults(func=cmd_tallies_post)

    serve = commands.add_parser("serve", help="serve the API and the frontend")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--reload", action="store_true")
    serve.set_defaults(func=cmd_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
