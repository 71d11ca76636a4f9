"""`duban web`: serve the departments' link pages and the coordinator's dashboard."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from cli.exits import EXIT_OK, Refused
from cli.text import db_label
from config.settings import get_settings

if TYPE_CHECKING:
    from cli.exits import Commands


def add_to(commands: Commands, clock: argparse.ArgumentParser) -> None:
    web = commands.add_parser("web", help="serve the departments' link pages and the dashboard")
    web.add_argument("--host", default="127.0.0.1", help="address to listen on")
    web.add_argument("--port", type=int, default=8000, help="port to listen on")
    web.add_argument(
        "--workers", type=int, default=1, help="processes (they share the database and key)"
    )
    web.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from tasks.messages.tokens import secret_key

    if args.workers < 1:
        raise Refused("--workers: give at least 1")
    # Made before the workers start: each would otherwise race to create the link key.
    secret_key()
    settings = get_settings()
    print(f"Link pages and dashboard on http://{args.host}:{args.port}/ ")
    print(f"  links in notices point to {settings.public_url} (DUBAN_PUBLIC_URL)")
    print(f"  database: {db_label(settings.resolved_database_url())}")
    # The client's address counts wrong passwords (`tasks.throttle`): it is the connection's
    # own unless the operator names the proxies whose X-Forwarded-For can be believed.
    proxies = settings.trusted_proxies.strip()
    uvicorn.run(
        "web.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies or None,
        log_level="warning",
        access_log=False,
    )
    return EXIT_OK
