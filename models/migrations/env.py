"""Alembic's environment for duban, configured by `models.migrations.alembic_config`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from models.migrations import OPTIONS, locked


def run(connection: Connection) -> None:
    context.configure(connection=connection, **OPTIONS)
    # Inside the caller's transaction (duban's lock), this opens none of its own.
    with context.begin_transaction():
        context.run_migrations()


def main() -> None:
    config = context.config
    if context.is_offline_mode():  # --sql: the statements are written out, nothing is run
        url = config.attributes.get("url")
        if url is None:
            from config.settings import get_settings

            url = get_settings().resolved_database_url()
        # In one transaction on SQLite too, as it runs online.
        context.configure(url=url, literal_binds=True, transactional_ddl=True, **OPTIONS)
        with context.begin_transaction():
            context.run_migrations()
        return
    connection = config.attributes.get("connection")
    if connection is not None:
        run(connection)
        return
    # Alembic's own command line: a connection of its own, under the same lock.
    from models.db import make_engine

    engine = make_engine(config.attributes.get("url"))
    try:
        with locked(engine) as connection:
            run(connection)
    finally:
        engine.dispose()


main()
