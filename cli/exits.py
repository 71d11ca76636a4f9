"""How a `duban` command ends: its exit code, and the refusal of bad input that ends it with
`EXIT_BAD_INPUT` (`cli.main` prints it, in one line, with the other errors it maps)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

EXIT_OK, EXIT_FAILED_SENDS, EXIT_BAD_INPUT = 0, 1, 2

if TYPE_CHECKING:
    # What `cli.main` hands each command module to add its subcommand to.
    Commands = argparse._SubParsersAction[argparse.ArgumentParser]


class Refused(Exception):
    """Bad input or an unusable place, said in one line after `duban: `; nothing was done."""
