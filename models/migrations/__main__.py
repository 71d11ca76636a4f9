"""Alembic's command line on duban's migrations, with no alembic.ini:

    python -m models.migrations revision -m "what changes" [--autogenerate]
    python -m models.migrations check | current | history | upgrade head [--sql]

The database is `DUBAN_DATABASE_URL` (as for every duban command). A new revision is numbered
after the newest (`0003`, ...) unless `--rev-id` is given. To bring a database up to date use
`duban migrate`, which also stamps a database of the release before migrations."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from models.migrations import HEAD, alembic_config


def main(argv: Sequence[str] | None = None) -> None:
    from alembic.config import CommandLine

    cli = CommandLine(prog="python -m models.migrations")
    options = cli.parser.parse_args(argv)
    if not hasattr(options, "cmd"):
        cli.parser.error("too few arguments")
    if options.cmd[0].__name__ == "revision" and not options.rev_id:
        options.rev_id = f"{int(HEAD) + 1:04d}"
    config = alembic_config()
    config.cmd_opts = options
    cli.run_cmd(config, options)


if __name__ == "__main__":
    main(sys.argv[1:])
