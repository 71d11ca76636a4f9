"""Sign-in: sessions kept on the server, and failed sign-ins counted for throttling.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02

New tables only. Cookies made before this revision name no session row: their holders sign
in again.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "coordinatorsession",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("coordinator_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("last_seen_at", UTC_DATETIME, nullable=False),
        sa.Column("revoked_at", UTC_DATETIME, nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.ForeignKeyConstraint(["coordinator_id"], ["coordinator.id"]),
    )
    op.create_index(
        "ix_coordinatorsession_coordinator_id", "coordinatorsession", ["coordinator_id"]
    )
    op.create_table(
        "signinfailures",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_at", UTC_DATETIME, nullable=False),
        sa.Column("locked_until", UTC_DATETIME, nullable=True),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index("ix_signinfailures_last_at", "signinfailures", ["last_at"])


def downgrade() -> None:
    op.drop_table("signinfailures")
    op.drop_table("coordinatorsession")
