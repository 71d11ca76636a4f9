"""The report's tables: each report as made, and its deliveries to the coordinator.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

New tables only; no existing table changes (autogenerate against 0001 finds nothing else).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "campaignreport",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("final", sa.Boolean(), nullable=False),
        sa.Column("which", sa.String(length=16), nullable=False),
        sa.Column("made_at", UTC_DATETIME, nullable=False),
        sa.Column("document", sa.String(), nullable=False),
        sa.Column("document_name", sa.String(), nullable=False),
        sa.Column("subject", sa.String(), nullable=False),
        sa.Column("body", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("campaign_id", "digest"),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"]),
    )
    op.create_table(
        "reportdelivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(), nullable=True),
        sa.Column("next_attempt_at", UTC_DATETIME, nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.Column("sent_at", UTC_DATETIME, nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("report_id", "channel"),
        sa.ForeignKeyConstraint(["report_id"], ["campaignreport.id"]),
    )
    op.create_index("ix_reportdelivery_report_id", "reportdelivery", ["report_id"])


def downgrade() -> None:
    op.drop_table("reportdelivery")
    op.drop_table("campaignreport")
