"""What the report says besides the figures: a submission's headline, the line the report
gives the unit's section (「县市场监管局：…」), written by the unit on its link page; and the
coordinator's notes for the report (存在的问题, 下一步, the units commended).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02

A nullable column (summaries submitted before it have none, and the report takes their first
sentence instead) and a new table.
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
    op.create_table(
        "reportnotes",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("problems", sa.String(), nullable=False),
        sa.Column("next_steps", sa.String(), nullable=False),
        sa.Column("commended", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("campaign_id"),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"]),
    )


def downgrade() -> None:
    op.drop_table("reportnotes")
    with op.batch_alter_table("submission") as table:
        table.drop_column("headline")
