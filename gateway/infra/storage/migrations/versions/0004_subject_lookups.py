"""subject lookups: members' queries by subject id, registered

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "subject_lookups",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("requester", sa.String(length=42), nullable=False),
        sa.Column("subject_ref", sa.LargeBinary(length=32), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("purpose", sa.String(length=200), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("subject_lookups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_subject_lookups_requester"), ["requester"], unique=False)
        batch_op.create_index(batch_op.f("ix_subject_lookups_subject_ref"), ["subject_ref"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("subject_lookups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subject_lookups_subject_ref"))
        batch_op.drop_index(batch_op.f("ix_subject_lookups_requester"))
    op.drop_table("subject_lookups")
