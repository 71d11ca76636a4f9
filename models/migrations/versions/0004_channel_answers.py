"""Channel answers: a message a channel refused as misconfigured is marked, not retried.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02

A chat bot that refuses a message for a wrong token, keyword, signature or IP allow-list will
refuse it again on every retry: such a row is marked `misconfigured`, and neither the backoff
nor a claim takes it. Existing rows are not misconfigured.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("notification", "reportdelivery")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column("misconfigured", sa.Boolean(), nullable=False, server_default=sa.false())
            )


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("misconfigured")
