"""A submission's headline: the line the report gives the unit's section (「县市场监管局：…」),
written by the unit on its link page; optional.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02

One nullable column: summaries submitted before it have none, and the report takes their
first sentence instead.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("submission") as table:
        table.add_column(sa.Column("headline", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("submission") as table:
        table.drop_column("headline")
